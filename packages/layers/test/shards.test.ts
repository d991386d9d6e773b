import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { key } from '@purenn/tensor'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  decodeModel,
  dense,
  encodeModel,
  initModel,
  loadModel,
  loadModelFromBlobs,
  loadModelFromUrl,
  type Model,
  publishedModelFolder,
  saveModel,
  sequential,
} from '../src/index.js'

// Weights above `shardBytes` (default 1 GiB; a few hundred bytes here) are split into shards on
// save (format version 3) and read back, with every check of a single weights.bin.

let root = ''
beforeAll(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'purenn-shards-'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})
let counter = 0
const fresh = () => join(root, `case-${counter++}`)

// dense 3 -> 40 (kernel 480 bytes, bias 160) then 40 -> 2 (kernel 320, bias 8): 968 bytes
const model: Model = initModel(sequential([dense({ units: 40 }), dense({ units: 2 })]), {
  key: key(7),
  inputShape: [3],
})
const values = (m: Model) => encodeModel(m).weightsBin

const saved = async (shardBytes = 300) => {
  const dir = fresh()
  await saveModel(model, dir, { shardBytes })
  const folder = await publishedModelFolder(dir)
  const json = JSON.parse(await fs.readFile(join(folder, 'model.json'), 'utf8'))
  return { dir, folder, json }
}

describe('saveModel: weights in shards', () => {
  it('splits 968 bytes into shards of at most 300 (tensors spanning two) and reads them back bit for bit', async () => {
    const { dir, folder, json } = await saved()
    expect(json.formatVersion).toBe(3)
    expect(json.shards).toEqual([
      { path: 'weights-00001-of-00004.bin', byteLength: 300 },
      { path: 'weights-00002-of-00004.bin', byteLength: 300 },
      { path: 'weights-00003-of-00004.bin', byteLength: 300 },
      { path: 'weights-00004-of-00004.bin', byteLength: 68 },
    ])
    expect((await fs.readdir(folder)).sort()).toEqual([
      'model.json',
      'weights-00001-of-00004.bin',
      'weights-00002-of-00004.bin',
      'weights-00003-of-00004.bin',
      'weights-00004-of-00004.bin',
    ])
    // the shards are the bytes of the single-file encoding, cut at 300, 600 and 900
    const whole = values(model)
    for (const [k, sh] of json.shards.entries())
      expect(new Uint8Array(await fs.readFile(join(folder, sh.path)))).toEqual(
        whole.subarray(300 * k, 300 * k + sh.byteLength),
      )
    expect(values(await loadModel(dir))).toEqual(whole)
  })

  it('a model that fits in one shard is one weights.bin, format version 2, as before', async () => {
    const { folder, json } = await saved(968)
    expect(json.formatVersion).toBe(2)
    expect(json.shards).toBeUndefined()
    expect((await fs.readdir(folder)).sort()).toEqual(['model.json', 'weights.bin'])
  })

  it('a bad shardBytes is refused before anything is written', async () => {
    const dir = fresh()
    for (const bad of [0, -1, 1.5, Number.NaN])
      await expect(saveModel(model, dir, { shardBytes: bad })).rejects.toThrow(
        `saveModel: shardBytes: expected a positive integer, got ${bad}`,
      )
    await expect(fs.stat(dir)).rejects.toThrow('ENOENT')
  })
})

