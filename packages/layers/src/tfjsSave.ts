import * as fs from 'node:fs/promises'
import { join } from 'node:path'
import type { Tensor, Tree, TreeOf } from '@purenn/tensor'
import { makeFolders } from '@purenn/tensor/internal'
import { sha256Hex, tfjsShardChecksumField } from './internal/tfjsChecksum.js'
import type { AnyLayer, Json } from './layer.js'
import type { Model } from './model.js'
import { type OptimizerWeights, tfjsOptimizerConfig, tfjsSlotNames } from './optimizerWeights.js'
import type { Sequential } from './sequential.js'

// Writing the TF.js Layers format, the inverse of `loadTfjsModel`: a `model.json` with a
// Keras `Sequential` topology and a weights manifest, and one binary shard of little-endian
// float32 weights. What TF.js's `tf.loadLayersModel` reads.

/**
 * One weight in a TF.js weights manifest: its Keras name (`dense/kernel`), shape and dtype.
 *
 * @example
 * ```ts
 * import type { TfjsWeightSpec } from '@purenn/layers'
 * const spec: TfjsWeightSpec = { name: 'dense/kernel', shape: [784, 300], dtype: 'float32' }
 * console.log(spec.name) // dense/kernel
 * ```
 * @category Models
 */
export interface TfjsWeightSpec {
  readonly name: string
  readonly shape: readonly number[]
  /** `int32` only for the optimizer's iteration count. */
  readonly dtype: 'float32' | 'int32'
  /** `'optimizer'` for an optimizer weight, as TF.js marks them. */
  readonly group?: 'optimizer'
}

/**
 * Options of {@link tfjsArtifacts} and {@link saveTfjsModel}.
 *
 * @example
 * ```ts
 * import type { TfjsSaveOptions } from '@purenn/layers'
 * const opts: TfjsSaveOptions = { loss: 'sparse_categorical_crossentropy' }
 * console.log(opts.loss) // sparse_categorical_crossentropy
 * ```
 * @category Models
 */
export interface TfjsSaveOptions {
  /**
   * The optimizer's variables to write after the model's weights (TF.js 4.22's Adam, or SGD
   * without momentum), as TF.js's `model.save(handler, { includeOptimizer: true })` does.
   */
  readonly optimizer?: OptimizerWeights
  /**
   * Keras' name of the loss (`'categorical_crossentropy'`), written in `trainingConfig` with the
   * optimizer: TF.js compiles a loaded model, and so restores its optimizer, only when
   * `trainingConfig` is present. Default `'mean_squared_error'`.
   */
  readonly loss?: string
  /**
   * The format the topology is for. Default `'tfjs'` (TF.js 4.22's layers and activations);
   * `'keras3'` is what `@purenn/keras` writes `.keras` files from: the activations Keras 3 has
   * and TF.js lacks (`hard_sigmoid` as Keras 3 defines it, `hard_silu`) and the
   * `Normalization` layer are allowed.
   */
  readonly target?: 'tfjs' | 'keras3'
}

/**
 * A model in TF.js's Layers format, in memory: the Keras topology, the weight specs in
 * order and their bytes (the fields of TF.js's `ModelArtifacts`, so
 * `tf.io.fromMemory(artifacts)` loads it in TF.js).
 *
 * @example
 * ```ts
 * import { dense, initModel, sequential, tfjsArtifacts } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const model = initModel(sequential([dense({ units: 2 })], { inputShape: [3] }), { key: key(0) })
 * const a = tfjsArtifacts(model)
 * console.log(a.weightSpecs.map((w) => w.name), a.weightData.byteLength) // [ 'dense/kernel', 'dense/bias' ] 32
 * ```
 * @category Models
 */
export interface TfjsArtifacts {
  /** `{ class_name: 'Sequential', config: { name, layers }, keras_version, backend }`. */
  readonly modelTopology: { readonly [key: string]: Json }
  /** The weights, in the order of their bytes in `weightData`. */
  readonly weightSpecs: readonly TfjsWeightSpec[]
  /** All weights, little-endian float32 (the optimizer's `iter`: int32), concatenated. */
  readonly weightData: ArrayBuffer
  /** `{ loss, metrics, optimizer_config }`, when optimizer weights are written. */
  readonly trainingConfig?: { readonly [key: string]: Json }
}

type KerasLayer = { readonly class_name: string; readonly config: { [key: string]: Json } }
/** The format written; `weights` when only the weights' names and order matter. */
type Target = 'tfjs' | 'keras3' | 'weights'

