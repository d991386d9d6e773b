import { loadModelAndFiles, type Model, saveModel } from '@purenn/layers'
import { isTensor, type Key, type Tensor, tensor } from '@purenn/tensor'

/**
 * Where and how often {@link fit} writes training checkpoints.
 * @category Checkpoints
 */
export interface CheckpointOptions {
  /** The checkpoint folder: a saved model (see `saveModel`) with the training state beside it. */
  readonly dir: string
  /** Also write one every this many steps inside an epoch. Default: only at the end of each epoch. */
  readonly everySteps?: number
  /** Published checkpoints kept besides the newest. Default 1. */
  readonly keepPrevious?: number
}

/**
 * Everything a resumed `fit` needs to continue bit for bit: one pure value.
 *
 * @remarks Written by `fit` into the checkpoint folder as `training.json` (the structure)
 * and `training.bin` (the float32 tensors of the optimizer and callback states), next to the
 * model, in the same atomically published version.
 * @category Checkpoints
 */
export interface TrainingCheckpoint {
  /** The model after `step` steps. */
  readonly model: Model
  /** The optimizer's state. */
  readonly optState: unknown
  /** The root key of the run (shuffle orders and dropout masks derive from it). */
  readonly key: Key
  /** The epoch to continue (counting from 0). */
  readonly epoch: number
  /** Steps of that epoch already taken: the position in its shuffled order. */
  readonly stepInEpoch: number
  /** Steps taken since the start of training. */
  readonly step: number
  /** The running sums of the epoch so far (rows seen, and the loss and metrics weighted by rows). */
  readonly means: { readonly rows: number; readonly sums: Readonly<Record<string, number>> }
  /** The history of the finished epochs. */
  readonly history: {
    readonly history: Readonly<Record<string, readonly number[]>>
    readonly epoch: readonly number[]
  }
  /** Each callback's state, by position, with its name. */
  readonly callbacks: readonly { readonly name: string; readonly state: unknown }[]
  /** What the data order depends on: rows, batch size, shuffle. A resume must give the same. */
  readonly data: { readonly rows: number; readonly batchSize: number; readonly shuffle: boolean }
}

// ---------------------------------------------------------------------------------------
// Plain data with tensors and non-finite numbers, as JSON plus bytes

type Encoded =
  | null
  | boolean
  | string
  | number
  | { readonly $n: 'NaN' | 'Infinity' | '-Infinity' }
  | { readonly $t: readonly number[]; readonly at: number }
  | { readonly $u: true }
  | readonly Encoded[]
  | { readonly $o: { readonly [k: string]: Encoded } }

const encode = (u: unknown, where: string, chunks: Float32Array[], at: { n: number }): Encoded => {
  if (u === null || typeof u === 'boolean' || typeof u === 'string') return u
  if (u === undefined) return { $u: true }
  if (typeof u === 'number')
    return Number.isFinite(u) ? u : { $n: Number.isNaN(u) ? 'NaN' : u > 0 ? 'Infinity' : '-Infinity' }
  if (isTensor(u)) {
    const t = u as Tensor
    const e = { $t: [...t.shape], at: at.n }
    chunks.push(Float32Array.from(t.data))
    at.n += t.size
    return e
  }
  if (Array.isArray(u)) return u.map((v, i) => encode(v, `${where}[${i}]`, chunks, at))
  if (
    typeof u === 'object' &&
    (Object.getPrototypeOf(u) === Object.prototype || Object.getPrototypeOf(u) === null)
  )
    return {
      $o: Object.fromEntries(Object.entries(u).map(([k, v]) => [k, encode(v, `${where}.${k}`, chunks, at)])),
    }
  throw new Error(`checkpoint: ${where} is not plain data (numbers, strings, arrays, objects, tensors)`)
}

const decode = (e: unknown, where: string, values: Float32Array): unknown => {
  if (e === null || typeof e === 'boolean' || typeof e === 'string' || typeof e === 'number') return e
  if (Array.isArray(e)) return e.map((v, i) => decode(v, `${where}[${i}]`, values))
  if (typeof e === 'object') {
    const o = e as Record<string, unknown>
    if ('$u' in o) return undefined
    if ('$n' in o && (o.$n === 'NaN' || o.$n === 'Infinity' || o.$n === '-Infinity')) return Number(o.$n)
    if ('$t' in o && Array.isArray(o.$t) && Number.isSafeInteger(o.at)) {
      const shape = o.$t as number[]
      const size = shape.reduce((p, d) => p * (Number.isSafeInteger(d) && d >= 0 ? d : Number.NaN), 1)
      const at = o.at as number
      if (!(size >= 0) || at < 0 || at + size > values.length)
        throw new Error(`training.json: ${where}: a tensor outside training.bin`)
      return tensor(values.slice(at, at + size), shape)
    }
    if ('$o' in o && typeof o.$o === 'object' && o.$o !== null)
      return Object.fromEntries(
        Object.entries(o.$o as Record<string, unknown>).map(([k, v]) => [
          k,
          decode(v, `${where}.${k}`, values),
        ]),
      )
  }
  throw new Error(`training.json: ${where}: not an encoded value`)
}

// ---------------------------------------------------------------------------------------
// Files

