// Keras files both ways. The fixtures were written by real Keras 3.15 / TensorFlow 2.21
// (scripts/fixtures/keras-fixtures.py write) with Keras' own predictions on fixed inputs;
// files written here were checked by the same script's `check` (see docs/guides/models-that-travel.md).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { kerasArchive, kerasModelFromBytes, loadKerasModel } from '@purenn/keras'
import {
  activations,
  applyModel,
  averagePooling2d,
  batchNormalization,
  conv2d,
  dense,
  dropout,
  flatten,
  freeze,
  globalAveragePooling2d,
  initModel,
  l2,
  leakyRelu,
  type Model,
  maxPooling2d,
  reshape,
  saveModel,
  sequential,
} from '@purenn/layers'
import { key, type Tensor, type Tree, tensor } from '@purenn/tensor'
import { maxAbsDiff } from '@purenn/testing'
import { describe, expect, it } from 'vitest'
import { jitteredChapterModel } from '../../layers/test/helpers/chapter.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
const bytesOf = (name: string) => new Uint8Array(readFileSync(join(fixtures, name)))
const floats = (name: string) => {
  const b = readFileSync(join(fixtures, name))
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
}
const inputs = tensor(floats('inputs.bin'), [32, 28, 28])

const argmaxRows = (data: ArrayLike<number>, cols: number): number[] =>
  Array.from({ length: data.length / cols }, (_, r) => {
    let best = 0
    for (let c = 1; c < cols; c++) if (data[r * cols + c]! > data[r * cols + best]!) best = c
    return best
  })
const flat = (t: Tree, path = ''): [string, number[]][] =>
  t !== null && typeof t === 'object' && 'data' in t && 'shape' in t
    ? [[path, Array.from((t as Tensor).data)]]
    : Object.entries(t as Record<string, Tree>).flatMap(([k, v]) => flat(v, `${path}/${k}`))

describe('Keras -> purenn (files written by Keras 3.15)', () => {
  for (const [name, layers] of [
    [
      'bn',
      [
        'flatten',
        'batch_normalization',
        'hidden1',
        'batch_normalization_1',
        'dense',
        'batch_normalization_2',
        'dense_1',
      ],
    ],
    ['selu', ['flatten', 'dense', 'dropout', 'dense_1', 'leaky_re_lu', 'dense_2']],
  ] as const)
    for (const ext of ['keras', 'h5'])
      it(`${name}.${ext}: Keras' layer names, predictions within 1e-6 of Keras', same argmax`, async () => {
        const model = await loadKerasModel(join(fixtures, `${name}.${ext}`))
        expect(model.layer.names).toEqual(layers)
        expect(model.inputShape).toEqual([28, 28])
        const got = applyModel(model, inputs).y.data
        const expected = floats(`${name}.expected.bin`)
        const diff = maxAbsDiff(got, expected)
        console.log(`${name}.${ext} (Keras 3.15) -> purenn: max |Δp| ${diff}`)
        expect(diff).toBeLessThanOrEqual(1e-6)
        expect(argmaxRows(got, 10)).toEqual(argmaxRows(expected, 10))
      })
})

const seluModel = (): Model =>
  freeze(
    initModel(
      sequential(
        [
          flatten(),
          dense({ units: 30, activation: 'selu', kernelInitializer: 'lecunNormal' }),
          dropout({ rate: 0.1 }),
          dense({ units: 20, activation: activations.leakyRelu(0.2), kernelRegularizer: l2(0.01) }),
          leakyRelu({ alpha: 0.3 }),
          dense({ units: 10, activation: 'softmax' }),
        ],
        { inputShape: [28, 28] },
      ),
      { key: key(3) },
    ),
    ['dense'],
  )

