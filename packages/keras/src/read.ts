import { readFile, stat } from 'node:fs/promises'
import {
  type LoadTfjsModelOptions,
  type Model,
  type OptimizerWeights,
  optimizerSlotWeights,
  type Sequential,
  type TfjsWeightSpec,
  tfjsModelFromArtifacts,
} from '@purenn/layers'
import { type Tensor, type Tree, type TreeOf, zeros } from '@purenn/tensor'
import { unzipSync } from 'fflate'
import type { File, Group } from 'h5wasm'
import { datasetAt, groupAt, readH5, stringAttr, stringsAttr } from './h5.js'
import { kerasSnakeCase } from './names.js'
import { kerasOptimizerLayout, slotIndex } from './optimizers.js'

/**
 * Options of {@link loadKerasModel} and {@link kerasModelFromBytes}: the input shape, needed
 * only when the file declares none (as `loadTfjsModel`'s option).
 *
 * @example
 * ```ts
 * import type { LoadKerasModelOptions } from '@purenn/keras'
 * const opts: LoadKerasModelOptions = { inputShape: [28, 28] }
 * console.log(opts.inputShape) // [ 28, 28 ]
 * ```
 * @category Keras
 */
export type LoadKerasModelOptions = Omit<LoadTfjsModelOptions, 'keras3'>

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
type LayerSpec = { readonly class_name: string; readonly config: { readonly [k: string]: Json } }

const ZIP = [0x50, 0x4b, 0x03, 0x04]
const HDF5 = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
const startsWith = (bytes: Uint8Array, magic: readonly number[]) => magic.every((b, i) => bytes[i] === b)

/** What the bytes are, in words, for an error message when they are not a Keras model. */
const describe = (bytes: Uint8Array): string => {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart()
  if (head.startsWith('{'))
    return 'a JSON file (a TF.js model.json is read by loadTfjsModel of @purenn/layers; a purenn model folder by loadModel)'
  return 'neither a .keras file (a zip) nor an HDF5 .h5 file'
}

const fail = (where: string, what: string): Error => new Error(`loadKerasModel: ${where}: ${what}`)

/** Whether a `keras_version` string ("3.15.1") is Keras 3 or later. */
const isKeras3 = (version: unknown): boolean =>
  typeof version === 'string' && Number.parseInt(version.split('.')[0] ?? '', 10) >= 3

/** The layer list of a Keras model config (`{ class_name: 'Sequential', config: { layers } }`). */
const layersOf = (config: Json, where: string): readonly LayerSpec[] => {
  const c = config as { class_name?: Json; config?: { layers?: Json } } | null
  const layers = c?.config?.layers
  if (!Array.isArray(layers))
    throw fail(
      where,
      `${typeof c?.class_name === 'string' ? `a ${c.class_name} model` : 'a model'} without a layer list; purenn reads Sequential models`,
    )
  return layers as unknown as LayerSpec[]
}

/** The names of a layer's variables, in Keras' order (`layer.weights`). */
const weightNames = (spec: LayerSpec, count: number): string[] => {
  const c = spec.config
  switch (spec.class_name) {
    case 'Dense':
    case 'Conv2D':
      return ['kernel', 'bias'].slice(0, c.use_bias === false ? 1 : 2)
    case 'PReLU':
      return ['alpha']
    case 'BatchNormalization':
      return [
        ...(c.scale === false ? [] : ['gamma']),
        ...(c.center === false ? [] : ['beta']),
        'moving_mean',
        'moving_variance',
      ]
    default:
      return Array.from({ length: count }, (_, i) => `var_${i}`)
  }
}

interface Weights {
  readonly specs: TfjsWeightSpec[]
  readonly parts: Float32Array[]
  /** Statistics of `Normalization` layers adapted in Keras, by index in the layer list. */
  readonly adapted: Map<number, { readonly mean: number[]; readonly variance: number[] }>
}

