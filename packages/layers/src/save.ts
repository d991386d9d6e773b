import * as fs from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import type { Model } from './model.js'
import {
  checkArchitecture,
  encodeModelAs,
  type LoadModelOptions,
  parseModelJson,
  withWeights,
} from './modelFormat.js'

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
  const { modelJson: text, weightsBin: bytes } = encodeModelAs('saveModel', model)

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
  const json = parseModelJson(text)

  const stat = await fs
    .stat(binPath)
    .catch((e: Error) => fail('weights.bin', `cannot read ${binPath}: ${e.message}`))
  if (stat.size !== json.byteLength)
    fail('weights.bin', `expected ${json.byteLength} bytes (from model.json), found ${stat.size}`)

  const checked = checkArchitecture(json, opts)
  const bin = await fs
    .readFile(binPath)
    .catch((e: Error) => fail('weights.bin', `cannot read ${binPath}: ${e.message}`))
  return withWeights(checked, bin)
}