describe('purenn -> .keras -> purenn', () => {
  it('the chapter model round-trips bit for bit (params, state, predictions)', async () => {
    const model = jitteredChapterModel()
    const back = await kerasModelFromBytes(await kerasArchive(model))
    expect(back.layer.names).toEqual((model.layer as unknown as { names: string[] }).names)
    expect(flat(back.params)).toEqual(flat(model.params))
    expect(flat(back.state)).toEqual(flat(model.state))
    expect(Array.from(applyModel(back, inputs).y.data)).toEqual(Array.from(applyModel(model, inputs).y.data))
  })

  it('a frozen layer stays frozen; a leaky-ReLU activation comes back as a LeakyReLU layer, same outputs', async () => {
    const model = seluModel()
    const back = await kerasModelFromBytes(await kerasArchive(model))
    expect(back.layer.names).toEqual([
      'flatten',
      'dense',
      'dropout',
      'dense_1',
      'dense_1_leakyrelu',
      'leaky_re_lu',
      'dense_2',
    ])
    expect((back.trainable as Record<string, unknown>).dense).toEqual({ kernel: false, bias: false })
    expect(maxAbsDiff(applyModel(back, inputs).y.data, applyModel(model, inputs).y.data)).toBe(0)
  })
})

describe('a purenn CNN -> .keras -> purenn', () => {
  it('conv, batch norm, pooling, reshape: same weights and outputs bit for bit', async () => {
    const model = initModel(
      sequential(
        [
          reshape({ targetShape: [28, 28, 1] }),
          conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
          batchNormalization(),
          maxPooling2d({ poolSize: 2 }),
          conv2d({ filters: 4, kernelSize: 3, strides: 2, activation: 'relu' }),
          averagePooling2d({ poolSize: 2, padding: 'same' }),
          globalAveragePooling2d(),
          dense({ units: 10, activation: 'softmax' }),
        ],
        { inputShape: [28, 28] },
      ),
      { key: key(4) },
    )
    const back = await kerasModelFromBytes(await kerasArchive(model))
    expect(flat(back.params)).toEqual(flat(model.params))
    expect(Array.from(applyModel(back, inputs).y.data)).toEqual(Array.from(applyModel(model, inputs).y.data))
  })
})

describe('what is not a Keras model gets an error saying what it is and what reads it', () => {
  it('a purenn model folder', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'keras-err-')), 'model')
    await saveModel(seluModel(), dir)
    await expect(loadKerasModel(dir)).rejects.toThrow(
      /is a folder; a purenn model folder is read by loadModel/,
    )
  })

  it('a JSON file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keras-err-')), 'model.json')
    writeFileSync(file, '{"modelTopology": {}}')
    await expect(loadKerasModel(file)).rejects.toThrow(
      /a JSON file \(a TF.js model.json is read by loadTfjsModel/,
    )
  })

  it('a weights-only .weights.h5 file', async () => {
    // the model.weights.h5 inside a .keras file is exactly what model.save_weights writes
    const { unzipSync } = await import('fflate')
    const weights = unzipSync(bytesOf('bn.keras'))['model.weights.h5']!
    await expect(kerasModelFromBytes(weights)).rejects.toThrow(/a weights-only file \(model.save_weights\)/)
  })

  it('a zip that is not a .keras file, and random bytes', async () => {
    const { zipSync } = await import('fflate')
    await expect(kerasModelFromBytes(zipSync({ 'a.txt': new Uint8Array([1]) }))).rejects.toThrow(
      /a zip without config.json: not a Keras 3 .keras file/,
    )
    await expect(kerasModelFromBytes(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow(
      /neither a .keras file \(a zip\) nor an HDF5 .h5 file/,
    )
  })

  it('a Keras layer purenn does not have names the layer and the file part', async () => {
    const { unzipSync, zipSync } = await import('fflate')
    const entries = unzipSync(bytesOf('bn.keras'))
    const config = JSON.parse(new TextDecoder().decode(entries['config.json']))
    config.config.layers[3].class_name = 'LSTM'
    entries['config.json'] = new TextEncoder().encode(JSON.stringify(config))
    await expect(kerasModelFromBytes(zipSync(entries))).rejects.toThrow(
      /loadKerasModel: config.json: modelTopology: layer 3 \("hidden1"\) has class "LSTM", which purenn does not have/,
    )
    // from a file, the error names it
    const file = join(mkdtempSync(join(tmpdir(), 'keras-err-')), 'lstm.keras')
    writeFileSync(file, zipSync(entries))
    await expect(loadKerasModel(file)).rejects.toThrow(
      new RegExp(
        `loadKerasModel: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: config.json: modelTopology: layer 3 \\("hidden1"\\) has class "LSTM"`,
      ),
    )
  })
})