/** Whether a Normalization layer's config leaves its statistics to weights (it was adapted). */
const isAdapted = (spec: LayerSpec): boolean =>
  spec.class_name === 'Normalization' &&
  (spec.config.mean === null || spec.config.mean === undefined) &&
  (spec.config.variance === null || spec.config.variance === undefined)

/**
 * The config with the statistics of adapted `Normalization` layers written in, as
 * `Normalization(mean=..., variance=...)` would have them: purenn's normalization keeps them
 * in its config.
 */
const withAdapted = (config: Json, w: Weights): Json => {
  if (w.adapted.size === 0) return config
  const c = config as { config: { layers: LayerSpec[] } }
  return {
    ...(config as { [k: string]: Json }),
    config: {
      ...(c.config as unknown as { [k: string]: Json }),
      layers: c.config.layers.map((l, i) => {
        const stats = w.adapted.get(i)
        return stats === undefined ? l : { ...l, config: { ...l.config, ...stats } }
      }) as unknown as Json,
    },
  }
}

/** An adapted Normalization's `vars`: 0 the mean, 1 the variance (float32, one shape), 2 the count. */
const adaptedStatistics = (vars: Group, where: string) => {
  const read = (i: number, what: string): Float32Array => {
    const d = datasetAt(vars, String(i))
    if (d === undefined) throw fail(where, `an adapted Normalization without its ${what} (vars/${i})`)
    if (!(d.value instanceof Float32Array))
      throw fail(`${where}/${i}`, `the ${what} has dtype ${JSON.stringify(d.dtype)}; expected float32`)
    return d.value
  }
  const mean = read(0, 'mean')
  const variance = read(1, 'variance')
  if (mean.length !== variance.length)
    throw fail(where, `the mean has ${mean.length} values and the variance ${variance.length}`)
  const bad = [...mean, ...variance].findIndex((v) => !Number.isFinite(v))
  if (bad >= 0) throw fail(where, 'the adapted statistics hold a NaN or an infinity')
  return { mean: Array.from(mean), variance: Array.from(variance) }
}

const pushDataset = (w: Weights, group: Group, path: string, name: string, where: string): void => {
  const d = datasetAt(group, path)
  if (d === undefined) throw fail(where, `no dataset ${path}`)
  const value = d.value
  if (!(value instanceof Float32Array))
    throw fail(`${where}/${path}`, `dtype ${JSON.stringify(d.dtype)}: purenn reads float32 weights only`)
  w.specs.push({ name, shape: d.shape ?? [], dtype: 'float32' })
  w.parts.push(value)
}

/**
 * Keras 3's `model.weights.h5`: `layers/<key>/vars/<i>`, where the key is the layer's class in
 * snake case and its rank among layers of that class (`dense`, `dense_1`); the layer's own
 * name is the `name` attribute of its `vars` group (Keras ≥ 3.x writes it; without it the key
 * is recomputed from the config).
 */
const kerasWeights = (file: File, layers: readonly LayerSpec[]): Weights => {
  const w: Weights = { specs: [], parts: [], adapted: new Map() }
  const counts = new Map<string, number>()
  for (const [index, spec] of layers.entries()) {
    if (spec.class_name === 'InputLayer') continue
    const base = kerasSnakeCase(spec.class_name)
    const n = counts.get(base) ?? 0
    counts.set(base, n + 1)
    const key = n === 0 ? base : `${base}_${n}`
    const vars = groupAt(file, `layers/${key}/vars`)
    const where = `model.weights.h5: layers/${key}`
    if (vars === undefined) continue
    if (isAdapted(spec)) {
      w.adapted.set(index, adaptedStatistics(vars, where))
      continue
    }
    const layerName =
      stringAttr(vars, 'name') ?? (typeof spec.config.name === 'string' ? spec.config.name : key)
    const count = vars.keys().length
    const names = weightNames(spec, count)
    if (names.length !== count)
      throw fail(
        where,
        `${count} variables where a ${spec.class_name} has ${names.length} (${names.join(', ')})`,
      )
    names.forEach((name, i) => {
      pushDataset(w, vars, String(i), `${layerName}/${name}`, where)
    })
  }
  return w
}