/** A purenn layer as Keras layers, with the purenn tensors of each Keras weight. */
interface Converted {
  readonly layers: readonly KerasLayer[]
  readonly weights: readonly (readonly [name: string, value: Tensor])[]
}

const fail = (path: string, kind: string, what: string): Error =>
  new Error(`tfjsArtifacts: layer '${path}' (${kind}): ${what}`)

/** purenn initializer config -> Keras `{ class_name, config }`. */
const kerasInitializer = (u: Json | undefined, path: string, kind: string): Json => {
  const name = typeof u === 'string' ? u : (u as { name?: Json } | null | undefined)?.name
  const c = (typeof u === 'object' && u !== null && !Array.isArray(u) ? u : {}) as {
    readonly [k: string]: Json
  }
  const simple: { readonly [k: string]: string } = {
    glorotUniform: 'GlorotUniform',
    glorotNormal: 'GlorotNormal',
    heNormal: 'HeNormal',
    heUniform: 'HeUniform',
    lecunNormal: 'LeCunNormal',
    lecunUniform: 'LeCunUniform',
    zeros: 'Zeros',
    ones: 'Ones',
  }
  if (typeof name === 'string' && Object.hasOwn(simple, name)) {
    const className = simple[name]!
    return {
      class_name: className,
      config: className === 'Zeros' || className === 'Ones' ? {} : { seed: null },
    }
  }
  switch (name) {
    case 'constant':
      return { class_name: 'Constant', config: { value: c.value ?? 0 } }
    case 'randomNormal':
      return {
        class_name: 'RandomNormal',
        config: { mean: c.mean ?? 0, stddev: c.stddev ?? 0.05, seed: null },
      }
    case 'truncatedNormal':
      return {
        class_name: 'TruncatedNormal',
        config: { mean: c.mean ?? 0, stddev: c.stddev ?? 0.05, seed: null },
      }
    case 'randomUniform':
      return {
        class_name: 'RandomUniform',
        config: { minval: c.minval ?? -0.05, maxval: c.maxval ?? 0.05, seed: null },
      }
    case 'varianceScaling': {
      const modes: { readonly [k: string]: string } = {
        fanIn: 'fan_in',
        fanOut: 'fan_out',
        fanAvg: 'fan_avg',
      }
      // TF.js's 'normal' is the truncated normal, as Keras 2's
      const distributions: { readonly [k: string]: string } = {
        truncatedNormal: 'normal',
        uniform: 'uniform',
      }
      const mode = modes[String(c.mode ?? 'fanIn')]
      const distribution = distributions[String(c.distribution ?? 'truncatedNormal')]
      if (mode === undefined || distribution === undefined)
        throw fail(path, kind, `initializer ${JSON.stringify(u)} has no TF.js equivalent`)
      return {
        class_name: 'VarianceScaling',
        config: { scale: c.scale ?? 1, mode, distribution, seed: null },
      }
    }
    default:
      throw fail(path, kind, `initializer ${JSON.stringify(u)} has no TF.js equivalent`)
  }
}

/** purenn regularizer config -> Keras `L1L2` (TF.js reads L1L2 for all three). */
const kerasRegularizer = (u: Json | undefined): Json => {
  if (u === undefined || u === null) return null
  const c = u as { readonly l1?: Json; readonly l2?: Json }
  return { class_name: 'L1L2', config: { l1: c.l1 ?? 0, l2: c.l2 ?? 0 } }
}

/**
 * A constraint config (`{ name: 'maxNorm', maxValue, axis }`, ...) as Keras' serialized
 * constraint (`MaxNorm`, `NonNeg`, `UnitNorm`, `MinMaxNorm`, which TF.js also reads).
 */
const kerasConstraint = (u: Json | undefined): Json => {
  if (u === undefined || u === null) return null
  const c = u as { readonly [k: string]: Json }
  switch (c.name) {
    case 'maxNorm':
      return { class_name: 'MaxNorm', config: { max_value: c.maxValue ?? 2, axis: c.axis ?? 0 } }
    case 'nonNeg':
      return { class_name: 'NonNeg', config: {} }
    case 'unitNorm':
      return { class_name: 'UnitNorm', config: { axis: c.axis ?? 0 } }
    default:
      return {
        class_name: 'MinMaxNorm',
        config: {
          min_value: c.minValue ?? 0,
          max_value: c.maxValue ?? 1,
          rate: c.rate ?? 1,
          axis: c.axis ?? 0,
        },
      }
  }
}

