import { rename, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import {
  type Json,
  type Model,
  type OptimizerWeights,
  optimizerSlotWeights,
  type Shape,
  tfjsArtifacts,
} from '@purenn/layers'
import { zipSync } from 'fflate'
import { writeH5 } from './h5.js'
import { kerasSnakeCase } from './names.js'
import {
  kerasOptimizerClasses,
  kerasOptimizerDefaults,
  kerasOptimizerLayout,
  slotIndex,
} from './optimizers.js'

/** The Keras release whose `.keras` format the writer follows and was checked against. */
const KERAS_VERSION = '3.15.1'

type Obj = { readonly [k: string]: Json }
type KerasLayer = { readonly class_name: string; readonly config: Obj }

const isObj = (u: Json | undefined): u is Obj => typeof u === 'object' && u !== null && !Array.isArray(u)

/** Keras 3 wants `module` on serialized objects and knows only its own distribution names. */
const keras3Object = (u: Json | undefined, module: string): Json => {
  if (!isObj(u) || typeof u.class_name !== 'string') return u ?? null
  const config = isObj(u.config) ? { ...u.config } : {}
  // TF.js's 'normal' (truncated) is Keras 3's 'truncated_normal'
  if (u.class_name === 'VarianceScaling' && config.distribution === 'normal')
    config.distribution = 'truncated_normal'
  // TF.js spells LeCun with a capital C, Keras 3 does not
  const className = u.class_name.replace(/^LeCun/, 'Lecun')
  return { module, class_name: className, config, registered_name: null }
}

/** The shape after a layer, from its Keras config (the kinds tfjsArtifacts writes). */
const outputShape = (layer: KerasLayer, input: Shape): Shape => {
  if (layer.class_name === 'Flatten') return [input.reduce((p, d) => p * d, 1)]
  if (layer.class_name === 'Dense') return [...input.slice(0, -1), layer.config.units as number]
  if (['Conv2D', 'MaxPooling2D', 'AveragePooling2D'].includes(layer.class_name)) {
    const c = layer.config
    const k = (c.kernel_size ?? c.pool_size) as number[]
    const s = c.strides as number[]
    const d = (c.dilation_rate ?? [1, 1]) as number[]
    const out = (size: number, i: number) =>
      c.padding === 'same'
        ? Math.ceil(size / s[i]!)
        : Math.floor((size - ((k[i]! - 1) * d[i]! + 1)) / s[i]!) + 1
    return [
      out(input[0]!, 0),
      out(input[1]!, 1),
      layer.class_name === 'Conv2D' ? (c.filters as number) : input[2]!,
    ]
  }
  if (layer.class_name === 'GlobalAveragePooling2D') return [input[2]!]
  if (layer.class_name === 'Reshape') {
    const target = layer.config.target_shape as number[]
    const known = target.filter((d) => d !== -1).reduce((p, d) => p * d, 1)
    const total = input.reduce((p, d) => p * d, 1)
    return target.map((d) => (d === -1 ? total / known : d))
  }
  return input
}

/** One TF.js (Keras 2 style) layer config as Keras 3 writes it in `config.json`. */
const keras3Layer = (layer: KerasLayer, input: Shape): Json => {
  const { batch_input_shape: _dropped, ...rest } = layer.config
  const config: { [k: string]: Json } = { ...rest, dtype: 'float32' }
  for (const k of Object.keys(config)) {
    if (k.endsWith('_initializer')) config[k] = keras3Object(config[k], 'keras.initializers')
    if (k.endsWith('_regularizer')) config[k] = keras3Object(config[k], 'keras.regularizers')
    if (k.endsWith('_constraint')) config[k] = keras3Object(config[k], 'keras.constraints')
  }
  if (layer.class_name === 'LeakyReLU') {
    config.negative_slope = config.alpha ?? 0.3
    delete config.alpha
  }
  return {
    module: 'keras.layers',
    class_name: layer.class_name,
    config,
    registered_name: null,
    build_config: { input_shape: [null, ...input] },
  }
}

/**
 * Options of {@link kerasArchive} and {@link saveKerasModel}.
 *
 * @example
 * ```ts
 * import type { KerasSaveOptions } from '@purenn/keras'
 * const opts: KerasSaveOptions = { loss: 'sparse_categorical_crossentropy' }
 * console.log(opts.loss) // sparse_categorical_crossentropy
 * ```
 * @category Keras
 */
export interface KerasSaveOptions {
  /**
   * The optimizer's variables (Adam, SGD with or without momentum, RMSprop, Nadam, Adamax), written as Keras 3
   * keeps them, with a `compile_config` so that `keras.models.load_model` compiles the model
   * and restores them.
   */
  readonly optimizer?: OptimizerWeights
  /** Keras' name of the loss, for `compile_config`. Default `'mean_squared_error'`. */
  readonly loss?: string
}

const optimizerCommon: Obj = {
  weight_decay: null,
  clipnorm: null,
  global_clipnorm: null,
  clipvalue: null,
  use_ema: false,
  ema_momentum: 0.99,
  ema_overwrite_frequency: null,
  loss_scale_factor: null,
  gradient_accumulation_steps: null,
}

/** The optimizer's `compile_config` and its variables in Keras 3's order. */
const kerasOptimizer = (model: Model, w: OptimizerWeights, loss: string) => {
  const defaults = kerasOptimizerDefaults[w.className]
  if (defaults === undefined)
    throw new Error(
      `kerasArchive: optimizer variables of ${w.className}: .keras export writes those of ${kerasOptimizerClasses}`,
    )
  if (!Number.isSafeInteger(w.iterations) || w.iterations < 0)
    throw new Error(`kerasArchive: optimizer iterations must be a non-negative integer, got ${w.iterations}`)
  const given = Object.fromEntries(
    Object.entries(w.config ?? {}).filter(
      ([, v]) => v === null || ['number', 'string', 'boolean'].includes(typeof v),
    ),
  ) as Obj
  const config: { [k: string]: Json } = { ...defaults, ...optimizerCommon, ...given }
  // SGD's momentum slot says whether it has momentum when the config does not
  if (w.className === 'SGD' && w.slots.momentum !== undefined && config.momentum === 0)
    throw new Error(
      'kerasArchive: SGD variables with a momentum slot need config.momentum > 0 (Keras keeps no momentum otherwise)',
    )
  const layout = kerasOptimizerLayout(w.className, config)
  if (typeof layout === 'string')
    throw new Error(`kerasArchive: optimizer variables of ${w.className}: ${layout}`)
  const slotNames = layout.slots
  const extra = Object.keys(w.slots).filter((k) => !slotNames.includes(k))
  if (extra.length > 0)
    throw new Error(
      `kerasArchive: optimizer variables of ${w.className}: Keras' ${w.className} with this config (${JSON.stringify(config)}) has no slot ${extra.join(', ')}; its slots: ${slotNames.join(', ') || 'none'}`,
    )
  const scalars = layout.scalars.map(([name, initial]) => {
    const v = w.scalars?.[name] ?? (w.iterations === 0 ? initial : undefined)
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new Error(
        `kerasArchive: optimizer variables of ${w.className}: the scalar '${name}' is missing or not finite (after ${w.iterations} updates it is no longer ${initial})`,
      )
    return v
  })
  if (typeof config.learning_rate !== 'number')
    throw new Error(
      'kerasArchive: optimizer config.learning_rate must be a number (a schedule is not written)',
    )
  let slots: ReturnType<typeof optimizerSlotWeights>
  try {
    slots = optimizerSlotWeights(model, w, slotNames)
  } catch (e) {
    throw new Error(`kerasArchive: ${(e as Error).message}`)
  }
  // slots holds slot 0 of every weight, then slot 1, ...; Keras' order is slotIndex's
  const k = slots.length / Math.max(slotNames.length, 1)
  const ordered: (typeof slots)[number][] = []
  for (let j = 0; j < slotNames.length; j++)
    for (let i = 0; i < k; i++) ordered[slotIndex(layout, k, i, j) - 2] = slots[j * k + i]!
  return {
    compileConfig: {
      optimizer: { module: 'keras.optimizers', class_name: w.className, config, registered_name: null },
      loss,
      loss_weights: null,
      metrics: null,
      weighted_metrics: null,
      run_eagerly: false,
      steps_per_execution: 1,
      jit_compile: false,
    },
    name: String(config.name),
    learningRate: config.learning_rate,
    values: ordered.map((s) => s.value),
    scalars,
  }
}

/**
 * The model as the bytes of a Keras 3 `.keras` file: a zip of `metadata.json`,
 * `config.json` (Keras 3's model config) and `model.weights.h5`, what
 * `keras.models.load_model` reads.
 *
 * @remarks
 * The layers are written as by `tfjsArtifacts` of `@purenn/layers` (same kinds; a
 * `leakyRelu` activation becomes a `LeakyReLU` layer, `MCDropout` becomes `Dropout`,
 * regularizers `L1L2`), preceded by an `InputLayer` with the model's input shape. In
 * `model.weights.h5` each layer's variables are under `layers/<class in snake case, rank>/vars`
 * with the layer's name as the group's `name` attribute, as Keras 3 writes them. With
 * `options.optimizer` (Adam, SGD, RMSprop, Nadam or Adamax), `config.json` gets a
 * `compile_config` (the optimizer's Keras config, `options.loss`) and `model.weights.h5` the
 * group `optimizer/vars`: `iterations` (int64), `learning_rate`, then the slots in Keras'
 * order (each trainable weight's slots together, as Adam's `momentum`, `velocity`; RMSprop's
 * slot by slot), then Nadam's `u_product`: what Keras 3.15 writes after `fit`. Two saves of one model may differ in bytes: HDF5 stamps each dataset with
 * its creation time (h5wasm offers no way to turn that off). Checked with Keras 3.15 (`scripts/fixtures/keras-fixtures.py check`): predictions
 * within 1e-6 of purenn's.
 *
 * @param model - the model (a `sequential` of the kinds TF.js export handles)
 * @param options - `{ optimizer?, loss? }`
 * @returns the `.keras` file's bytes
 * @example
 * ```ts
 * import { kerasArchive } from '@purenn/keras'
 * import { dense, initModel, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const bytes = await kerasArchive(initModel(sequential([dense({ units: 2 })], { inputShape: [3] }), { key: key(0) }))
 * console.log(String.fromCharCode(bytes[0]!, bytes[1]!)) // PK
 * ```
 * @category Keras
 */
export const kerasArchive = async (model: Model, options: KerasSaveOptions = {}): Promise<Uint8Array> => {
  const a = tfjsArtifacts(model, { target: 'keras3' })
  const opt =
    options.optimizer === undefined
      ? undefined
      : kerasOptimizer(model, options.optimizer, options.loss ?? 'mean_squared_error')
  const topology = a.modelTopology.config as { readonly name: string; readonly layers: readonly KerasLayer[] }
  let shape: Shape = model.inputShape
  const layers: Json[] = [
    {
      module: 'keras.layers',
      class_name: 'InputLayer',
      config: {
        batch_shape: [null, ...model.inputShape],
        dtype: 'float32',
        sparse: false,
        name: 'input_layer',
      },
      registered_name: null,
    },
  ]
  for (const layer of topology.layers) {
    layers.push(keras3Layer(layer, shape))
    shape = outputShape(layer, shape)
  }
  const config = {
    module: 'keras',
    class_name: 'Sequential',
    config: { name: topology.name, trainable: true, dtype: 'float32', layers },
    registered_name: null,
    build_config: { input_shape: [null, ...model.inputShape] },
    ...(opt === undefined ? {} : { compile_config: opt.compileConfig }),
  }
  // the weights of each layer, in the byte order of tfjsArtifacts
  const data = new DataView(a.weightData)
  let offset = 0
  const byLayer = new Map<string, { readonly values: Float32Array; readonly shape: readonly number[] }[]>()
  for (const spec of a.weightSpecs) {
    const size = spec.shape.reduce((p, d) => p * d, 1)
    const values = new Float32Array(size)
    for (let i = 0; i < size; i++, offset += 4) values[i] = data.getFloat32(offset, true)
    const layer = spec.name.slice(0, spec.name.lastIndexOf('/'))
    byLayer.set(layer, [...(byLayer.get(layer) ?? []), { values, shape: spec.shape }])
  }
  const weights = await writeH5((file) => {
    const root = file.create_group('layers')
    const counts = new Map<string, number>()
    for (const layer of topology.layers) {
      const base = kerasSnakeCase(layer.class_name)
      const n = counts.get(base) ?? 0
      counts.set(base, n + 1)
      const group = root.create_group(n === 0 ? base : `${base}_${n}`)
      const vars = group.create_group('vars')
      const name = String(layer.config.name)
      vars.create_attribute('name', name)
      for (const [i, w] of (byLayer.get(name) ?? []).entries())
        vars.create_dataset({ name: String(i), data: w.values, shape: [...w.shape], dtype: '<f4' })
    }
    file.create_group('vars').create_attribute('name', topology.name)
    if (opt !== undefined) {
      const vars = file.create_group('optimizer').create_group('vars')
      vars.create_attribute('name', opt.name)
      vars.create_dataset({ name: '0', data: [options.optimizer!.iterations], shape: [], dtype: '<i8' })
      vars.create_dataset({
        name: '1',
        data: new Float32Array([opt.learningRate as number]),
        shape: [],
        dtype: '<f4',
      })
      opt.values.forEach((t, i) => {
        vars.create_dataset({
          name: String(i + 2),
          data: new Float32Array(t.data),
          shape: [...t.shape],
          dtype: '<f4',
        })
      })
      opt.scalars.forEach((v, i) => {
        vars.create_dataset({
          name: String(2 + opt.values.length + i),
          data: new Float32Array([v]),
          shape: [],
          dtype: '<f4',
        })
      })
    }
  })
  const text = (o: unknown) => new TextEncoder().encode(JSON.stringify(o))
  // a fixed time stamp in the zip headers (the HDF5 file inside has its own)
  const mtime = new Date('1980-01-01T00:00:00Z')
  return zipSync(
    {
      'metadata.json': [text({ keras_version: KERAS_VERSION, saved_by: 'purenn' }), { mtime }],
      'config.json': [text(config), { mtime }],
      'model.weights.h5': [weights, { mtime, level: 0 }],
    },
    { level: 6 },
  )
}

/**
 * Saves the model as a Keras 3 `.keras` file at `path` (see {@link kerasArchive}); the file
 * is written beside its final name and renamed, so `path` is never half written. Node only.
 *
 * @param model - the model
 * @param path - the `.keras` file to write
 * @param options - `{ optimizer?, loss? }` (see {@link kerasArchive})
 * @example
 * ```ts
 * import { saveKerasModel } from '@purenn/keras'
 * import { dense, initModel } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * import { mkdtempSync, statSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * const file = join(mkdtempSync(join(tmpdir(), 'keras-')), 'model.keras')
 * await saveKerasModel(initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] }), file)
 * console.log(statSync(file).size > 0) // true
 * ```
 * @category Keras
 */
export const saveKerasModel = async (
  model: Model,
  path: string,
  options: KerasSaveOptions = {},
): Promise<void> => {
  const bytes = await kerasArchive(model, options)
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  await writeFile(tmp, bytes)
  await rename(tmp, path)
}