/** A legacy `.h5` file's `model_weights`: one group per layer listing its `weight_names`. */
const legacyWeights = (file: File): Weights => {
  const w: Weights = { specs: [], parts: [], adapted: new Map() }
  const root = groupAt(file, 'model_weights')
  if (root === undefined) throw fail('.h5', 'no model_weights group')
  const layerNames = stringsAttr(root, 'layer_names') ?? root.keys()
  for (const layer of layerNames) {
    const g = groupAt(root, layer)
    if (g === undefined) throw fail(`.h5: model_weights`, `no group for layer "${layer}"`)
    for (const weightName of stringsAttr(g, 'weight_names') ?? []) {
      const last = weightName.split('/').pop()!.replace(/:\d+$/, '')
      pushDataset(w, g, weightName, `${layer}/${last}`, `.h5: model_weights/${layer}`)
    }
  }
  return w
}

/** `optimizer/vars/<i>` of `model.weights.h5`, in order, as numbers (int64 iterations included). */
const optimizerVars = (file: File): (Float32Array | number)[] => {
  const vars = groupAt(file, 'optimizer/vars')
  if (vars === undefined) return []
  const count = vars.keys().length
  return Array.from({ length: count }, (_, i) => {
    const where = `model.weights.h5: optimizer/vars/${i}`
    const d = datasetAt(vars, String(i))
    if (d === undefined) throw fail(where, 'missing')
    const v = d.value
    if (v instanceof Float32Array) return (d.shape ?? []).length === 0 ? v[0]! : v
    if (typeof v === 'number') return v
    if (typeof v === 'bigint') return Number(v)
    if (v instanceof BigInt64Array && v.length === 1) return Number(v[0])
    throw fail(
      where,
      `dtype ${JSON.stringify(d.dtype)}: expected float32 variables and an integer iteration count`,
    )
  })
}

type Obj = { readonly [k: string]: Json }
const isObj = (u: Json | undefined): u is Obj => typeof u === 'object' && u !== null && !Array.isArray(u)

/** Zeros where the mask is false (a frozen layer's weights, which Keras' optimizer does not track). */
const zerosWhereFrozen = (t: Tree, mask: TreeOf<boolean> | undefined): Tree => {
  if (mask === false) return typeof t === 'object' && 'shape' in t ? zeros((t as Tensor).shape) : t
  if (typeof mask !== 'object' || mask === null) return t
  if (Array.isArray(t)) return t.map((c, i) => zerosWhereFrozen(c, (mask as TreeOf<boolean>[])[i]))
  if (typeof t === 'object' && !('shape' in t)) {
    const out: { [k: string]: Tree } = {}
    for (const [k, v] of Object.entries(t))
      out[k] = zerosWhereFrozen(v, (mask as { [k: string]: TreeOf<boolean> })[k])
    return out
  }
  return t
}

