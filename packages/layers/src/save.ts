import * as fs from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { key, type Tensor, tensor } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { firstError, leaf, show } from './internal/config.js'
import { fullMask, mapWeights, type WeightEntry, weightEntries } from './internal/walk.js'
import type { Json } from './layer.js'
import { initModel, type Model } from './model.js'
import { type CustomLayers, fromConfig, type LayerJson, toSpec } from './registry.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * One weight in `model.json`'s manifest: where its float32 values are in `weights.bin`.
 *
 * @example
 * ```ts
 * import type { WeightManifestEntry } from '@purenn/layers'
 * const kernel: WeightManifestEntry = { name: 'dense.kernel', shape: [784, 300], offset: 0, group: 'params' }
 * console.log(4 * kernel.shape[0]! * kernel.shape[1]!) // 940800
 * ```
 * @category Saving
 */
export interface WeightManifestEntry {
  /** Dotted name, Keras order: `dense_1.kernel`, `batch_normalization.movingMean`. */
  readonly name: string
  /** Its shape. */
  readonly shape: readonly number[]
  /** Byte offset of its first value in `weights.bin`. */
  readonly offset: number
  /** `params` (trainable-capable) or `state` (moving statistics). */
  readonly group: 'params' | 'state'
}

/**
 * The contents of `model.json`, format version 1.
 *
 * @remarks
 * `architecture` is the model's layer as `{kind, config}` (rebuilt by `fromConfig`),
 * `inputShape` one input's shape without the batch axis, `trainable` the trainable mask,
 * `weights` the manifest in Keras order, laid out back to back in `weights.bin`
 * (little-endian float32) whose size is `byteLength`.
 *
 * @example
 * ```ts
 * import type { ModelJson } from '@purenn/layers'
 * const json: ModelJson = {
 *   format: 'purenn-model', formatVersion: 1, architecture: { kind: 'Flatten', config: {} },
 *   inputShape: [2, 2], trainable: {}, weights: [], byteLength: 0,
 * }
 * console.log(json.format) // purenn-model
 * ```
 * @category Saving
 */
export interface ModelJson {
  /** Always `'purenn-model'`. */
  readonly format: 'purenn-model'
  /** The version of this layout: 1. */
  readonly formatVersion: 1
  /** The model's layer as `{kind, config}`. */
  readonly architecture: LayerJson
  /** One input's shape, without the batch axis. */
  readonly inputShape: readonly number[]
  /** The trainable mask: booleans in the structure of the params. */
  readonly trainable: Json
  /** The weights in `weights.bin`, in order. */
  readonly weights: readonly WeightManifestEntry[]
  /** The size of `weights.bin` in bytes: 4 per value. */
  readonly byteLength: number
}

/**
 * Options of {@link loadModel}.
 *
 * @example
 * ```ts
 * import { activation, type LoadModelOptions } from '@purenn/layers'
 * const opts: LoadModelOptions = { customLayers: { Relu6: () => ({ _tag: 'Right', right: activation('relu') }) } }
 * console.log(Object.keys(opts.customLayers ?? {})) // [ 'Relu6' ]
 * ```
 * @category Saving
 */
export interface LoadModelOptions {
  /** Rebuilders of user-defined layer kinds (Keras' `custom_objects`). */
  readonly customLayers?: CustomLayers
}

// ---------------------------------------------------------------------------------------
// Codecs of model.json: leaf codecs carry the words of the error messages

const isNonNegInt = (u: unknown): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0
const NonNegInt = leaf('a non-negative integer', isNonNegInt)
const ShapeC = leaf(
  'array of non-negative integers',
  (u): u is number[] => Array.isArray(u) && u.every(isNonNegInt),
)
const Str = leaf('a string', (u): u is string => typeof u === 'string')
const isRecord = (u: unknown): u is { [k: string]: unknown } =>
  typeof u === 'object' && u !== null && !Array.isArray(u)
const ObjectC = leaf('an object', isRecord)
const isMask = (u: unknown): u is Json =>
  typeof u === 'boolean' ||
  (Array.isArray(u) && u.every(isMask)) ||
  (isRecord(u) && Object.values(u).every(isMask))
