import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { type Tensor, tensor } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { type Opened, openInside, readExact, readTextInside } from './internal/files.js'
import { hostIsLittleEndian, swap32 } from './internal/float32le.js'
import { describeFile } from './internal/formats.js'
import { publish, readCurrent, writeFileSynced } from './internal/versioned.js'
import { fullMask, mapWeights, type WeightEntry, weightEntries } from './internal/walk.js'
import type { Json } from './layer.js'
import type { Model } from './model.js'
import {
  checkArchitecture,
  type LoadModelOptions,
  type ModelJson,
  parseModelJson,
  type WeightManifestEntry,
} from './modelFormat.js'
import { fromConfig, toSpec } from './registry.js'

// ---------------------------------------------------------------------------------------
// Files

const sha256 = (bytes: Uint8Array): string => {
  const h = createHash('sha256')
  // Node's hash takes at most 2 GiB per update: a tensor of more than 2^29 values is hashed in pieces
  for (let i = 0; i < bytes.length; i += 2 ** 30) h.update(bytes.subarray(i, i + 2 ** 30))
  return h.digest('hex')
}

/** What a loader needs to find in a model folder: the folder of the files, and the files. */
interface Located {
  /** The folder holding `model.json` and `weights.bin` (a published version, or `dir` itself). */
  readonly folder: string
  /** The published version read, if any (`v000003`). */
  readonly version?: string
}

/**
 * The folder holding the published save of `dir`: the version `CURRENT` names, or `dir`
 * itself for a model saved by purenn 0.x (no `CURRENT`, `model.json` beside `weights.bin`).
 */
const locate = async (dir: string): Promise<Located> => {
  const version = await readCurrent(dir)
  if (version === undefined) return { folder: dir }
  // a version is a folder of dir itself, never a symbolic link to elsewhere
  const st = await fs.lstat(join(dir, version)).catch(() => undefined)
  if (st?.isDirectory() !== true)
    throw new Error(`CURRENT: names ${version}, which is not a folder of ${dir}`)
  return { folder: join(dir, version), version }
}

/**
 * The folder of the model currently published at `dir` by {@link saveModel} (`dir/v000003`),
 * where its `model.json` and `weights.bin` are; `dir` itself for a model saved in the flat
 * layout of format version 1.
 *
 * @remarks A save never changes a published folder: it writes a new one and moves the
 * `CURRENT` pointer, so the folder returned holds the same files for as long as it exists (the
 * next saves remove the versions before the previous one).
 * @param dir - the folder given to `saveModel`
 * @returns the folder of the published version
 * @example
 * ```ts
 * import { dense, initModel, publishedModelFolder, saveModel } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * import { mkdtemp, readdir } from 'node:fs/promises'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * const dir = join(await mkdtemp(join(tmpdir(), 'purenn-')), 'm')
 * await saveModel(initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] }), dir)
 * const folder = await publishedModelFolder(dir)
 * console.log(folder.endsWith('v000001'), (await readdir(folder)).sort()) // true [ 'model.json', 'weights.bin' ]
 * ```
 * @category Saving
 */
export const publishedModelFolder = async (dir: string): Promise<string> => (await locate(dir)).folder

/**
 * Options of {@link saveModel}.
 *
 * @example
 * ```ts
 * import type { SaveModelOptions } from '@purenn/layers'
 * const opts: SaveModelOptions = { keepPrevious: 2 }
 * console.log(opts.keepPrevious) // 2
 * ```
 * @category Saving
 */
export interface SaveModelOptions {
  /** Published versions kept besides the new one, for readers still reading them. Default 1. */
  readonly keepPrevious?: number
  /**
   * More files to write into the same version, by plain file name (letters, digits, `._-`):
   * a training checkpoint's optimizer state, say. Read back with {@link loadModelAndFiles}.
   */
  readonly extraFiles?: Readonly<Record<string, Uint8Array | string>>
  /**
   * The largest weight file, in bytes. Weights of more bytes are split into shards of this
   * size (`weights-00001-of-00003.bin`, ...; format version 3), which {@link loadModel} reads
   * back; a model of at most this many bytes is one `weights.bin` (format version 2). Default
   * 1 GiB.
   */
  readonly shardBytes?: number
}

/** The default {@link SaveModelOptions.shardBytes}: 1 GiB. */
const SHARD_BYTES = 2 ** 30

/** The name of shard `i` (from 0) of `n`. */
const shardName = (i: number, n: number): string =>
  `weights-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.bin`