/** The optimizer of a `.keras` file as {@link OptimizerWeights}, or undefined when it has no variables. */
const optimizerOf = (
  config: Json,
  weights: Weights,
  vars: readonly (Float32Array | number)[],
  model: Model<Sequential>,
  opts: LoadTfjsModelOptions,
): OptimizerWeights | undefined => {
  if (vars.length === 0) return undefined
  const compile = isObj(config) ? config.compile_config : undefined
  const opt = isObj(compile) ? compile.optimizer : undefined
  const className = isObj(opt) && typeof opt.class_name === 'string' ? opt.class_name : undefined
  const optConfig = isObj(opt) && isObj(opt.config) ? opt.config : {}
  const where = 'config.json: compile_config.optimizer'
  if (className === undefined)
    throw fail(where, 'missing, yet model.weights.h5 holds optimizer variables: their class is unknown')
  const trainable = optimizerSlotWeights(model, { className, iterations: 0, slots: { p: model.params } }, [
    'p',
  ]).map((s) => s.weight)
  const k = trainable.length
  const layout = kerasOptimizerLayout(className, optConfig)
  if (typeof layout === 'string')
    throw fail(
      where,
      `the variables of ${className} are not read (${layout}); kerasModelFromBytes / loadKerasModel read the model alone`,
    )
  const slotNames = layout.slots
  const expected = 2 + slotNames.length * k + layout.scalars.length
  // compiled but never trained: Keras keeps iterations (0) and the learning rate, no slots yet
  const unbuilt = vars.length === 2 && vars[0] === 0
  if (vars.length !== expected && !unbuilt)
    throw fail(
      'model.weights.h5: optimizer/vars',
      `${vars.length} variables where ${className} over ${k} trainable weights has ${expected} (iterations, learning_rate${slotNames.map((n) => `, ${n}`).join('')} per weight${layout.scalars.map(([n]) => `, ${n}`).join('')})`,
    )
  const scalars: Record<string, number> = {}
  layout.scalars.forEach(([name, initial], i) => {
    const v = unbuilt ? initial : vars[2 + slotNames.length * k + i]!
    if (typeof v !== 'number')
      throw fail(
        `model.weights.h5: optimizer/vars/${2 + slotNames.length * k + i}`,
        `${className}'s ${name}: expected a scalar, found ${v.length} values`,
      )
    scalars[name] = v
  })
  const [iterations, learningRate] = vars as [number, number]
  if (typeof iterations !== 'number' || !Number.isSafeInteger(iterations) || iterations < 0)
    throw fail(
      'model.weights.h5: optimizer/vars/0',
      `expected the iteration count, found ${String(iterations)}`,
    )
  const slots: Record<string, Tree> = {}
  slotNames.forEach((slot, j) => {
    // Adam, SGD, Nadam, Adamax keep the slots of one weight together (vars[2 + i·slots + j]),
    // RMSprop each slot's weights together (vars[2 + j·k + i])
    const byName = new Map<string, Float32Array>()
    trainable.forEach((name, i) => {
      const v = unbuilt
        ? new Float32Array(weights.parts[weights.specs.findIndex((s) => s.name === name)]!.length)
        : vars[slotIndex(layout, k, i, j)]!
      byName.set(name, typeof v === 'number' ? new Float32Array([v]) : v)
    })
    const parts = weights.specs.map((spec, i) => byName.get(spec.name) ?? weights.parts[i]!)
    weights.specs.forEach((spec, i) => {
      const got = parts[i]!.length
      const want = spec.shape.reduce((a, b) => a * b, 1)
      if (got !== want)
        throw fail(
          'model.weights.h5: optimizer/vars',
          `${className}'s ${slot} of ${spec.name}: ${got} values where the weight has ${want}`,
        )
    })
    const slotModel = tfjsModelFromArtifacts(
      { modelTopology: withAdapted(config, weights), weightSpecs: weights.specs, weightData: concat(parts) },
      { ...opts, allowNonFinite: true },
    )
    slots[slot] = zerosWhereFrozen(slotModel.params as Tree, model.trainable as TreeOf<boolean>)
  })
  return {
    className,
    iterations,
    config: { ...optConfig, learning_rate: learningRate },
    slots,
    ...(layout.scalars.length === 0 ? {} : { scalars }),
  }
}

const concat = (parts: readonly Float32Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let offset = 0
  for (const p of parts) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offset)
    offset += p.byteLength
  }
  return out
}

const parseJson = (text: string, where: string): Json => {
  try {
    return JSON.parse(text) as Json
  } catch (e) {
    throw fail(where, `not valid JSON (${(e as Error).message})`)
  }
}