/**
 * An activation config (`'relu'`, `{ name: 'elu', alpha }`) as a TF.js activation name, or
 * as a layer when TF.js has no such activation (leaky ReLU). ELU with α ≠ 1 has no
 * equivalent: TF.js's `ELU` layer refuses any α but 1.
 */
const kerasActivation = (
  u: Json | undefined,
  path: string,
  kind: string,
  target: Target,
): { readonly name: string } | { readonly layer: KerasLayer } => {
  const name = typeof u === 'string' ? u : (u as { name?: Json } | null | undefined)?.name
  const alpha =
    typeof u === 'object' && u !== null && !Array.isArray(u) ? (u as { alpha?: Json }).alpha : undefined
  const approximate =
    typeof u === 'object' &&
    u !== null &&
    !Array.isArray(u) &&
    (u as { approximate?: Json }).approximate === true
  const same = ['linear', 'relu', 'selu', 'swish', 'sigmoid', 'tanh', 'softmax', 'softplus', 'relu6', 'mish']
  const format = target === 'tfjs' ? 'TF.js 4.22' : 'Keras 3'
  if (u === undefined || u === null || target === 'weights') return { name: 'linear' }
  if (typeof name === 'string' && same.includes(name)) return { name }
  if (name === 'gelu') {
    if (!approximate) return { name: 'gelu' }
    throw fail(
      path,
      kind,
      target === 'tfjs'
        ? "gelu with approximate: true: TF.js 4.22's tanh form 'gelu_new' cannot be loaded by TF.js itself (its loader looks for 'geluNew'); use activations.gelu"
        : "gelu with approximate: true has no Keras 3 activation name (Keras' 'gelu' is the exact erf form); use activations.gelu",
    )
  }
  if (name === 'hardSigmoid') {
    if (target === 'keras3') return { name: 'hard_sigmoid' }
    throw fail(
      path,
      kind,
      "hardSigmoid has no TF.js 4.22 equivalent: TF.js's 'hardSigmoid' is Keras 2's clip(0.2x + 0.5, 0, 1), purenn's is Keras 3's relu6(x + 3)/6",
    )
  }
  if (name === 'hardSwish') {
    if (target === 'keras3') return { name: 'hard_silu' }
    throw fail(path, kind, 'hardSwish has no TF.js 4.22 equivalent (TF.js has no hard swish)')
  }
  if (name === 'leakyRelu')
    return { layer: { class_name: 'LeakyReLU', config: { alpha: typeof alpha === 'number' ? alpha : 0.2 } } }
  if (name === 'elu') {
    if (alpha === undefined || alpha === 1) return { name: 'elu' }
    throw fail(
      path,
      kind,
      `ELU with alpha ${alpha}: TF.js 4.22 supports only alpha 1 (its ELU layer refuses others)`,
    )
  }
  throw fail(path, kind, `activation ${JSON.stringify(u)} has no ${format} equivalent`)
}

const leafAt = (tree: Tree, key: string): Tensor | undefined =>
  (tree as { readonly [k: string]: Tensor | undefined })[key]

const isFrozen = (mask: TreeOf<boolean> | undefined): boolean => {
  if (mask === undefined) return false
  if (typeof mask === 'boolean') return !mask
  const values = Object.values(mask as { readonly [k: string]: TreeOf<boolean> })
  return values.length > 0 && values.every((v) => isFrozen(v))
}