/** The shards of `byteLength` bytes in pieces of at most `shardBytes`. */
const planShards = (byteLength: number, shardBytes: number): { path: string; byteLength: number }[] => {
  const n = Math.ceil(byteLength / shardBytes)
  return Array.from({ length: n }, (_, i) => ({
    path: shardName(i, n),
    byteLength: Math.min(shardBytes, byteLength - i * shardBytes),
  }))
}

/** What may already be in a folder that saveModel replaces: a saved model or nothing. */
const checkTarget = async (target: string): Promise<void> => {
  const st = await fs.lstat(target).catch(() => undefined)
  if (st === undefined) {
    if ((await fs.stat(dirname(target)).catch(() => undefined))?.isDirectory() !== true)
      throw new Error(`saveModel: the parent directory ${dirname(target)} does not exist`)
    return
  }
  if (!st.isDirectory())
    throw new Error(
      `saveModel: ${target} exists and is not a saved model (not a directory); refusing to replace it`,
    )
  const names = await fs.readdir(target)
  const ours = (n: string) =>
    n === 'CURRENT' ||
    n === 'model.json' ||
    n === 'weights.bin' ||
    /^(v\d{6,}|\.tmp-\d+-[0-9a-f]+|\.CURRENT-\d+-[0-9a-f]+|\.CURRENT\.lock)$/.test(n)
  const isModel = names.includes('CURRENT') || names.includes('model.json')
  // (a folder holding only the leftovers of a crashed first save is one to save into)
  if (!names.every(ours))
    throw new Error(
      `saveModel: ${target} exists and is not a saved model (${isModel ? 'it holds other files' : 'no model.json'}); refusing to replace it`,
    )
}

/**
 * Writes the bytes of the weights, tensor after tensor, as little-endian float32, into the
 * files of `shards` one after the other (a tensor may span two), each fsynced.
 */
const writeWeights = async (
  folder: string,
  entries: readonly WeightEntry[],
  shards: readonly { readonly path: string; readonly byteLength: number }[],
): Promise<void> => {
  let k = -1
  let fh: fs.FileHandle | undefined
  let room = 0 // bytes left in the current shard
  const next = async () => {
    if (fh !== undefined) {
      await fh.sync()
      await fh.close()
      fh = undefined
    }
    k++
    fh = await fs.open(join(folder, shards[k]!.path), 'wx', 0o666)
    room = shards[k]!.byteLength
  }
  try {
    if (shards.length > 0) await next()
    for (const { tensor: w } of entries) {
      const bytes = leBytes(w)
      let done = 0
      while (done < bytes.length) {
        if (room === 0) await next()
        const n = Math.min(bytes.length - done, room, 1 << 30)
        const { bytesWritten } = await fh!.write(bytes, done, n)
        done += bytesWritten
        room -= bytesWritten
      }
    }
    if (fh !== undefined) await fh.sync()
  } finally {
    await fh?.close()
  }
}

/** A tensor's values as little-endian bytes (its own memory on little-endian hosts). */
const leBytes = (w: Tensor): Uint8Array => {
  const view = new Uint8Array(w.data.buffer, w.data.byteOffset, w.size * 4)
  if (hostIsLittleEndian) return view
  const copy = new Uint8Array(view)
  swap32(copy)
  return copy
}

/**
 * Saves a model into a directory as a new immutable version, published atomically.
 *
 * @remarks
 * A save is a folder `dir/vNNNNNN/` holding `model.json` ({@link ModelJson}: the architecture
 * as `{kind, config}`, the input shape, the trainable mask, the weight manifest with names,
 * shapes, byte offsets, groups and SHA-256 checksums, in Keras order) and `weights.bin` (the
 * weights back to back as little-endian float32, bit for bit). Weights of more than
 * `shardBytes` (default 1 GiB) are split into shards `weights-00001-of-00003.bin`, ... listed
 * with their sizes in `model.json` (format version 3).
 *
 * Both files are written and fsynced into a temporary folder inside `dir`, renamed to the
 * next free version number, and published by replacing the file `dir/CURRENT` (which names
 * the version) with one rename. So:
 * - a concurrent reader ({@link loadModel}) gets the previous save or the new one, never a mix;
 * - two processes saving to one `dir` both succeed, each in its own version (the last to
 *   publish wins);
 * - a crash at any point leaves the previous save published; its leftovers (temporary
 *   folders of processes that are gone) are removed by the next save, as are the versions
 *   older than the previous `keepPrevious` ones.
 * `CURRENT` only moves forward: it is compared and replaced under the lock file
 * `dir/.CURRENT.lock`, so of two saves published at once the newer stays published.
 * Folders are created with mode 0777 less the umask, files 0666 less the umask. An existing
 * `dir` must be empty or hold a saved model; the parent directory must exist. On an error
 * while writing, the published save is unchanged and nothing of the new one is left.
 *
 * @param model - the model to save
 * @param dir - the directory to create or add a version to
 * @param opts - `{ keepPrevious?, extraFiles?, shardBytes? }`
 * @returns a promise resolved when the new version is published
 * @throws Error when `dir` exists and is not a saved model, or on file-system errors.
 * @example
 * ```ts
 * import { dense, initModel, loadModel, saveModel } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * import { mkdtemp } from 'node:fs/promises'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * const model = initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] })
 * const dir = join(await mkdtemp(join(tmpdir(), 'purenn-')), 'my-model')
 * await saveModel(model, dir)
 * const loaded = await loadModel(dir)
 * console.log(loaded.params.kernel.toString() === model.params.kernel.toString()) // true
 * ```
 * @category Saving
 */