describe('loadModel: checks of the shards', () => {
  const message = (p: Promise<unknown>) =>
    p.then(
      () => 'loaded',
      (e: Error) => e.message,
    )

  it('a flipped bit names the tensor and the shard(s) holding it', async () => {
    const { dir, folder } = await saved()
    const path = join(folder, 'weights-00002-of-00004.bin')
    const bytes = await fs.readFile(path)
    bytes[10]! ^= 1 // byte 310, in dense.kernel (bytes 0 to 480, in the first two shards)
    await fs.writeFile(path, bytes)
    expect(await message(loadModel(dir))).toBe(
      'weights-00001-of-00004.bin + weights-00002-of-00004.bin: dense.kernel: checksum mismatch (SHA-256 differs from model.json): the file is damaged',
    )
  })

  it('a missing shard, or one of the wrong size, fails before any tensor is allocated', async () => {
    const { dir, folder } = await saved()
    await fs.rm(join(folder, 'weights-00003-of-00004.bin'))
    expect(await message(loadModel(dir))).toBe('weights-00003-of-00004.bin: not found in the model folder')
    await fs.writeFile(join(folder, 'weights-00003-of-00004.bin'), new Uint8Array(299))
    expect(await message(loadModel(dir))).toBe(
      'weights-00003-of-00004.bin: expected 300 bytes (from model.json), found 299',
    )
  })

  it('the manifest of shards is checked: names, sizes, duplicates, versions', async () => {
    const { dir, folder, json } = await saved()
    const write = (j: unknown) => fs.writeFile(join(folder, 'model.json'), JSON.stringify(j))
    const cases: [unknown, string][] = [
      [
        { ...json, shards: [{ path: '../x.bin', byteLength: 968 }] },
        'model.json: shards[0].path: expected a plain file name (letters, digits, "._-"), got "../x.bin"',
      ],
      [
        { ...json, shards: [{ path: 'model.json', byteLength: 968 }] },
        'model.json: shards[0].path: expected a plain file name (letters, digits, "._-"), got "model.json"',
      ],
      [
        { ...json, shards: [json.shards[0], json.shards[0], json.shards[2], { ...json.shards[3] }] },
        'model.json: shards[1].path: "weights-00001-of-00004.bin" is already shards[0]',
      ],
      [
        { ...json, shards: json.shards.slice(1) },
        'model.json: shards: their sizes add up to 668 bytes, byteLength says 968',
      ],
      [
        { ...json, shards: undefined },
        'model.json: shards: missing, expected the list of weight files (format version 3)',
      ],
      [
        { ...json, formatVersion: 2 },
        'model.json: shards: a field of format version 3, this file says formatVersion 2',
      ],
      [
        { ...json, shards: [{ ...json.shards[0], byteLength: 0 }] },
        'model.json: shards[0].byteLength: expected a positive integer, got 0',
      ],
      [
        { ...json, shards: [{ ...json.shards[0], sha256: 'x' }, ...json.shards.slice(1)] },
        'model.json: shards[0].sha256: unknown field (a shard has path, byteLength)',
      ],
    ]
    for (const [j, m] of cases) {
      await write(j)
      expect(await message(loadModel(dir))).toBe(m)
    }
  })

  it('one file listed as two shards (through a link) is refused', async () => {
    const { dir, folder, json } = await saved(484)
    // two shards of 484 bytes: make the second a link to the first
    await fs.rm(join(folder, json.shards[1].path))
    await fs.symlink(join(folder, json.shards[0].path), join(folder, json.shards[1].path))
    expect(await message(loadModel(dir))).toBe(
      'model.json: shards[1].path: "weights-00002-of-00002.bin" is the same file as shards[0]',
    )
  })
})

describe('the format in memory and in browsers', () => {
  it('decodeModel reads a version-3 manifest with the shards concatenated', async () => {
    const { folder, json } = await saved()
    const shards = await Promise.all(
      json.shards.map((sh: { path: string }) => fs.readFile(join(folder, sh.path))),
    )
    const modelJson = await fs.readFile(join(folder, 'model.json'), 'utf8')
    const back = decodeModel({ modelJson, weightsBin: new Uint8Array(Buffer.concat(shards)) })
    expect(values(back)).toEqual(values(model))
  })

  it('loadModelFromUrl and loadModelFromBlobs read the shards', async () => {
    const { dir, folder, json } = await saved()
    const base = 'https://example.org/m/'
    const fetch = async (url: string) => {
      const rel = url.slice(base.length)
      const bytes = await fs.readFile(join(dir, rel)).catch(() => undefined)
      return new Response(bytes ?? null, { status: bytes === undefined ? 404 : 200 })
    }
    expect(values(await loadModelFromUrl(base, { fetch }))).toEqual(values(model))
    const blob = async (p: string) => new Blob([await fs.readFile(join(folder, p))])
    const fromBlobs = await loadModelFromBlobs({
      modelJson: await blob('model.json'),
      weightShards: await Promise.all(json.shards.map((sh: { path: string }) => blob(sh.path))),
    })
    expect(values(fromBlobs)).toEqual(values(model))
    // a shard of the wrong size is named before its bytes are read
    const short = json.shards.map((sh: { path: string }) => new Blob([sh.path]))
    await expect(
      loadModelFromBlobs({ modelJson: await blob('model.json'), weightShards: short }),
    ).rejects.toThrow('weights-00001-of-00004.bin: expected 300 bytes (from model.json), found 26')
  })
})