/** One purenn layer (not a container) as Keras layers. */
const convertLayer = (
  layer: AnyLayer,
  name: string,
  params: Tree,
  state: Tree,
  trainable: boolean,
  target: Target = 'tfjs',
): Converted => {
  const c = layer.config
  const base = { name, trainable, dtype: 'float32' }
  const w = (key: string, tree: Tree, as: string): (readonly [string, Tensor])[] => {
    const t = leafAt(tree, key)
    return t === undefined ? [] : [[`${name}/${as}`, t]]
  }
  const withActivation = (main: KerasLayer, act: Json | undefined): KerasLayer[] => {
    const a = kerasActivation(act, name, layer.kind, target)
    if ('name' in a) return [{ ...main, config: { ...main.config, activation: a.name } }]
    return [
      { ...main, config: { ...main.config, activation: 'linear' } },
      {
        ...a.layer,
        config: {
          ...a.layer.config,
          name: `${name}_${a.layer.class_name.toLowerCase()}`,
          trainable,
          dtype: 'float32',
        },
      },
    ]
  }
  switch (layer.kind) {
    case 'Dense': {
      const kernel = leafAt(params, 'kernel')
      if (kernel === undefined) throw fail(name, layer.kind, 'no kernel in its params')
      return {
        layers: withActivation(
          {
            class_name: 'Dense',
            config: {
              ...base,
              units: kernel.shape[kernel.shape.length - 1]!,
              use_bias: c.useBias ?? true,
              kernel_initializer: kerasInitializer(c.kernelInitializer, name, layer.kind),
              bias_initializer: kerasInitializer(c.biasInitializer, name, layer.kind),
              kernel_regularizer: kerasRegularizer(c.kernelRegularizer),
              bias_regularizer: kerasRegularizer(c.biasRegularizer),
              activity_regularizer: null,
              kernel_constraint: kerasConstraint(c.kernelConstraint),
              bias_constraint: kerasConstraint(c.biasConstraint),
            },
          },
          c.activation,
        ),
        weights: [...w('kernel', params, 'kernel'), ...w('bias', params, 'bias')],
      }
    }
    case 'BatchNormalization': {
      if (typeof c.axis !== 'number')
        throw fail(
          name,
          layer.kind,
          `axis ${JSON.stringify(c.axis)}: TF.js batch normalization takes one axis`,
        )
      const ones = { class_name: 'Ones', config: {} }
      const zeros = { class_name: 'Zeros', config: {} }
      return {
        layers: [
          {
            class_name: 'BatchNormalization',
            config: {
              ...base,
              axis: c.axis,
              momentum: c.momentum ?? 0.99,
              epsilon: c.epsilon ?? 1e-3,
              center: c.center ?? true,
              scale: c.scale ?? true,
              beta_initializer: zeros,
              gamma_initializer: ones,
              moving_mean_initializer: zeros,
              moving_variance_initializer: ones,
              beta_regularizer: null,
              gamma_regularizer: null,
              beta_constraint: null,
              gamma_constraint: null,
            },
          },
        ],
        weights: [
          ...w('gamma', params, 'gamma'),
          ...w('beta', params, 'beta'),
          ...w('movingMean', state, 'moving_mean'),
          ...w('movingVariance', state, 'moving_variance'),
        ],
      }
    }
    case 'Dropout':
    case 'MCDropout':
      // TF.js has no Monte Carlo dropout: it becomes plain Dropout (active in training only)
      return {
        layers: [
          { class_name: 'Dropout', config: { ...base, rate: c.rate ?? 0, noise_shape: null, seed: null } },
        ],
        weights: [],
      }
    case 'Conv2D': {
      const kernel = leafAt(params, 'kernel')
      if (kernel === undefined) throw fail(name, layer.kind, 'no kernel in its params')
      const pair = (v: Json | undefined, d: number) => (Array.isArray(v) ? v : [v ?? d, v ?? d])
      return {
        layers: withActivation(
          {
            class_name: 'Conv2D',
            config: {
              ...base,
              filters: kernel.shape[3]!,
              kernel_size: [kernel.shape[0]!, kernel.shape[1]!],
              strides: pair(c.strides, 1),
              padding: c.padding ?? 'valid',
              data_format: 'channels_last',
              dilation_rate: pair(c.dilationRate, 1),
              use_bias: c.useBias ?? true,
              kernel_initializer: kerasInitializer(c.kernelInitializer, name, layer.kind),
              bias_initializer: kerasInitializer(c.biasInitializer, name, layer.kind),
              kernel_regularizer: kerasRegularizer(c.kernelRegularizer),
              bias_regularizer: kerasRegularizer(c.biasRegularizer),
              activity_regularizer: null,
              kernel_constraint: null,
              bias_constraint: null,
            },
          },
          c.activation,
        ),
        weights: [...w('kernel', params, 'kernel'), ...w('bias', params, 'bias')],
      }
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const pair = (v: Json | undefined, d: Json) => (Array.isArray(v) ? v : [v ?? d, v ?? d])
      const poolSize = pair(c.poolSize, 2)
      return {
        layers: [
          {
            class_name: layer.kind,
            config: {
              ...base,
              pool_size: poolSize,
              strides: c.strides === undefined || c.strides === null ? poolSize : pair(c.strides, 1),
              padding: c.padding ?? 'valid',
              data_format: 'channels_last',
            },
          },
        ],
        weights: [],
      }
    }
    case 'Reshape':
      return {
        layers: [{ class_name: 'Reshape', config: { ...base, target_shape: c.targetShape ?? null } }],
        weights: [],
      }
    case 'GlobalAveragePooling2D':
      if (c.keepdims === true) throw fail(name, layer.kind, 'keepdims: true has no TF.js 4.22 equivalent')
      return {
        layers: [{ class_name: 'GlobalAveragePooling2D', config: { ...base, data_format: 'channels_last' } }],
        weights: [],
      }
    case 'Flatten':
      return {
        layers: [{ class_name: 'Flatten', config: { ...base, data_format: 'channels_last' } }],
        weights: [],
      }
    case 'LeakyReLU':
      return {
        layers: [{ class_name: 'LeakyReLU', config: { ...base, alpha: c.alpha ?? 0.3 } }],
        weights: [],
      }
    case 'Activation': {
      const a = kerasActivation(c.activation, name, layer.kind, target)
      return 'name' in a
        ? { layers: [{ class_name: 'Activation', config: { ...base, activation: a.name } }], weights: [] }
        : { layers: [{ ...a.layer, config: { ...a.layer.config, ...base } }], weights: [] }
    }
    case 'PReLU': {
      const shared = Array.isArray(c.sharedAxes) && c.sharedAxes.length > 0 ? c.sharedAxes : null
      return {
        layers: [
          {
            class_name: 'PReLU',
            config: {
              ...base,
              alpha_initializer: kerasInitializer(c.alphaInitializer ?? 'zeros', name, layer.kind),
              alpha_regularizer: kerasRegularizer(c.alphaRegularizer),
              alpha_constraint: kerasConstraint(c.alphaConstraint),
              shared_axes: shared,
            },
          },
        ],
        weights: w('alpha', params, 'alpha'),
      }
    }
    case 'RReLU':
      // neither TF.js nor Keras has RReLU: at inference it is a leaky ReLU with the mean slope
      return {
        layers: [
          {
            class_name: 'LeakyReLU',
            config: { ...base, alpha: ((c.lower as number) + (c.upper as number)) / 2 },
          },
        ],
        weights: [],
      }
    case 'AlphaDropout':
    case 'MCAlphaDropout':
      // Monte Carlo alpha dropout becomes AlphaDropout (active in training only), as MCDropout
      return { layers: [{ class_name: 'AlphaDropout', config: { ...base, rate: c.rate ?? 0 } }], weights: [] }
    case 'GaussianDropout':
      return {
        layers: [{ class_name: 'GaussianDropout', config: { ...base, rate: c.rate ?? 0 } }],
        weights: [],
      }
    case 'GaussianNoise':
      return {
        layers: [{ class_name: 'GaussianNoise', config: { ...base, stddev: c.stddev ?? 0 } }],
        weights: [],
      }
    case 'Normalization': {
      if (target === 'tfjs')
        throw fail(
          name,
          layer.kind,
          'TF.js 4.22 has no Normalization layer; standardize the inputs before the model, or export to .keras or ONNX',
        )
      // Keras 3's Normalization built from given statistics keeps them in its config (no weights)
      return {
        layers: [
          {
            class_name: 'Normalization',
            config: {
              ...base,
              axis: c.axis ?? -1,
              mean: c.mean ?? null,
              variance: c.variance ?? null,
              invert: false,
            },
          },
        ],
        weights: [],
      }
    }
    default:
      throw new Error(
        `tfjsArtifacts: layer '${name}' is a ${layer.kind}, which ${target === 'tfjs' ? 'TF.js' : 'Keras'} export does not handle; supported: Dense, Conv2D, Reshape, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, BatchNormalization, Dropout, MCDropout, Flatten, LeakyReLU, Activation, PReLU, RReLU (as LeakyReLU), AlphaDropout, MCAlphaDropout, GaussianDropout, GaussianNoise${target === 'tfjs' ? '' : ', Normalization'}`,
      )
  }
}