export const saveModel = async (model: Model, dir: string, opts: SaveModelOptions = {}): Promise<void> => {
  // everything is computed in memory first: an error here writes nothing
  const entries = weightEntries(model.layer, model.params, model.state)
  let byteLength = 0
  const weights = entries.map((e): WeightManifestEntry => {
    const w = {
      name: e.name,
      shape: [...e.tensor.shape],
      offset: byteLength,
      group: e.group,
      sha256: sha256(leBytes(e.tensor)),
    }
    byteLength += 4 * e.tensor.size
    return w
  })
  const mask = fullMask(model.params, model.trainable)
  if (typeof mask === 'string') throw new Error(`saveModel: the model's ${mask}`)
  const shardBytes = opts.shardBytes ?? SHARD_BYTES
  if (!Number.isSafeInteger(shardBytes) || shardBytes < 1)
    throw new Error(`saveModel: shardBytes: expected a positive integer, got ${shardBytes}`)
  // one weights.bin (format version 2, read by every purenn since checksums) when it fits
  const sharded = byteLength > shardBytes
  const shards = sharded ? planShards(byteLength, shardBytes) : [{ path: 'weights.bin', byteLength }]
  const json: ModelJson = {
    format: 'purenn-model',
    formatVersion: sharded ? 3 : 2,
    architecture: toSpec(model.layer),
    inputShape: [...model.inputShape],
    trainable: mask as Json,
    weights,
    byteLength,
    ...(sharded ? { shards } : {}),
  }
  const text = `${JSON.stringify(json, null, 2)}\n`
  const extra = Object.entries(opts.extraFiles ?? {})
  for (const [name] of extra)
    if (
      !/^[\w.-]+$/.test(name) ||
      ['model.json', 'weights.bin', 'CURRENT', '.', '..'].includes(name) ||
      /^weights-\d{5}-of-\d{5}\.bin$/.test(name)
    )
      throw new Error(`saveModel: extraFiles: ${JSON.stringify(name)} is not a plain file name of its own`)
  const target = resolve(dir)
  await checkTarget(target)
  await publish(
    target,
    async (folder) => {
      await writeWeights(folder, entries, shards)
      for (const [name, data] of extra) await writeFileSynced(join(folder, name), data)
      await writeFileSynced(join(folder, 'model.json'), text)
    },
    { keepPrevious: opts.keepPrevious ?? 1 },
  )
  // a model saved by purenn 0.x in the flat layout is replaced by the published version
  for (const f of ['model.json', 'weights.bin']) await fs.rm(join(target, f), { force: true })
}

/** One extra file of a saved version, whole. */
const readExtra = async (folder: string, name: string, maxBytes: number): Promise<Uint8Array> => {
  const opened = await openInside(folder, name)
  if (E.isLeft(opened)) throw new Error(opened.left)
  const { fh, size } = opened.right
  try {
    if (size > maxBytes) throw new Error(`${name}: ${size} bytes, more than maxBytes (${maxBytes})`)
    const bytes = new Uint8Array(size)
    if (!(await readExact(fh, bytes, 0))) throw new Error(`${name}: changed while it was read`)
    return bytes
  } finally {
    await fh.close()
  }
}

/** One opened weight file: its name, handle, size and first byte in the weights' concatenation. */
interface WeightFile extends Opened {
  readonly path: string
  readonly start: number
}

