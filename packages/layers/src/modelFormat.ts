import { sha256 as sha256Of } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { key } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { firstError, leaf, show } from './internal/config.js'
import { hostIsLittleEndian, swap32, tensorAt } from './internal/float32le.js'
import { parseJson } from './internal/json.js'
import { sizesWithoutWeights } from './internal/sizes.js'
import { fullMask, mapWeights, type WeightEntry, weightEntries } from './internal/walk.js'
import type { Json } from './layer.js'
import { initModel, type Model } from './model.js'
import { type CustomLayers, fromConfig, type LayerJson, toSpec } from './registry.js'

// The purenn model format (model.json + weights.bin), in memory: encoding, decoding and every
// check, for the file functions of Node (save.ts) and the storage of browsers (storage.ts).

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
  /** SHA-256 of its bytes in `weights.bin`, in hex (format version 2; checked on load). */
  readonly sha256?: string
}

/**
 * The contents of `model.json`, format version 2 (version 1, without checksums, is still read).
 *
 * @remarks
 * `architecture` is the model's layer as `{kind, config}` (rebuilt by `fromConfig`),
 * `inputShape` one input's shape without the batch axis, `trainable` the trainable mask,
 * `weights` the manifest in Keras order, laid out back to back in `weights.bin`
 * (little-endian float32) whose size is `byteLength`, each with the SHA-256 of its bytes.
 *
 * @example
 * ```ts
 * import type { ModelJson } from '@purenn/layers'
 * const json: ModelJson = {
 *   format: 'purenn-model', formatVersion: 2, architecture: { kind: 'Flatten', config: {} },
 *   inputShape: [2, 2], trainable: {}, weights: [], byteLength: 0,
 * }
 * console.log(json.format) // purenn-model
 * ```
 * @category Saving
 */