/** The values as little-endian bytes: tensors as float32, numbers (the optimizer's `iter`) as int32. */
const littleEndian = (values: readonly (Tensor | number)[]): ArrayBuffer => {
  const total = values.reduce<number>((n, v) => n + (typeof v === 'number' ? 1 : v.size), 0)
  const buffer = new ArrayBuffer(total * 4)
  const view = new DataView(buffer)
  let offset = 0
  for (const v of values)
    if (typeof v === 'number') {
      view.setInt32(offset, v, true)
      offset += 4
    } else for (let i = 0; i < v.size; i++, offset += 4) view.setFloat32(offset, v.data[i]!, true)
  return buffer
}

/**
 * The model in TF.js's Layers format, in memory (see {@link saveTfjsModel} for the files).
 *
 * @remarks
 * The model must be a `sequential` (or a single layer, written as a one-layer Sequential)
 * of the kinds `loadTfjsModel` reads. TF.js lacks some of purenn's activations, so they
 * become layers: a dense layer with a `leakyRelu` activation is written as a linear `Dense`
 * followed by a `LeakyReLU` layer named `<name>_leakyrelu`; ELU with α ≠ 1 is refused
 * (TF.js 4.22's `ELU` layer supports only α = 1); `MCDropout` becomes `Dropout` (TF.js has no Monte Carlo dropout); regularizers
 * are written as `L1L2`. Issue 10's kinds: `PReLU`, `AlphaDropout` (also for `MCAlphaDropout`),
 * `GaussianDropout`, `GaussianNoise`, `relu6`, `mish` as TF.js's own; `RReLU` as a `LeakyReLU`
 * with the mean slope (its inference form); `Normalization`, `hardSigmoid` (TF.js's is Keras
 * 2's 0.2x + 0.5), `hardSwish` and `geluApproximate` refused. Frozen layers are written with `trainable: false`. Names are the
 * model's child names, so the weights are `dense/kernel`, `batch_normalization/gamma`, ...
 * A kind it cannot write fails naming the layer; nothing is returned.
 *
 * With `options.optimizer`, the optimizer's variables follow the model's weights as TF.js
 * 4.22 writes them (`group: 'optimizer'`): `iter` (int32), then for Adam every
 * `<weight>/m` and then every `<weight>/v` over the trainable weights in order, and a
 * `trainingConfig` naming the optimizer and `options.loss`, so that `tf.loadLayersModel`
 * compiles the model and hands the variables to its optimizer. TF.js's SGD has only `iter`;
 * other optimizers are refused (TF.js's momentum and RMSprop keep differently scaled variables).
 *
 * @param model - the model
 * @param options - `{ optimizer?, loss? }`
 * @returns `{ modelTopology, weightSpecs, weightData, trainingConfig? }`
 * @example
 * ```ts
 * import { activations, dense, initModel, sequential, tfjsArtifacts } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const arch = sequential([dense({ units: 4, activation: activations.leakyRelu(0.2) })], { inputShape: [3] })
 * const a = tfjsArtifacts(initModel(arch, { key: key(0) }))
 * const layers = (a.modelTopology.config as { layers: { class_name: string }[] }).layers
 * console.log(layers.map((l) => l.class_name)) // [ 'Dense', 'LeakyReLU' ]
 * ```
 * @category Models
 */