/**
 * Opens the weight files `model.json` lists (`weights.bin`, or the shards of format version 3):
 * each a regular file inside `folder` of the size the manifest says, no file twice.
 */
const openWeightFiles = async (folder: string, json: ModelJson): Promise<WeightFile[]> => {
  const list = json.shards ?? [{ path: 'weights.bin', byteLength: json.byteLength }]
  const out: WeightFile[] = []
  const ids = new Map<string, number>()
  try {
    let start = 0
    for (const [k, { path, byteLength }] of list.entries()) {
      const opened = await openInside(folder, path)
      if (E.isLeft(opened))
        throw new Error(opened.left.startsWith(`${path}: `) ? opened.left : `${path}: ${opened.left}`)
      out.push({ ...opened.right, path, start })
      if (opened.right.size !== byteLength)
        throw new Error(`${path}: expected ${byteLength} bytes (from model.json), found ${opened.right.size}`)
      const twin = ids.get(opened.right.id)
      if (twin !== undefined && !opened.right.id.endsWith(':0'))
        throw new Error(`model.json: shards[${k}].path: "${path}" is the same file as shards[${twin}]`)
      ids.set(opened.right.id, k)
      start += byteLength
    }
    return out
  } catch (e) {
    for (const f of out) await f.fh.close().catch(() => undefined)
    throw e
  }
}

/** Fills `into` from byte `offset` of the weight files' concatenation; false if one ended early. */
const readWeightBytes = async (files: readonly WeightFile[], into: Uint8Array, offset: number) => {
  let done = 0
  for (const f of files) {
    const end = f.start + f.size
    if (done === into.length) break
    if (offset + done >= end) continue
    const n = Math.min(into.length - done, end - (offset + done))
    if (!(await readExact(f.fh, into.subarray(done, done + n), offset + done - f.start))) return false
    done += n
  }
  return done === into.length
}

/** The names of the weight files holding bytes `offset` to `offset + n` (for messages). */
const filesHolding = (files: readonly WeightFile[], offset: number, n: number): string =>
  files
    .filter((f) => f.start < offset + Math.max(n, 1) && offset < f.start + Math.max(f.size, 1))
    .map((f) => f.path)
    .join(' + ') || 'weights.bin'

/** Loads one saved version from `folder`; every check comes before the allocation it guards. */
const loadFrom = async (folder: string, opts: LoadModelOptions): Promise<Model> => {
  const fail = (file: string, msg: string): never => {
    throw new Error(`${file}: ${msg}`)
  }
  const strip = (file: string, m: string) => (m.startsWith(`${file}: `) ? m.slice(file.length + 2) : m)
  const text = await readTextInside(folder, 'model.json', 64 * 2 ** 20)
  if (E.isLeft(text)) return fail('model.json', strip('model.json', text.left))
  const json = parseModelJson(text.right)
  const maxBytes = opts.maxBytes ?? 16 * 2 ** 30
  if (json.byteLength > maxBytes)
    fail('model.json', `byteLength: ${json.byteLength} bytes of weights, more than maxBytes (${maxBytes})`)

  const files = await openWeightFiles(folder, json)
  try {
    // the architecture and the manifest agree before the layer allocates anything
    const { fresh, mask } = checkArchitecture(json, opts)

    const values: Tensor[] = []
    for (const w of json.weights) {
      const n = w.shape.reduce((p, d) => p * d, 1)
      const bytes = new Uint8Array(4 * n)
      const where = filesHolding(files, w.offset, 4 * n)
      if (!(await readWeightBytes(files, bytes, w.offset)))
        fail(where, `${w.name}: the file ended early (changed while read)`)
      if (w.sha256 !== undefined && sha256(bytes) !== w.sha256)
        fail(where, `${w.name}: checksum mismatch (SHA-256 differs from model.json): the file is damaged`)
      if (!hostIsLittleEndian) swap32(bytes)
      const data = new Float32Array(bytes.buffer, 0, n)
      if (opts.allowNonFinite !== true) {
        const bad = data.findIndex((v) => !Number.isFinite(v))
        if (bad !== -1)
          fail(
            where,
            `${w.name}: value ${bad} is ${data[bad]} (non-finite weights are refused; loadModel(dir, { allowNonFinite: true }) accepts them)`,
          )
      }
      values.push(tensor(data, w.shape))
    }
    let i = 0
    const { params, state } = mapWeights(fresh.layer, fresh.params, fresh.state, () => values[i++]!)
    return { layer: fresh.layer, params, state, trainable: mask, inputShape: [...json.inputShape] }
  } finally {
    for (const f of files) await f.fh.close()
  }
}