export interface ModelJson {
  /** Always `'purenn-model'`. */
  readonly format: 'purenn-model'
  /**
   * The version of this layout: 2 (one `weights.bin`), 3 (weights split into `shards`); 1 has
   * no checksums.
   */
  readonly formatVersion: 1 | 2 | 3
  /** The model's layer as `{kind, config}`. */
  readonly architecture: LayerJson
  /** One input's shape, without the batch axis. */
  readonly inputShape: readonly number[]
  /** The trainable mask: booleans in the structure of the params. */
  readonly trainable: Json
  /** The weights in `weights.bin`, in order. */
  readonly weights: readonly WeightManifestEntry[]
  /** The size of `weights.bin` in bytes: 4 per value (of all the shards together in version 3). */
  readonly byteLength: number
  /**
   * Format version 3 only: the files the weights are split into, in order (plain file names
   * beside `model.json`, each with its size); offsets are in their concatenation.
   */
  readonly shards?: readonly { readonly path: string; readonly byteLength: number }[]
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
  /** Accept NaN and ±Infinity among the weights. Default false: they are an error naming the weight. */
  readonly allowNonFinite?: boolean
  /** The most bytes of weights to read. Default 16 GiB. */
  readonly maxBytes?: number
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
const Version = leaf(
  '1, 2 or 3 (the format versions this purenn reads)',
  (u): u is 1 | 2 | 3 => u === 1 || u === 2 || u === 3,
)
/** A shard's file name: plain (letters, digits, `._-`), beside model.json, none of the reserved names. */
const isShardPath = (u: unknown): u is string =>
  typeof u === 'string' &&
  u.length <= 255 &&
  /^[\w.-]+$/.test(u) &&
  !['.', '..', 'model.json', 'CURRENT'].includes(u)
const ShardPath = leaf('a plain file name (letters, digits, "._-")', isShardPath)
const PositiveInt = leaf('a positive integer', (u): u is number => isNonNegInt(u) && u > 0)
const Sha = leaf(
  '64 hexadecimal digits',
  (u): u is string => typeof u === 'string' && /^[0-9a-f]{64}$/.test(u),
)
const GroupC = leaf('"params" or "state"', (u): u is 'params' | 'state' => u === 'params' || u === 'state')

const ModelJsonC = t.intersection(
  [
    t.type({
      format: Format,
      formatVersion: Version,
      architecture: t.type({ kind: Str, config: ObjectC }, 'an object {kind, config}'),
      inputShape: ShapeC,
      trainable: MaskC,
      weights: t.array(
        t.intersection(
          [
            t.type({ name: Str, shape: ShapeC, offset: NonNegInt, group: GroupC }),
            t.partial({ sha256: Sha }),
          ],
          'an object {name, shape, offset, group}',
        ),
        'an array of weights',
      ),
      byteLength: NonNegInt,
    }),
    t.partial({
      shards: t.array(
        t.type({ path: ShardPath, byteLength: PositiveInt }, 'an object {path, byteLength}'),
        'an array of shards',
      ),
    }),
  ],
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

const knownFields = [
  'format',
  'formatVersion',
  'architecture',
  'inputShape',
  'trainable',
  'weights',
  'byteLength',
  'shards',
]
const knownShardFields = ['path', 'byteLength']
const knownWeightFields = ['name', 'shape', 'offset', 'group', 'sha256']

/**
 * The compatibility policy (docs/format.md): a field this reader does not know is an error,
 * since it may change what the file means, unless it sits under `optional`, which readers
 * may skip. Fields of layer configs are checked by each layer's `fromConfig`.
 */
const checkFields = (u: unknown, json: ModelJson): E.Either<string, ModelJson> => {
  const unknown = (o: object, known: readonly string[]) =>
    Object.keys(o).find((k) => !known.includes(k) && k !== 'optional')
  const top = unknown(u as object, knownFields)
  if (top !== undefined)
    return E.left(
      `${top}: unknown field (format version ${json.formatVersion} has ${knownFields.join(', ')}); a newer writer puts fields a reader may skip under "optional"`,
    )
  for (const [i, w] of ((u as { weights: object[] }).weights ?? []).entries()) {
    const f = unknown(w, knownWeightFields)
    if (f !== undefined)
      return E.left(`weights[${i}].${f}: unknown field (a weight has ${knownWeightFields.join(', ')})`)
  }
  for (const [i, sh] of ((u as { shards?: object[] }).shards ?? []).entries()) {
    const f = unknown(sh, knownShardFields)
    if (f !== undefined)
      return E.left(`shards[${i}].${f}: unknown field (a shard has ${knownShardFields.join(', ')})`)
  }
  return E.right(json)
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
    if (json.formatVersion >= 2 && w.sha256 === undefined)
      return E.left(
        `weights[${i}].sha256: missing, expected 64 hexadecimal digits (format version ${json.formatVersion})`,
      )
    offset += 4 * w.shape.reduce((p, d) => p * d, 1)
  }
  if (json.byteLength !== offset)
    return E.left(`byteLength: expected ${offset} (4 bytes per value of the weights), got ${json.byteLength}`)
  return checkShards(json)
}

/** Version 3 splits the weights into shards (required there, refused before): distinct, sizes adding up. */
const checkShards = (json: ModelJson): E.Either<string, ModelJson> => {
  if (json.shards === undefined)
    return json.formatVersion === 3
      ? E.left('shards: missing, expected the list of weight files (format version 3)')
      : E.right(json)
  if (json.formatVersion !== 3)
    return E.left(`shards: a field of format version 3, this file says formatVersion ${json.formatVersion}`)
  let total = 0
  const seen = new Map<string, number>()
  for (const [i, sh] of json.shards.entries()) {
    const twin = seen.get(sh.path)
    if (twin !== undefined) return E.left(`shards[${i}].path: "${sh.path}" is already shards[${twin}]`)
    seen.set(sh.path, i)
    total += sh.byteLength
  }
  if (total !== json.byteLength)
    return E.left(`shards: their sizes add up to ${total} bytes, byteLength says ${json.byteLength}`)
  return E.right(json)
}

// ---------------------------------------------------------------------------------------
// Bytes: little-endian float32 whatever the host (internal/float32le.ts)

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

// ---------------------------------------------------------------------------------------
// In memory: the two files as text and bytes

/**
 * A model in the purenn format, in memory: the text of `model.json` and the bytes of
 * `weights.bin`, as {@link saveModel} writes them.
 *
 * @example
 * ```ts
 * import { dense, encodeModel, initModel, type ModelFiles } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const files: ModelFiles = encodeModel(initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] }))
 * console.log(files.weightsBin.byteLength) // 32
 * ```
 * @category Saving
 */
export interface ModelFiles {
  /** The text of `model.json` ({@link ModelJson}). */
  readonly modelJson: string
  /**
   * The bytes of `weights.bin`: the weights back to back, little-endian float32 (for a model
   * saved in shards, format version 3, the shards' bytes concatenated in order).
   */
  readonly weightsBin: Uint8Array
}

const fail = (file: string, msg: string): never => {
  throw new Error(`${file}: ${msg}`)
}

/** How messages name the weights' bytes: `weights.bin`, or the shards of a version-3 save. */
const weightsFile = (json: ModelJson): string =>
  json.shards === undefined ? 'weights.bin' : json.shards.map((sh) => sh.path).join(' + ')

/** The files of a model, for the function named `op` in messages. @internal */
export const encodeModelAs = (op: string, model: Model): ModelFiles => {
  const entries = weightEntries(model.layer, model.params, model.state)
  let byteLength = 0
  for (const e of entries) byteLength += 4 * e.tensor.size
  const bin = toBytes(entries, byteLength)
  let offset = 0
  const weights = entries.map((e): WeightManifestEntry => {
    const w = {
      name: e.name,
      shape: [...e.tensor.shape],
      offset,
      group: e.group,
      sha256: bytesToHex(sha256Of(bin.subarray(offset, offset + 4 * e.tensor.size))),
    }
    offset += 4 * e.tensor.size
    return w
  })
  const mask = fullMask(model.params, model.trainable)
  if (typeof mask === 'string') throw new Error(`${op}: the model's ${mask}`)
  const json: ModelJson = {
    format: 'purenn-model',
    formatVersion: 2,
    architecture: toSpec(model.layer),
    inputShape: [...model.inputShape],
    trainable: mask as Json,
    weights,
    byteLength,
  }
  return { modelJson: `${JSON.stringify(json, null, 2)}\n`, weightsBin: bin }
}

/**
 * The text of `model.json` parsed, decoded and its layout checked.
 * @throws Error `model.json: ...` naming the first bad field.
 * @internal
 */
export const parseModelJson = (text: string): ModelJson => {
  const read = parseJson(text)
  if (E.isLeft(read)) return fail('model.json', read.left)
  const parsed = read.right
  const u = parsed as { readonly format?: unknown; readonly modelTopology?: unknown } | null
  if (typeof u === 'object' && u !== null && u.format !== 'purenn-model' && u.modelTopology !== undefined)
    fail('model.json', 'a TF.js model (it has modelTopology): read it with loadTfjsModel')
  const decoded = pipe(
    decodeModelJson(parsed),
    E.chain((json) => checkFields(parsed, json)),
    E.chain(checkLayout),
  )
  if (E.isLeft(decoded)) return fail('model.json', decoded.left)
  return decoded.right
}

/** A checked architecture, ready for its weights. @internal */
export interface CheckedModel {
  readonly json: ModelJson
  readonly fresh: Model
  readonly mask: Model['trainable']
}

/**
 * Checks the architecture of a checked `model.json`: rebuilt through the registry, its
 * weights matched one for one with the manifest, the mask with the params.
 * @internal
 */
export const checkArchitecture = (json: ModelJson, opts: LoadModelOptions): CheckedModel => {
  // sizes in the architecture are checked against the manifest before the layer allocates them
  const unbacked = sizesWithoutWeights(
    json.architecture,
    'architecture',
    json.inputShape,
    'inputShape',
    json.weights.flatMap((w) => w.shape),
    'the manifest',
  )
  if (unbacked !== undefined) fail('model.json', unbacked)
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

  return { json, fresh, mask }
}

/**
 * The model of a checked architecture with the weights from `bin` (checked for its size).
 * @internal
 */
export const withWeights = (
  { json, fresh, mask }: CheckedModel,
  bin: Uint8Array,
  opts: LoadModelOptions = {},
): Model => {
  if (bin.byteLength !== json.byteLength)
    fail(weightsFile(json), `expected ${json.byteLength} bytes (from model.json), found ${bin.byteLength}`)
  const values = json.weights.map((w) => {
    const size = 4 * w.shape.reduce((p, d) => p * d, 1)
    if (w.sha256 !== undefined && bytesToHex(sha256Of(bin.subarray(w.offset, w.offset + size))) !== w.sha256)
      fail(
        weightsFile(json),
        `${w.name}: checksum mismatch (SHA-256 differs from model.json): the file is damaged`,
      )
    const t = tensorAt(bin, w.offset, w.shape)
    if (opts.allowNonFinite !== true) {
      const bad = t.data.findIndex((v) => !Number.isFinite(v))
      if (bad !== -1)
        fail(
          weightsFile(json),
          `${w.name}: value ${bad} is ${t.data[bad]} (non-finite weights are refused; { allowNonFinite: true } accepts them)`,
        )
    }
    return t
  })
  let i = 0
  const { params, state } = mapWeights(fresh.layer, fresh.params, fresh.state, () => values[i++]!)
  return { layer: fresh.layer, params, state, trainable: mask, inputShape: [...json.inputShape] }
}

/**
 * A model as the two files of the purenn format, in memory ({@link ModelFiles}): what
 * {@link saveModel} writes, without a file system (for a download, IndexedDB, a server).
 *
 * @param model - the model to encode
 * @returns the text of `model.json` and the bytes of `weights.bin`
 * @throws Error when the model's trainable mask does not fit its params.
 * @example
 * ```ts
 * import { dense, encodeModel, initModel } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const { modelJson, weightsBin } = encodeModel(initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] }))
 * console.log(JSON.parse(modelJson).format, weightsBin.byteLength) // purenn-model 32
 * ```
 * @category Saving
 */
export const encodeModel = (model: Model): ModelFiles => encodeModelAs('encodeModel', model)

/**
 * The model of the two files of the purenn format, in memory, with every check of
 * {@link loadModel} (messages name the file and the field; no partial model).
 *
 * @param files - the text of `model.json` and the bytes of `weights.bin`
 * @param opts - `{ customLayers? }`
 * @returns the model as saved
 * @throws Error describing the first problem found.
 * @example
 * ```ts
 * import { decodeModel, dense, encodeModel, initModel } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const model = initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] })
 * const back = decodeModel(encodeModel(model))
 * console.log(back.params.kernel.toString() === model.params.kernel.toString()) // true
 * ```
 * @category Saving
 */
export const decodeModel = (files: ModelFiles, opts: LoadModelOptions = {}): Model => {
  const json = parseModelJson(files.modelJson)
  const maxBytes = opts.maxBytes ?? 16 * 2 ** 30
  if (json.byteLength > maxBytes)
    fail('model.json', `byteLength: ${json.byteLength} bytes of weights, more than maxBytes (${maxBytes})`)
  if (files.weightsBin.byteLength !== json.byteLength)
    fail(
      weightsFile(json),
      `expected ${json.byteLength} bytes (from model.json), found ${files.weightsBin.byteLength}`,
    )
  return withWeights(checkArchitecture(json, opts), files.weightsBin, opts)
}