export const tfjsArtifacts = (model: Model, options: TfjsSaveOptions = {}): TfjsArtifacts => {
  const { seq, pick } = asSequential(model)
  const layers: KerasLayer[] = []
  const weights: (readonly [string, Tensor])[] = []
  seq.layers.forEach((layer, i) => {
    const name = seq.names[i]!
    const mask = pick(model.trainable as TreeOf<boolean>, name) as TreeOf<boolean> | undefined
    const converted = convertLayer(
      layer,
      name,
      (pick(model.params, name) ?? {}) as Tree,
      (pick(model.state, name) ?? {}) as Tree,
      !isFrozen(mask),
      options.target ?? 'tfjs',
    )
    layers.push(...converted.layers)
    weights.push(...converted.weights)
  })
  const opt = options.optimizer === undefined ? undefined : optimizerSpecs(model, options.optimizer)
  const first = layers[0]
  if (first !== undefined)
    layers[0] = { ...first, config: { ...first.config, batch_input_shape: [null, ...model.inputShape] } }
  return {
    modelTopology: {
      class_name: 'Sequential',
      config: { name: seq.name, layers },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightSpecs: [
      ...weights.map(([name, t]) => ({ name, shape: [...t.shape], dtype: 'float32' as const })),
      ...(opt === undefined
        ? []
        : [
            { name: 'iter', shape: [], dtype: 'int32' as const, group: 'optimizer' as const },
            ...opt.map(([name, t]) => ({
              name,
              shape: [...t.shape],
              dtype: 'float32' as const,
              group: 'optimizer' as const,
            })),
          ]),
    ],
    weightData: littleEndian([
      ...weights.map(([, t]) => t),
      ...(opt === undefined ? [] : [options.optimizer!.iterations, ...opt.map(([, t]) => t)]),
    ]),
    ...(options.optimizer === undefined
      ? {}
      : {
          trainingConfig: {
            loss: options.loss ?? 'mean_squared_error',
            metrics: [],
            optimizer_config: {
              class_name: options.optimizer.className,
              config: tfjsOptimizerConfig(options.optimizer),
            },
          },
        }),
  }
}

/** The model as a Sequential (a single layer becomes a one-layer Sequential) and a picker of its subtrees. */
const asSequential = (model: Model) => {
  const root = model.layer
  const wrapped = root.kind !== 'Sequential'
  const seq: Pick<Sequential, 'layers' | 'names' | 'name'> = wrapped
    ? {
        layers: [root],
        names: [typeof root.config.name === 'string' ? root.config.name : root.kind.toLowerCase()],
        name: 'sequential',
      }
    : (root as Sequential)
  const pick = (tree: TreeOf<boolean> | Tree | undefined, name: string): unknown =>
    wrapped ? tree : (tree as { readonly [k: string]: Tree } | undefined)?.[name]
  return { seq, pick }
}

/**
 * One slot variable of an optimizer for one trainable weight, as {@link optimizerSlotWeights}
 * lists them.
 *
 * @example
 * ```ts
 * import type { OptimizerSlotWeight } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * const w: OptimizerSlotWeight = { weight: 'dense/kernel', slot: 'momentum', value: tensor([[0]]) }
 * console.log(w.weight) // dense/kernel
 * ```
 * @category Models
 */
export interface OptimizerSlotWeight {
  /** The weight's Keras/TF.js name, `<layer>/<weight>` (`dense/kernel`, `batch_normalization/gamma`). */
  readonly weight: string
  /** The slot (`momentum`, `velocity`, ...). */
  readonly slot: string
  readonly value: Tensor
}

/**
 * The slot variables of an optimizer over the model's trainable weights, in the order Keras
 * and TF.js keep them: each requested slot in turn, over the trainable weights in the order of
 * `model.trainable_weights` (layer by layer; kernel then bias, gamma then beta).
 *
 * @remarks
 * The weights are named as {@link tfjsArtifacts} names them. A frozen layer's weights are not
 * trainable and have no slot variables (TF.js and Keras build their optimizers over the
 * trainable weights only). A slot missing, or a slot tree whose leaves do not match the
 * trainable weights in names and shapes, is an error naming the slot and the weight.
 *
 * @param model - the model the optimizer trains
 * @param w - the optimizer's variables
 * @param slots - the slots wanted, in order
 * @returns the slot variables, slot by slot
 * @example
 * ```ts
 * import { dense, initModel, optimizerSlotWeights, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const model = initModel(sequential([dense({ units: 2 })], { inputShape: [3] }), { key: key(0) })
 * const w = { className: 'SGD', iterations: 0, slots: { momentum: model.params } }
 * console.log(optimizerSlotWeights(model, w, ['momentum']).map((s) => s.weight)) // [ 'dense/kernel', 'dense/bias' ]
 * ```
 * @category Models
 */
export const optimizerSlotWeights = (
  model: Model,
  w: OptimizerWeights,
  slots: readonly string[],
): OptimizerSlotWeight[] => {
  const { seq, pick } = asSequential(model)
  const trainable: (readonly [string, Tensor])[] = []
  const trainableLayers: number[] = []
  seq.layers.forEach((layer, i) => {
    const name = seq.names[i]!
    if (isFrozen(pick(model.trainable as TreeOf<boolean>, name) as TreeOf<boolean> | undefined)) return
    trainableLayers.push(i)
    trainable.push(
      ...convertLayer(layer, name, (pick(model.params, name) ?? {}) as Tree, {}, true, 'weights').weights,
    )
  })
  const trainableNames = trainable.map(([n]) => n).join(', ')
  const shapes = new Map(trainable.map(([n, t]) => [n, t.shape]))
  const out: OptimizerSlotWeight[] = []
  for (const slot of slots) {
    const tree = w.slots[slot]
    if (tree === undefined)
      throw new Error(
        `optimizer weights of ${w.className}: no slot '${slot}' (slots given: ${Object.keys(w.slots).join(', ') || 'none'})`,
      )
    const found: (readonly [string, Tensor])[] = []
    for (const i of trainableLayers) {
      const name = seq.names[i]!
      const own = (pick(tree, name) ?? {}) as Tree
      try {
        found.push(...convertLayer(seq.layers[i]!, name, own, {}, true, 'weights').weights)
      } catch {
        throw new Error(
          `optimizer weights of ${w.className}: slot '${slot}' has no variables for layer '${name}'`,
        )
      }
    }
    const got = found.map(([n]) => n).join(', ')
    if (got !== trainableNames)
      throw new Error(
        `optimizer weights of ${w.className}: slot '${slot}' has the weights [${got}]; the model's trainable weights are [${trainableNames}]`,
      )
    for (const [n, t] of found) {
      const want = shapes.get(n)!
      if (t.shape.join() !== want.join())
        throw new Error(
          `optimizer weights of ${w.className}: slot '${slot}' ${n}: shape [${t.shape.join(', ')}], the weight's is [${want.join(', ')}]`,
        )
      out.push({ weight: n, slot, value: t })
    }
  }
  return out
}

/** Why TF.js 4.22 files cannot carry an optimizer's state that Keras 3 files can. */
const tfjsRefusals: { readonly [className: string]: string } = {
  RMSprop:
    "TF.js's RMSProp always keeps a momentum accumulator, and its centered form subtracts ε under the square root where Keras and purenn add it",
  Nadam: 'TF.js 4.22 has no Nadam',
  Adamax: "TF.js 4.22's Adamax does not implement getWeights/setWeights",
}

/** The optimizer's slot weights in TF.js's order and names (Adam: every `<weight>/m`, then every `<weight>/v`). */
const optimizerSpecs = (model: Model, w: OptimizerWeights): (readonly [string, Tensor])[] => {
  const names = tfjsSlotNames[w.className]
  if (names === undefined)
    throw new Error(
      `tfjsArtifacts: optimizer weights of ${w.className}: TF.js export writes those of ${Object.keys(tfjsSlotNames).join(', ')} (${tfjsRefusals[w.className] ?? "other optimizers' variables differ between Keras and TF.js"}); .keras files (@purenn/keras) keep those of RMSprop, Nadam and Adamax too`,
    )
  const extra = Object.keys(w.slots).filter((k) => !Object.hasOwn(names, k))
  if (extra.length > 0)
    throw new Error(
      `tfjsArtifacts: optimizer weights of ${w.className}: TF.js's ${w.className} has no slot ${extra.join(', ')}${w.className === 'SGD' ? ' (SGD with momentum is a different optimizer in TF.js, with differently scaled variables)' : ''}`,
    )
  if (!Number.isSafeInteger(w.iterations) || w.iterations < 0 || w.iterations > 2 ** 31 - 1)
    throw new Error(
      `tfjsArtifacts: optimizer iterations must be an integer in [0, 2^31), got ${w.iterations}`,
    )
  try {
    return optimizerSlotWeights(model, w, Object.keys(names)).map((s) => [
      `${s.weight}/${names[s.slot]}`,
      s.value,
    ])
  } catch (e) {
    throw new Error(`tfjsArtifacts: ${(e as Error).message}`)
  }
}

/**
 * Saves a model in TF.js's Layers format: `dir/model.json` and `dir/group1-shard1of1.bin`,
 * what `tf.loadLayersModel('…/model.json')` reads in TF.js (and {@link loadTfjsModel} here).
 *
 * @remarks
 * The shard is written before `model.json`, so a reader never finds a `model.json` whose
 * weights are missing. The manifest group also holds the shard's SHA-256 in `purennSha256`,
 * a field TF.js ignores (TF.js 4.22 loads the folder unchanged) and {@link loadTfjsModel}
 * checks, so a damaged shard is an error there. `dir` is created if needed. See {@link tfjsArtifacts} for what
 * becomes what. Node only.
 *
 * @param model - the model
 * @param dir - the folder to write
 * @param options - `{ optimizer?, loss? }`: the optimizer's variables to write too (see {@link tfjsArtifacts})
 * @example
 * ```ts
 * import { dense, initModel, loadTfjsModel, saveTfjsModel, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * const dir = join(mkdtempSync(join(tmpdir(), 'tfjs-')), 'model')
 * const model = initModel(sequential([dense({ units: 2 })], { inputShape: [3] }), { key: key(0) })
 * await saveTfjsModel(model, dir)
 * const back = await loadTfjsModel(`${dir}/model.json`)
 * console.log(back.params.dense.kernel.data.join() === model.params.dense.kernel.data.join()) // true
 * ```
 * @category Models
 */
export const saveTfjsModel = async (
  model: Model,
  dir: string,
  options: TfjsSaveOptions = {},
): Promise<void> => {
  const a = tfjsArtifacts(model, options)
  const shard = 'group1-shard1of1.bin'
  const bytes = new Uint8Array(a.weightData)
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'purenn',
    convertedBy: null,
    modelTopology: a.modelTopology,
    ...(a.trainingConfig === undefined ? {} : { trainingConfig: a.trainingConfig }),
    weightsManifest: [
      { paths: [shard], weights: a.weightSpecs, [tfjsShardChecksumField]: [sha256Hex(bytes)] },
    ],
  }
  await makeFolders(dir)
  await fs.writeFile(join(dir, shard), bytes)
  await fs.writeFile(join(dir, 'model.json'), `${JSON.stringify(modelJson, null, 1)}\n`)
}