/**
 * A Keras model given as the bytes of a `.keras` file (Keras 3) or of a legacy `.h5` file
 * (Keras 2 or 3 `model.save('m.h5')`), as a purenn model. Works without a file system.
 *
 * @remarks
 * The architecture (`config.json` of the zip, or the `model_config` attribute of the `.h5`)
 * goes through the same reader as `loadTfjsModel`, so the same layer kinds, activations,
 * initializers and regularizers are read and the same errors name the field; the weights
 * come from `model.weights.h5` (or `model_weights`). Optimizer variables are skipped (read by
 * {@link kerasModelWithOptimizerFromBytes}).
 * Functional models and nested models are refused with a message naming the class.
 * A weights-only `.weights.h5` file, a zip without `config.json`, a JSON file or anything
 * else is refused with a message saying what it is and which function reads it.
 *
 * @param bytes - the file's bytes
 * @param opts - `{ inputShape? }`
 * @returns the model, its layers named as in Keras
 * @example
 * ```ts
 * import { kerasArchive, kerasModelFromBytes } from '@purenn/keras'
 * import { dense, initModel, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const model = initModel(sequential([dense({ units: 2, activation: 'relu' })], { inputShape: [3] }), { key: key(0) })
 * const back = await kerasModelFromBytes(await kerasArchive(model))
 * console.log(back.layer.names, back.params.dense.kernel.data.join() === model.params.dense.kernel.data.join()) // [ 'dense' ] true
 * ```
 * @category Keras
 */
export const kerasModelFromBytes = async (
  bytes: Uint8Array,
  opts: LoadKerasModelOptions = {},
): Promise<Model<Sequential>> => (await readKeras(bytes, opts, false)).model

/**
 * A Keras model read with its optimizer's variables (see {@link kerasModelWithOptimizerFromBytes}).
 *
 * @example
 * ```ts
 * import type { KerasModelWithOptimizer } from '@purenn/keras'
 * const count = (r: KerasModelWithOptimizer) => r.optimizer?.iterations ?? 0
 * console.log(typeof count) // function
 * ```
 * @category Keras
 */
export interface KerasModelWithOptimizer {
  readonly model: Model<Sequential>
  /** Undefined when the file holds no optimizer variables (never trained, or a legacy `.h5`). */
  readonly optimizer: OptimizerWeights | undefined
}

/**
 * {@link kerasModelFromBytes}, also reading the optimizer's variables that Keras 3 keeps in a
 * `.keras` file after training (`model.weights.h5`'s `optimizer/vars`, the class and config from
 * `config.json`'s `compile_config`).
 *
 * @remarks
 * Read for the optimizers whose variables are purenn's, after `iterations` and `learning_rate`:
 * `Adam` (`momentum` and `velocity` of each trainable weight in turn; AMSGrad is refused),
 * `SGD` (with momentum, the `momentum` of each trainable weight), `RMSprop` (every weight's
 * `velocity`, then with momentum every `momentum`, then when centered every
 * `average_gradient`), `Nadam` (`momentum` and `velocity` in turn, then the scalar
 * `u_product`, given in `scalars`) and `Adamax` (`momentum` and `norm` in turn). Another class
 * is an error naming it; load the model alone with {@link kerasModelFromBytes}. The slots are
 * trees shaped like the model's params (zeros for a frozen layer's weights, which Keras'
 * optimizer does not track); `config` is Keras' optimizer config with `learning_rate` as
 * stored. `@purenn/optim`'s `restoreAdamState`, `restoreSgdState`, `restoreRmspropState`,
 * `restoreNadamState` and `restoreAdamaxState` turn the result into a state. Legacy `.h5`
 * files give no optimizer.
 *
 * @param bytes - the `.keras` file's bytes
 * @param opts - `{ inputShape? }`
 * @returns `{ model, optimizer }`
 * @example
 * ```ts
 * import { kerasArchive, kerasModelWithOptimizerFromBytes } from '@purenn/keras'
 * import { dense, initModel, sequential } from '@purenn/layers'
 * import { key, tree } from '@purenn/tensor'
 * const model = initModel(sequential([dense({ units: 1 })], { inputShape: [2] }), { key: key(0) })
 * const slots = { momentum: tree.map(model.params, (t) => t), velocity: tree.map(model.params, (t) => t) }
 * const bytes = await kerasArchive(model, { optimizer: { className: 'Adam', iterations: 5, slots } })
 * const { optimizer } = await kerasModelWithOptimizerFromBytes(bytes)
 * console.log(optimizer?.className, optimizer?.iterations) // Adam 5
 * ```
 * @category Keras
 */