const MaskC = leaf('a boolean or a tree of booleans', isMask)
const Format = leaf('"purenn-model"', (u): u is 'purenn-model' => u === 'purenn-model')
const Version = leaf('1 (the only format version this purenn reads)', (u): u is 1 => u === 1)
const GroupC = leaf('"params" or "state"', (u): u is 'params' | 'state' => u === 'params' || u === 'state')

const ModelJsonC = t.type(
  {
    format: Format,
    formatVersion: Version,
    architecture: t.type({ kind: Str, config: ObjectC }, 'an object {kind, config}'),
    inputShape: ShapeC,
    trainable: MaskC,
    weights: t.array(
      t.type(
        { name: Str, shape: ShapeC, offset: NonNegInt, group: GroupC },
        'an object {name, shape, offset, group}',
      ),
      'an array of weights',
    ),
    byteLength: NonNegInt,
  },
  'an object',
)

/** A found value in a message about `model.json`, cut to 60 characters. */
const brief = (u: unknown): string => {
  const s = show(u)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

/** Decodes parsed `model.json` into an Either whose Left names the first bad field. */
const decodeModelJson = (u: unknown): E.Either<string, ModelJson> => {
  const r = ModelJsonC.decode(u)
  if (E.isRight(r)) return E.right(r.right as ModelJson)
  const { path, expected, value } = firstError(r.left)
  return E.left(
    value === undefined
      ? `${path === '' ? '' : `${path}: `}missing, expected ${expected}`
      : `${path === '' ? '' : `${path}: `}expected ${expected}, got ${brief(value)}`,
  )
}

/** Checks the manifest's layout: weights back to back from offset 0, `byteLength` their total. */
const checkLayout = (json: ModelJson): E.Either<string, ModelJson> => {
  let offset = 0
  const seen = new Set<string>()
  for (const [i, w] of json.weights.entries()) {
    if (seen.has(`${w.group}:${w.name}`)) return E.left(`weights[${i}].name: "${w.name}" appears twice`)
    seen.add(`${w.group}:${w.name}`)
    if (w.offset !== offset)
      return E.left(
        `weights[${i}].offset: expected ${offset} (${i === 0 ? 'the first weight starts at 0' : `right after weights[${i - 1}]`}), got ${w.offset}`,
      )
    offset += 4 * w.shape.reduce((p, d) => p * d, 1)
  }
  if (json.byteLength !== offset)
    return E.left(`byteLength: expected ${offset} (4 bytes per value of the weights), got ${json.byteLength}`)
  return E.right(json)
}

// ---------------------------------------------------------------------------------------
// Bytes: little-endian float32 whatever the host

const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** Reverses each group of 4 bytes in place (only on big-endian hosts). */
const swap32 = (bytes: Uint8Array): void => {
  for (let i = 0; i < bytes.length; i += 4) {
    const [a, b, c, d] = [bytes[i]!, bytes[i + 1]!, bytes[i + 2]!, bytes[i + 3]!]
    bytes[i] = d
    bytes[i + 1] = c
    bytes[i + 2] = b
    bytes[i + 3] = a
  }
}

const toBytes = (entries: readonly WeightEntry[], byteLength: number): Uint8Array => {
  const out = new Uint8Array(byteLength)
  let offset = 0
  for (const { tensor: w } of entries) {
    out.set(new Uint8Array(w.data.buffer, w.data.byteOffset, w.size * 4), offset)
    offset += w.size * 4
  }
  if (!hostIsLittleEndian) swap32(out)
  return out
}

const fromBytes = (bin: Uint8Array, entry: WeightManifestEntry): Tensor => {
  const size = entry.shape.reduce((p, d) => p * d, 1)
  // a fresh, aligned copy (Buffer#slice would share the file's memory, at any alignment)
  const bytes = new Uint8Array(bin.subarray(entry.offset, entry.offset + 4 * size))
  if (!hostIsLittleEndian) swap32(bytes)
  return tensor(new Float32Array(bytes.buffer, 0, size), entry.shape)
}

// ---------------------------------------------------------------------------------------
// Files

const exists = async (p: string) =>
  fs.stat(p).then(
    (s) => s,
    () => undefined,
  )

const writeFileSynced = async (path: string, data: Uint8Array | string): Promise<void> => {
  const fh = await fs.open(path, 'wx')
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/**
 * Saves a model as a directory holding `model.json` and `weights.bin`, atomically.
 *
 * @remarks
 * `model.json` ({@link ModelJson}) holds the architecture as `{kind, config}`, the input
 * shape, the trainable mask, the weight manifest (names, shapes, byte offsets, groups, in
 * Keras order) and the format version; `weights.bin` holds the weights back to back as
 * little-endian float32, bit for bit.
 *
 * Both files are written (and synced) into a temporary directory beside `dir`, which is then
 * renamed to `dir`: readers see the old model or the new one, never a mix. An existing
 * `dir` is replaced only if it holds a saved model (a `model.json`) or is empty; it is
 * removed after the new one is in place, and restored if that fails. On any error, the
 * temporary directory is removed and `dir` is as before. The parent directory must exist.
 *
 * @param model - the model to save
 * @param dir - the directory to create or replace
 * @returns a promise resolved when `dir` holds the saved model
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
export const saveModel = async (model: Model, dir: string): Promise<void> => {
  // everything is computed in memory first: an error here writes nothing
  const entries = weightEntries(model.layer, model.params, model.state)
  let byteLength = 0
  const weights = entries.map((e): WeightManifestEntry => {
    const w = { name: e.name, shape: [...e.tensor.shape], offset: byteLength, group: e.group }
    byteLength += 4 * e.tensor.size
    return w
  })
  const mask = fullMask(model.params, model.trainable)
  if (typeof mask === 'string') throw new Error(`saveModel: the model's ${mask}`)
  const json: ModelJson = {
    format: 'purenn-model',
    formatVersion: 1,
    architecture: toSpec(model.layer),
    inputShape: [...model.inputShape],
    trainable: mask as Json,
    weights,
    byteLength,
  }
  const text = `${JSON.stringify(json, null, 2)}\n`
  const bytes = toBytes(entries, byteLength)

  const target = resolve(dir)
  const parent = dirname(target)
  const old = await exists(target)
  if (old !== undefined) {
    const isModel = old.isDirectory() && (await exists(join(target, 'model.json'))) !== undefined
    const isEmpty = old.isDirectory() && (await fs.readdir(target)).length === 0
    if (!isModel && !isEmpty)
      throw new Error(
        `saveModel: ${target} exists and is not a saved model (no model.json); refusing to replace it`,
      )
  }
  if ((await exists(parent))?.isDirectory() !== true)
    throw new Error(`saveModel: the parent directory ${parent} does not exist`)

  const tmp = await fs.mkdtemp(join(parent, `.${basename(target)}.tmp-`))
  try {
    await writeFileSynced(join(tmp, 'weights.bin'), bytes)
    await writeFileSynced(join(tmp, 'model.json'), text)
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true })
    throw e
  }
  if (old === undefined) {
    try {
      await fs.rename(tmp, target)
    } catch (e) {
      await fs.rm(tmp, { recursive: true, force: true })
      throw e
    }
    return
  }
  // replace: move the old directory aside, move the new one in, then delete the old one
  const aside = await fs.mkdtemp(join(parent, `.${basename(target)}.old-`))
  await fs.rmdir(aside)
  try {
    await fs.rename(target, aside)
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true })
    throw e
  }
  try {
    await fs.rename(tmp, target)
  } catch (e) {
    await fs.rename(aside, target)
    await fs.rm(tmp, { recursive: true, force: true })
    throw e
  }
  await fs.rm(aside, { recursive: true, force: true })
}

/**
 * Loads a model saved by {@link saveModel}, checking everything before building anything.
 *
 * @remarks
 * In order, each step stopping at the first problem with a message naming the file and the
 * field:
 * 1. `model.json` is read, parsed, and decoded with io-ts (`model.json: weights[3].shape:
 *    expected array of non-negative integers, got [300,-1]`);
 * 2. the manifest's layout is checked: weights back to back from offset 0, `byteLength` their
 *    total;
 * 3. the size of `weights.bin` must be `byteLength` (`weights.bin: expected 1086016 bytes (from
 *    model.json), found 1000`);
 * 4. the architecture is rebuilt through the registry ({@link fromConfig}, with
 *    `customLayers`), initialized for `inputShape`, and its weights must match the manifest
 *    one for one (name, group, shape), and the mask the params' structure;
 * 5. only then are the tensors made from `weights.bin`.
 * Nothing is written, and the promise rejects without a partial model.
 *
 * @param dir - a directory written by `saveModel`
 * @param opts - `{ customLayers? }`
 * @returns the model: architecture, params, state, trainable mask and input shape as saved
 * @throws Error (a rejected promise) describing the first problem found.
 * @example
 * ```ts
 * import { loadModel } from '@purenn/layers'
 * const err = await loadModel('/nonexistent/model').then(() => 'loaded', (e: Error) => e.message)
 * console.log(err.startsWith('model.json: cannot read')) // true
 * ```
 * @category Saving
 */
export const loadModel = async (dir: string, opts: LoadModelOptions = {}): Promise<Model> => {
  const fail = (file: string, msg: string): never => {
    throw new Error(`${file}: ${msg}`)
  }
  const jsonPath = join(dir, 'model.json')
  const binPath = join(dir, 'weights.bin')
  const text = await fs
    .readFile(jsonPath, 'utf8')
    .catch((e: Error) => fail('model.json', `cannot read ${jsonPath}: ${e.message}`))
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    fail('model.json', `not valid JSON: ${(e as Error).message}`)
  }
  const decoded = E.chain(checkLayout)(decodeModelJson(parsed))
  if (E.isLeft(decoded)) return fail('model.json', decoded.left)
  const json = decoded.right

  const stat = await fs
    .stat(binPath)
    .catch((e: Error) => fail('weights.bin', `cannot read ${binPath}: ${e.message}`))
  if (stat.size !== json.byteLength)
    fail('weights.bin', `expected ${json.byteLength} bytes (from model.json), found ${stat.size}`)

  const layer = fromConfig(json.architecture, opts.customLayers)
  if (E.isLeft(layer)) return fail('model.json', `architecture: ${layer.left}`)
  let fresh: Model
  try {
    fresh = initModel(layer.right, { key: key(0), inputShape: json.inputShape })
  } catch (e) {
    return fail(
      'model.json',
      `architecture: cannot be built for inputShape [${json.inputShape.join(',')}]: ${(e as Error).message}`,
    )
  }
  const expected = weightEntries(fresh.layer, fresh.params, fresh.state)
  const describe = (w: { name: string; group: string; shape: readonly number[] }) =>
    `${w.name} [${w.shape.join(',')}] (${w.group})`
  if (expected.length !== json.weights.length)
    fail(
      'model.json',
      `weights: the architecture has ${expected.length} weights, the manifest lists ${json.weights.length}`,
    )
  expected.forEach((e, i) => {
    const w = json.weights[i]!
    const want = { name: e.name, group: e.group, shape: e.tensor.shape }
    if (describe(want) !== describe(w))
      fail(
        'model.json',
        `weights[${i}]: the architecture expects ${describe(want)}, the manifest has ${describe(w)}`,
      )
  })
  const mask = fullMask(fresh.params, json.trainable)
  if (typeof mask === 'string') return fail('model.json', mask)

  const bin = await fs
    .readFile(binPath)
    .catch((e: Error) => fail('weights.bin', `cannot read ${binPath}: ${e.message}`))
  if (bin.byteLength !== json.byteLength)
    fail('weights.bin', `expected ${json.byteLength} bytes (from model.json), found ${bin.byteLength}`)
  let i = 0
  const { params, state } = mapWeights(fresh.layer, fresh.params, fresh.state, () =>
    fromBytes(bin, json.weights[i++]!),
  )
  return { layer: fresh.layer, params, state, trainable: mask, inputShape: [...json.inputShape] }
}