/**
 * Loads a model saved by {@link saveModel}, checking everything before building anything.
 *
 * @remarks
 * The published version is the one `dir/CURRENT` names (a folder saved in the flat layout of
 * format version 1 is read as it is). In order, each step stopping at the first problem with a
 * message naming the file and the field:
 * 1. `model.json` (a regular file of at most 64 MiB) is read, parsed, and decoded with io-ts
 *    (`model.json: weights[3].shape: expected array of non-negative integers, got [300,-1]`);
 * 2. the manifest's layout is checked: weights back to back from offset 0, `byteLength` their
 *    total, at most `maxBytes`;
 * 3. `weights.bin` (or each shard of format version 3) must be a regular file of `byteLength` bytes (`weights.bin: expected 1086016
 *    bytes (from model.json), found 1000`), and every `units` of the architecture a dimension
 *    of some weight, so a damaged size fails before anything is allocated;
 * 4. the architecture is rebuilt through the registry ({@link fromConfig}, with
 *    `customLayers`), initialized for `inputShape`, and its weights must match the manifest
 *    one for one (name, group, shape), and the mask the params' structure;
 * 5. each tensor is read, its SHA-256 compared with the manifest (a flipped bit is an error
 *    naming the tensor), and its values checked finite unless `allowNonFinite`.
 * Nothing is written, and the promise rejects without a partial model. When a save published
 * a newer version while this one was read (and the next saves removed it), the load starts
 * again from the new one. No message quotes bytes of a file.
 *
 * @param dir - a directory written by `saveModel`
 * @param opts - `{ customLayers?, allowNonFinite?, maxBytes? }`
 * @returns the model: architecture, params, state, trainable mask and input shape as saved
 * @throws Error (a rejected promise) describing the first problem found.
 * @example
 * ```ts
 * import { loadModel } from '@purenn/layers'
 * const err = await loadModel('/nonexistent/model').then(() => 'loaded', (e: Error) => e.message)
 * console.log(err) // model.json: not found in /nonexistent/model
 * ```
 * @category Saving
 */
export const loadModel = async (dir: string, opts: LoadModelOptions = {}): Promise<Model> =>
  (await loadModelAndFiles(dir, [], opts)).model

/**
 * Loads a model saved by {@link saveModel} and some of the `extraFiles` saved with it, all from
 * one published version.
 *
 * @remarks Everything {@link loadModel} checks is checked; each file must be a regular file
 * of at most `maxBytes` (default 16 GiB). A file missing is an error naming it.
 * @param dir - a directory written by `saveModel`
 * @param names - the extra files to read
 * @param opts - as {@link loadModel}
 * @returns the model, and the bytes of each file by name
 * @throws Error (a rejected promise) describing the first problem found.
 * @example
 * ```ts
 * import { dense, initModel, loadModelAndFiles, saveModel } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * import { mkdtemp } from 'node:fs/promises'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * const dir = join(await mkdtemp(join(tmpdir(), 'purenn-')), 'ckpt')
 * const model = initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] })
 * await saveModel(model, dir, { extraFiles: { 'notes.txt': 'epoch 3' } })
 * const { files } = await loadModelAndFiles(dir, ['notes.txt'])
 * console.log(new TextDecoder().decode(files['notes.txt'])) // epoch 3
 * ```
 * @category Saving
 */
export const loadModelAndFiles = async (
  dir: string,
  names: readonly string[],
  opts: LoadModelOptions = {},
): Promise<{ readonly model: Model; readonly files: Readonly<Record<string, Uint8Array>> }> => {
  const st = await fs.stat(dir).catch(() => undefined)
  if (st?.isFile() === true) throw new Error(`${dir}: ${await describeFile(dir)}`)
  if (st?.isDirectory() !== true) throw new Error(`model.json: not found in ${dir}`)
  for (let attempt = 0; ; attempt++) {
    let version: string | undefined
    try {
      const located = await locate(dir)
      version = located.version
      const model = await loadFrom(located.folder, opts)
      const files: Record<string, Uint8Array> = {}
      for (const name of names)
        files[name] = await readExtra(located.folder, name, opts.maxBytes ?? 16 * 2 ** 30)
      return { model, files }
    } catch (e) {
      // the version read was replaced and removed meanwhile: read the one published now
      if (attempt >= 8 || (await readCurrent(dir)) === version) throw e
    }
  }
}