export const kerasModelWithOptimizerFromBytes = (
  bytes: Uint8Array,
  opts: LoadKerasModelOptions = {},
): Promise<KerasModelWithOptimizer> => readKeras(bytes, opts, true)

const readKeras = async (
  bytes: Uint8Array,
  opts: LoadKerasModelOptions,
  withOptimizer: boolean,
): Promise<KerasModelWithOptimizer> => {
  if (startsWith(bytes, ZIP)) {
    let entries: { [name: string]: Uint8Array }
    try {
      entries = unzipSync(bytes, {
        filter: (f) => ['config.json', 'metadata.json', 'model.weights.h5'].includes(f.name),
      })
    } catch (e) {
      throw fail('.keras', `not a readable zip (${(e as Error).message})`)
    }
    const configBytes = entries['config.json']
    const weightsBytes = entries['model.weights.h5']
    if (configBytes === undefined || weightsBytes === undefined)
      throw fail(
        '.keras',
        `a zip without ${configBytes === undefined ? 'config.json' : 'model.weights.h5'}: not a Keras 3 .keras file`,
      )
    const config = parseJson(new TextDecoder().decode(configBytes), 'config.json')
    const metadata =
      entries['metadata.json'] === undefined
        ? undefined
        : parseJson(new TextDecoder().decode(entries['metadata.json']), 'metadata.json')
    // `hard_sigmoid` means Keras 3's relu6(x + 3)/6 only in files Keras 3 wrote (tf.keras 2.13+
    // also wrote .keras files, with Keras 2's clip(0.2x + 0.5, 0, 1))
    const keras3 = isObj(metadata) && isKeras3(metadata.keras_version)
    const layers = layersOf(config, 'config.json')
    const w = await readH5(weightsBytes, (file) => ({
      weights: kerasWeights(file, layers),
      optimizer: optimizerVars(file),
    }))
    const model = withContext('config.json', () =>
      tfjsModelFromArtifacts(
        {
          modelTopology: withAdapted(config, w.weights),
          weightSpecs: w.weights.specs,
          weightData: concat(w.weights.parts),
        },
        { ...opts, keras3 },
      ),
    )
    return {
      model,
      optimizer: withOptimizer
        ? optimizerOf(config, w.weights, w.optimizer, model, { ...opts, keras3 })
        : undefined,
    }
  }
  if (startsWith(bytes, HDF5)) {
    const read = await readH5(bytes, (file) => {
      const modelConfig = stringAttr(file, 'model_config')
      if (modelConfig === undefined)
        throw fail(
          '.h5',
          groupAt(file, 'layers') !== undefined || groupAt(file, 'model_weights') !== undefined
            ? 'a weights-only file (model.save_weights): it holds no architecture; build the model in purenn and set its weights, or save the whole model with model.save("m.keras")'
            : 'an HDF5 file with no model_config attribute: not a Keras model',
        )
      const config = parseJson(modelConfig, '.h5 model_config')
      layersOf(config, '.h5 model_config')
      return { config, weights: legacyWeights(file), keras3: isKeras3(stringAttr(file, 'keras_version')) }
    })
    const model = withContext('.h5 model_config', () =>
      tfjsModelFromArtifacts(
        {
          modelTopology: read.config,
          weightSpecs: read.weights.specs,
          weightData: concat(read.weights.parts),
        },
        { ...opts, keras3: read.keras3 },
      ),
    )
    return { model, optimizer: undefined }
  }
  throw new Error(`loadKerasModel: ${describe(bytes)}`)
}