/**
 * Writes a training checkpoint: the model (with `saveModel`) and its training state, published
 * atomically as one version of `dir`.
 *
 * @param c - the checkpoint
 * @param dir - the checkpoint folder
 * @param keepPrevious - published checkpoints kept besides the new one
 * @returns a promise resolved once the checkpoint is published
 * @throws Error when a callback's state is not plain data, or on file-system errors.
 * @example
 * ```ts
 * import { dense, initModel } from '@purenn/layers'
 * import { sgd } from '@purenn/optim'
 * import { key } from '@purenn/tensor'
 * import { readCheckpoint, writeCheckpoint } from '@purenn/train'
 * import { mkdtemp } from 'node:fs/promises'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * const model = initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] })
 * const dir = join(await mkdtemp(join(tmpdir(), 'purenn-')), 'ckpt')
 * await writeCheckpoint({
 *   model, optState: sgd({ momentum: 0.9 }).init(model.params), key: key(1), epoch: 2, stepInEpoch: 5, step: 45,
 *   means: { rows: 160, sums: { loss: 80 } }, history: { history: { loss: [0.9, 0.6] }, epoch: [0, 1] },
 *   callbacks: [], data: { rows: 640, batchSize: 32, shuffle: true },
 * }, dir)
 * const c = await readCheckpoint(dir)
 * console.log(c.epoch, c.stepInEpoch, c.history.history.loss) // 2 5 [ 0.9, 0.6 ]
 * ```
 * @category Checkpoints
 */
export const writeCheckpoint = async (
  c: TrainingCheckpoint,
  dir: string,
  keepPrevious = 1,
): Promise<void> => {
  const chunks: Float32Array[] = []
  const at = { n: 0 }
  const json = {
    format: 'purenn-checkpoint',
    formatVersion: 1,
    key: [...c.key.words],
    epoch: c.epoch,
    stepInEpoch: c.stepInEpoch,
    step: c.step,
    means: encode(c.means, 'means', chunks, at),
    history: encode(c.history, 'history', chunks, at),
    data: c.data,
    optState: encode(c.optState, 'optimizer state', chunks, at),
    callbacks: c.callbacks.map((cb) => ({
      name: cb.name,
      state: encode(cb.state, `callback ${cb.name}`, chunks, at),
    })),
  }
  const values = new Float32Array(at.n)
  let offset = 0
  for (const chunk of chunks) {
    values.set(chunk, offset)
    offset += chunk.length
  }
  const bytes = new Uint8Array(values.buffer)
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1)
    throw new Error('checkpoint: big-endian hosts are not supported')
  await saveModel(c.model, dir, {
    keepPrevious,
    extraFiles: { 'training.json': `${JSON.stringify(json)}\n`, 'training.bin': bytes },
  })
}

const isWord = (u: unknown) => typeof u === 'number' && Number.isInteger(u) && u >= 0 && u < 2 ** 32
const isCount = (u: unknown): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0

/**
 * Reads the training checkpoint published in `dir` (written by `fit`'s `checkpoint` option or
 * {@link writeCheckpoint}); the model and its training state come from one version.
 *
 * @param dir - the checkpoint folder
 * @returns the checkpoint
 * @throws Error (a rejected promise) naming the file and the field at the first problem.
 * @example
 * ```ts
 * import { readCheckpoint } from '@purenn/train'
 * const err = await readCheckpoint('/nonexistent').then(() => 'read', (e: Error) => e.message)
 * console.log(err) // model.json: not found in /nonexistent
 * ```
 * @category Checkpoints
 */
export const readCheckpoint = async (dir: string): Promise<TrainingCheckpoint> => {
  const { model, files } = await loadModelAndFiles(dir, ['training.json', 'training.bin'])
  let json: Record<string, unknown>
  try {
    json = JSON.parse(new TextDecoder().decode(files['training.json']))
  } catch {
    throw new Error('training.json: not valid JSON')
  }
  const bin = files['training.bin']!
  if (bin.length % 4 !== 0)
    throw new Error(`training.bin: ${bin.length} bytes, not a whole number of float32`)
  const values = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length))
  const fail = (field: string, expected: string): never => {
    throw new Error(`training.json: ${field}: expected ${expected}`)
  }
  if (json.format !== 'purenn-checkpoint') fail('format', '"purenn-checkpoint"')
  if (json.formatVersion !== 1) fail('formatVersion', '1')
  const words = json.key
  if (!Array.isArray(words) || words.length !== 2 || !words.every(isWord)) fail('key', 'two 32-bit words')
  for (const f of ['epoch', 'stepInEpoch', 'step']) if (!isCount(json[f])) fail(f, 'a non-negative integer')
  const data = json.data as Record<string, unknown> | undefined
  if (
    typeof data !== 'object' ||
    data === null ||
    !isCount(data.rows) ||
    !isCount(data.batchSize) ||
    typeof data.shuffle !== 'boolean'
  )
    fail('data', '{rows, batchSize, shuffle}')
  if (!Array.isArray(json.callbacks)) fail('callbacks', 'an array')
  const callbacks = (json.callbacks as { name?: unknown; state?: unknown }[]).map((c, i) => {
    if (typeof c !== 'object' || c === null || typeof c.name !== 'string')
      fail(`callbacks[${i}]`, '{name, state}')
    return { name: c.name as string, state: decode(c.state, `callbacks[${i}].state`, values) }
  })
  const means = decode(json.means, 'means', values) as TrainingCheckpoint['means']
  const history = decode(json.history, 'history', values) as TrainingCheckpoint['history']
  if (typeof means !== 'object' || means === null || !isCount(means.rows)) fail('means', '{rows, sums}')
  if (typeof history !== 'object' || history === null || !Array.isArray(history.epoch))
    fail('history', '{history, epoch}')
  return {
    model,
    optState: decode(json.optState, 'optState', values),
    key: Object.freeze({
      words: Object.freeze([(words as number[])[0]!, (words as number[])[1]!] as const),
    }) as Key,
    epoch: json.epoch as number,
    stepInEpoch: json.stepInEpoch as number,
    step: json.step as number,
    means,
    history,
    callbacks,
    data: data as unknown as TrainingCheckpoint['data'],
  }
}
