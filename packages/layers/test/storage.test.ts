import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { key, tensor, tree } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import {
  applyModel,
  batchNormalization,
  decodeModel,
  dense,
  encodeModel,
  freeze,
  initModel,
  loadModel,
  loadModelFromBlobs,
  loadModelFromIndexedDB,
  loadModelFromUrl,
  type Model,
  modelToBlobs,
  publishedModelFolder,
  saveModel,
  sequential,
} from '../src/index.js'

/** A small model with moving statistics away from their initial values and a frozen layer. */
const model = (): Model => {
  const m = initModel(
    sequential([dense({ units: 3 }), batchNormalization(), dense({ units: 2 })], { inputShape: [4] }),
    { key: key(1) },
  )
  const x = tensor(
    Float32Array.from({ length: 5 * 4 }, (_, i) => Math.sin(i)),
    [5, 4],
  )
  return freeze({ ...m, state: applyModel(m, x, { training: true }).state }, ['dense'])
}

const bits = (m: Model) =>
  [...tree.leaves(m.params), ...tree.leaves(m.state)].map((t) => [
    ...new Uint32Array(Float32Array.from(t.data).buffer),
  ])

/** A fetch serving `files` (URL -> body) and 404 for anything else. */
const serve =
  (files: Record<string, string | Uint8Array>) =>
  async (url: string): Promise<Response> =>
    url in files
      ? new Response(files[url] as string, { status: 200 })
      : new Response('not found', { status: 404 })

describe('encodeModel / decodeModel', () => {
  it('round-trips bitwise: params, state, trainable mask and architecture', () => {
    const m = model()
    const back = decodeModel(encodeModel(m))
    expect(bits(back)).toEqual(bits(m))
    expect(back.trainable).toEqual(m.trainable)
    expect(back.layer.config).toEqual(m.layer.config)
  })

  it('gives the bytes saveModel writes, and reads what saveModel wrote', async () => {
    const m = model()
    const dir = join(await fs.mkdtemp(join(tmpdir(), 'purenn-storage-')), 'model')
    await saveModel(m, dir)
    const folder = await publishedModelFolder(dir)
    const onDisk = {
      modelJson: await fs.readFile(join(folder, 'model.json'), 'utf8'),
      weightsBin: new Uint8Array(await fs.readFile(join(folder, 'weights.bin'))),
    }
    const files = encodeModel(m)
    expect(files.modelJson).toBe(onDisk.modelJson)
    expect([...files.weightsBin]).toEqual([...onDisk.weightsBin])
    expect(bits(decodeModel(onDisk))).toEqual(bits(await loadModel(dir)))
  })

  it('rejects truncated weights and a broken manifest with the file and field named', () => {
    const files = encodeModel(model())
    expect(() => decodeModel({ ...files, weightsBin: files.weightsBin.subarray(0, 8) })).toThrow(
      `weights.bin: expected ${files.weightsBin.byteLength} bytes (from model.json), found 8`,
    )
    const json = JSON.parse(files.modelJson)
    json.weights[0].shape = [4, -1]
    expect(() => decodeModel({ ...files, modelJson: JSON.stringify(json) })).toThrow(
      /^model\.json: weights\[0\]\.shape: expected array of non-negative integers, got \[4,-1\]/,
    )
  })
})

describe('loadModelFromUrl', () => {
  it('fetches model.json and weights.bin beside each other', async () => {
    const m = model()
    const files = encodeModel(m)
    const fetch = serve({
      'http://h/m/model.json': files.modelJson,
      'http://h/m/weights.bin': files.weightsBin,
    })
    expect(bits(await loadModelFromUrl('http://h/m', { fetch }))).toEqual(bits(m))
    expect(bits(await loadModelFromUrl('http://h/m/', { fetch }))).toEqual(bits(m))
  })

  it('names the file and the HTTP status when one is missing', async () => {
    const files = encodeModel(model())
    const fetch = serve({ 'http://h/m/model.json': files.modelJson })
    await expect(loadModelFromUrl('http://h/m', { fetch })).rejects.toThrow(
      'weights.bin: cannot fetch http://h/m/weights.bin: HTTP status 404',
    )
  })

  it('follows CURRENT to the published version of the versioned layout, and refuses a bad CURRENT', async () => {
    const m = model()
    const files = encodeModel(m)
    const fetch = serve({
      'http://h/m/CURRENT': 'v000002\n',
      'http://h/m/v000002/model.json': files.modelJson,
      'http://h/m/v000002/weights.bin': files.weightsBin,
    })
    expect(bits(await loadModelFromUrl('http://h/m', { fetch }))).toEqual(bits(m))
    const bad = serve({ 'http://h/m/CURRENT': '../elsewhere' })
    await expect(loadModelFromUrl('http://h/m', { fetch: bad })).rejects.toThrow(
      'CURRENT: expected the name of a published version (v000001, ...), got "../elsewhere"',
    )
  })
})

describe('decodeModel checks what loadModel checks', () => {
  it('refuses a damaged weight (SHA-256), a non-finite weight and an unknown field, naming them', () => {
    const m = model()
    const files = encodeModel(m)
    const json = JSON.parse(files.modelJson)
    expect(json.formatVersion).toBe(2)
    const name = json.weights[0].name
    const damaged = files.weightsBin.slice()
    damaged[0] = damaged[0]! ^ 1
    expect(() => decodeModel({ ...files, weightsBin: damaged })).toThrow(
      `weights.bin: ${name}: checksum mismatch (SHA-256 differs from model.json): the file is damaged`,
    )
    const nan = files.weightsBin.slice()
    new DataView(nan.buffer).setFloat32(0, Number.NaN, true)
    const v1 = {
      ...json,
      formatVersion: 1,
      weights: json.weights.map(({ sha256: _, ...w }: { sha256: string }) => w),
    }
    expect(() => decodeModel({ modelJson: JSON.stringify(v1), weightsBin: nan })).toThrow(
      `weights.bin: ${name}: value 0 is NaN`,
    )
    expect(bits(decodeModel({ modelJson: JSON.stringify(v1), weightsBin: files.weightsBin }))).toEqual(
      bits(m),
    )
    expect(() => decodeModel({ ...files, modelJson: JSON.stringify({ ...json, extra: 1 }) })).toThrow(
      /^model\.json: extra: unknown field/,
    )
  })
})

describe('modelToBlobs / loadModelFromBlobs', () => {
  it('round-trips bitwise through Blobs with the media types of the files', async () => {
    const m = model()
    const blobs = modelToBlobs(m)
    expect(blobs.modelJson.type).toBe('application/json')
    expect(blobs.weightsBin.type).toBe('application/octet-stream')
    expect(blobs.weightsBin.size).toBe(encodeModel(m).weightsBin.byteLength)
    expect(bits(await loadModelFromBlobs(blobs))).toEqual(bits(m))
  })
})

describe('IndexedDB', () => {
  it('says clearly that there is none in Node (the browser test saves and loads for real)', async () => {
    await expect(loadModelFromIndexedDB('m')).rejects.toThrow('IndexedDB is not available here')
  })
})