/** Re-words the TF.js reader's messages for a Keras file. */
const withContext = <A>(where: string, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    throw new Error(
      `loadKerasModel: ${where}: ${(e as Error).message.replace(/^tfjsModelFromArtifacts: /, '')}`,
    )
  }
}

/**
 * Loads a Keras model file, `.keras` (Keras 3) or legacy `.h5`, as a purenn model ready to
 * fine-tune or evaluate. Node only (see {@link kerasModelFromBytes} for bytes).
 *
 * @param path - the `.keras` or `.h5` file
 * @param opts - `{ inputShape? }`
 * @returns the model
 * @example
 * ```ts
 * import { loadKerasModel, saveKerasModel } from '@purenn/keras'
 * import { dense, initModel, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * const file = join(mkdtempSync(join(tmpdir(), 'keras-')), 'm.keras')
 * await saveKerasModel(initModel(sequential([dense({ units: 2 })], { inputShape: [3] }), { key: key(0) }), file)
 * console.log((await loadKerasModel(file)).inputShape) // [ 3 ]
 * ```
 * @category Keras
 */
export const loadKerasModel = async (
  path: string,
  opts: LoadKerasModelOptions = {},
): Promise<Model<Sequential>> => {
  let info: Awaited<ReturnType<typeof stat>>
  try {
    info = await stat(path)
  } catch {
    throw new Error(`loadKerasModel: cannot read ${path}`)
  }
  if (info.isDirectory())
    throw new Error(
      `loadKerasModel: ${path} is a folder; a purenn model folder is read by loadModel and a TF.js model folder by loadTfjsModel, both of @purenn/layers`,
    )
  if (!info.isFile()) throw new Error(`loadKerasModel: ${path} is not a regular file`)
  return inFile(path, kerasModelFromBytes(new Uint8Array(await readFile(path)), opts))
}

/** A reader's error with the file's path after the function name: `loadKerasModel: m.keras: config.json: ...`. */
const inFile = async <A>(path: string, read: Promise<A>): Promise<A> => {
  try {
    return await read
  } catch (e) {
    throw new Error(`loadKerasModel: ${path}: ${(e as Error).message.replace(/^loadKerasModel: /, '')}`)
  }
}

/**
 * {@link loadKerasModel}, also reading the optimizer's variables (see
 * {@link kerasModelWithOptimizerFromBytes}). Node only.
 *
 * @param path - the `.keras` file
 * @param opts - `{ inputShape? }`
 * @returns `{ model, optimizer }`
 * @example
 * ```ts
 * import { loadKerasModelWithOptimizer, saveKerasModel } from '@purenn/keras'
 * import { dense, initModel, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * const file = join(mkdtempSync(join(tmpdir(), 'keras-')), 'm.keras')
 * const model = initModel(sequential([dense({ units: 2 })], { inputShape: [3] }), { key: key(0) })
 * await saveKerasModel(model, file, { optimizer: { className: 'SGD', iterations: 4, slots: {} } })
 * const { optimizer } = await loadKerasModelWithOptimizer(file)
 * console.log(optimizer?.className, optimizer?.iterations) // SGD 4
 * ```
 * @category Keras
 */
export const loadKerasModelWithOptimizer = async (
  path: string,
  opts: LoadKerasModelOptions = {},
): Promise<KerasModelWithOptimizer> => {
  await loadKerasModel(path, opts) // the same checks and messages for the file itself
  return inFile(path, kerasModelWithOptimizerFromBytes(new Uint8Array(await readFile(path)), opts))
}
