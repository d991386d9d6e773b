// What is not a purenn model folder gets an error saying what it is and which function reads
// it; unknown fields of model.json are refused unless under "optional" (docs/format.md).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { key } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import {
  dense,
  initModel,
  loadModel,
  loadTfjsModel,
  publishedModelFolder,
  saveModel,
  saveTfjsModel,
  sequential,
} from '../src/index.js'

const scratch = () => mkdtempSync(join(tmpdir(), 'formats-'))
const model = () => initModel(sequential([dense({ units: 2 })], { inputShape: [3] }), { key: key(0) })

describe('loadModel and loadTfjsModel say what a file is', () => {
  const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0])
  const hdf5 = new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0])

  it('a .keras zip', async () => {
    const file = join(scratch(), 'm.keras')
    writeFileSync(file, zip)
    await expect(loadModel(file)).rejects.toThrow(
      `${file}: a zip file, such as a Keras 3 .keras file: read .keras files with loadKerasModel of @purenn/keras`,
    )
    await expect(loadTfjsModel(file)).rejects.toThrow(
      `loadTfjsModel: ${file} is a zip file, such as a Keras 3 .keras file`,
    )
  })

  it('an HDF5 .h5 file', async () => {
    const file = join(scratch(), 'm.h5')
    writeFileSync(file, hdf5)
    await expect(loadModel(file)).rejects.toThrow(
      /an HDF5 file, such as a Keras .h5 file: read it with loadKerasModel/,
    )
  })

  it('an ONNX file and a model.json given instead of its folder', async () => {
    const dir = scratch()
    writeFileSync(join(dir, 'm.onnx'), new Uint8Array([8, 8, 18, 6]))
    await expect(loadModel(join(dir, 'm.onnx'))).rejects.toThrow(/an ONNX file: purenn writes ONNX/)
    writeFileSync(join(dir, 'model.json'), '{"format": "purenn-model"}')
    await expect(loadModel(join(dir, 'model.json'))).rejects.toThrow(
      /a JSON file: a purenn model is the folder that holds model.json/,
    )
  })

  it('a TF.js model folder given to loadModel', async () => {
    const dir = join(scratch(), 'tfjs')
    await saveTfjsModel(model(), dir)
    await expect(loadModel(dir)).rejects.toThrow(
      'model.json: a TF.js model (it has modelTopology): read it with loadTfjsModel',
    )
  })
})

describe('model.json compatibility policy', () => {
  const edit = async (change: (json: Record<string, unknown>) => void) => {
    const dir = join(scratch(), 'm')
    await saveModel(model(), dir)
    const folder = await publishedModelFolder(dir)
    const path = join(folder, 'model.json')
    const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
    change(json)
    writeFileSync(path, JSON.stringify(json))
    expect((await readdir(folder)).sort()).toEqual(['model.json', 'weights.bin'])
    return dir
  }

  it('an unknown top-level field is an error naming it', async () => {
    const dir = await edit((j) => {
      j.quantization = 'int8'
    })
    await expect(loadModel(dir)).rejects.toThrow(
      /model.json: quantization: unknown field \(format version 2 has format, formatVersion/,
    )
  })

  it('an unknown field of a weight is an error naming the weight', async () => {
    const dir = await edit((j) => {
      ;(j.weights as Record<string, unknown>[])[1]!.scale = 0.5
    })
    await expect(loadModel(dir)).rejects.toThrow('model.json: weights[1].scale: unknown field')
  })

  it('an unknown field of a layer config is an error naming the layer and the field', async () => {
    const dir = await edit((j) => {
      const arch = j.architecture as { config: { layers: { config: Record<string, unknown> }[] } }
      arch.config.layers[0]!.config.quantizationMode = 'int8'
    })
    await expect(loadModel(dir)).rejects.toThrow(
      /architecture: layers\[0\]\.config\.quantizationMode: unknown field of a Dense config \(it has units, activation/,
    )
  })

  it('fields under "optional" are skipped', async () => {
    const dir = await edit((j) => {
      j.optional = { savedBy: 'a newer purenn', notes: [1, 2] }
    })
    const back = await loadModel(dir)
    expect(
      Array.from((back.params as { dense: { kernel: { data: Float32Array } } }).dense.kernel.data),
    ).toEqual(Array.from(model().params.dense.kernel.data))
  })
})
