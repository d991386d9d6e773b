import * as fs from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { key, type Tensor, type Tree, type TreeOf, tensor, tree, zeros } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { activation, leakyRelu } from './activation.js'
import { type Activation, activations } from './activations.js'
import { batchNormalization } from './batchNormalization.js'
import { type Constraint, constraintFromConfig } from './constraints.js'
import { conv2d } from './conv2d.js'
import { dense } from './dense.js'
import { dropout } from './dropout.js'
import { flatten } from './flatten.js'
import { type Initializer, initializerFromConfig } from './initializers.js'
import { FiniteNumber, firstError, leaf, orThrow, show } from './internal/config.js'
import { type Opened, openInside, readExact, readTextInside } from './internal/files.js'
import { tensorAt } from './internal/float32le.js'
import { describeFile } from './internal/formats.js'
import { parseJson } from './internal/json.js'
import { sizesWithoutWeights } from './internal/sizes.js'
import { sha256Hex, tfjsShardChecksumField } from './internal/tfjsChecksum.js'
import { mapWeights, weightEntries } from './internal/walk.js'
import type { AnyBlock, AnyLayer, Json, NameOption, Shape } from './layer.js'
import { add, concatenate } from './merge.js'
import { initModel, type Model } from './model.js'
import { alphaDropout, gaussianDropout, gaussianNoise, type RateOptions } from './noise.js'
import { normalization } from './normalization.js'
import { type OptimizerWeights, tfjsSlotNames } from './optimizerWeights.js'
import { averagePooling2d, globalAveragePooling2d, maxPooling2d, type Pooling2dOptions } from './pooling.js'
import { prelu } from './prelu.js'
import { type Regularizer, regularizerFromConfig } from './regularizers.js'
import { reshape } from './reshape.js'
import { type Sequential, sequential } from './sequential.js'
import { fanOut, identity, parallel, serial } from './serial.js'

// Reading the TF.js Layers format: what `tensorflowjs_converter --input_format keras` and TF.js'
// `model.save('file://...')` write. model.json is decoded with io-ts into Eithers whose Left is
// one line naming the field; only `loadTfjsModel` throws.

// ---------------------------------------------------------------------------------------
// Types

/**
 * Options of {@link loadTfjsModel}.
 *
 * @example
 * ```ts
 * import type { LoadTfjsModelOptions } from '@purenn/layers'
 * const opts: LoadTfjsModelOptions = { inputShape: [28, 28] }
 * console.log(opts.inputShape) // [ 28, 28 ]
 * ```
 * @category Models
 */
export interface LoadTfjsModelOptions {
  /**
   * Shape of one input, without the batch axis. Needed when `model.json` declares none (no
   * `batch_input_shape`) or leaves a dimension unknown (`null`); when it declares one, both
   * must agree.
   */
  readonly inputShape?: Shape
  /** Accept NaN and ±Infinity among the weights. Default false: they are an error naming the weight. */
  readonly allowNonFinite?: boolean
  /** The most bytes of weights to read. Default 16 GiB. */
  readonly maxBytes?: number
  /**
   * The topology was written by Keras 3 (a `.keras` file, or an `.h5` that Keras 3 saved):
   * `hard_sigmoid` is then Keras 3's relu6(x + 3)/6, purenn's `hardSigmoid`. Default false:
   * in TF.js and Keras 2 files it is clip(0.2x + 0.5, 0, 1), which purenn does not have, and
   * is refused. `@purenn/keras` sets it from the file's `keras_version`.
   */
  readonly keras3?: boolean
}

/** A Keras config object. */
type Config = { readonly [k: string]: unknown }

/** A Keras batch shape: batch axis first, `null` for an unknown dimension. */
type BatchShape = readonly (number | null)[]

/** A layer of the topology, converted: `layer` is undefined for the `InputLayer`. */
interface Planned {
  readonly layer: AnyBlock | undefined
  readonly trainable: boolean
  /** Its `batch_input_shape` (or Keras 3 `batch_shape`, `build_config.input_shape`), if any. */
  readonly batchShape: BatchShape | undefined
  /** Where that batch shape is in model.json. */
  readonly batchShapeAt: string
}

/** The model described by `modelTopology`. */
interface Topology {
  readonly name: string
  readonly layers: readonly Planned[]
  readonly trainable: boolean
  /** The children of the purenn sequential: the layers, or the combinators of a functional graph. */
  readonly chain: readonly AnyBlock[]
  /** Each Keras layer with weights: name, class and whether it is trainable. */
  readonly kerasLayers: readonly {
    readonly name: string
    readonly kind: string
    readonly trainable: boolean
  }[]
}

/** One entry of the weights manifest, placed in its group's bytes. */
interface ManifestEntry {
  /** `weightsManifest[0].weights[2] (dense/kernel)`: how messages name it. */
  readonly where: string
  readonly shape: readonly number[]
  readonly group: number
  /** Byte offset in the concatenation of its group's shards. */
  readonly offset: number
  /** False for optimizer weights, which are skipped. */
  readonly model: boolean
  /** `<layer>/<weight>`, the last two parts of its name without the `:0` suffix. */
  readonly target: string
  /** Its whole name without the `:0` suffix. */
  readonly name: string
  readonly dtype: string
  /** How its values are stored when quantized by `tensorflowjs_converter --quantize_*`. */
  readonly quantization?: Quantization
}

/** TF.js's weight quantization: `uint8`/`uint16` as `q·scale + min`, or IEEE half floats. */
type Quantization =
  | { readonly dtype: 'uint8' | 'uint16'; readonly scale: number; readonly min: number }
  | { readonly dtype: 'float16' }

/** A manifest entry's `quantization` field, checked. */
const quantizationOf = (u: unknown, where: string): E.Either<string, Quantization> => {
  const q = u as { readonly dtype?: unknown; readonly scale?: unknown; readonly min?: unknown } | null
  if (typeof q !== 'object' || q === null)
    return E.left(`${where}.quantization: expected an object, got ${brief(u)}`)
  if (q.dtype === 'float16') return E.right({ dtype: 'float16' })
  if (q.dtype !== 'uint8' && q.dtype !== 'uint16')
    return E.left(
      `${where}.quantization.dtype: expected "uint8", "uint16" or "float16", got ${brief(q.dtype)}`,
    )
  for (const f of ['scale', 'min'] as const)
    if (typeof q[f] !== 'number' || !Number.isFinite(q[f]))
      return E.left(
        q[f] === undefined
          ? `${where}.quantization.${f}: missing, expected a finite number`
          : `${where}.quantization.${f}: expected a finite number, got ${brief(q[f])}`,
      )
  return E.right({ dtype: q.dtype, scale: q.scale as number, min: q.min as number })
}

/** IEEE 754 half precision (binary16) to a number: sign, 5-bit exponent, 10-bit fraction. */
const halfToNumber = (h: number): number => {
  const sign = h & 0x8000 ? -1 : 1
  const exponent = (h >> 10) & 0x1f
  const fraction = h & 0x3ff
  if (exponent === 0) return sign * fraction * 2 ** -24
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15)
}

/** The float32 values of a quantized weight at `offset` of little-endian bytes. */
const dequantize = (bytes: Uint8Array, offset: number, shape: readonly number[], q: Quantization): Tensor => {
  const size = shape.reduce((p, d) => p * d, 1)
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset)
  const out = new Float32Array(size)
  for (let i = 0; i < size; i++)
    out[i] =
      q.dtype === 'float16'
        ? halfToNumber(view.getUint16(2 * i, true))
        : q.dtype === 'uint16'
          ? view.getUint16(2 * i, true) * q.scale + q.min
          : view.getUint8(i) * q.scale + q.min
  return tensor(out, shape)
}

// ---------------------------------------------------------------------------------------
// Codecs of model.json: leaf codecs carry the words of the error messages

const isRecord = (u: unknown): u is { readonly [k: string]: unknown } =>
  typeof u === 'object' && u !== null && !Array.isArray(u)
const isNonNegInt = (u: unknown): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0
const ObjectC = leaf('an object', isRecord)
const Str = leaf('a string', (u): u is string => typeof u === 'string')
const Bool = leaf('true or false', (u): u is boolean => typeof u === 'boolean')
const ShapeC = leaf(
  'an array of non-negative integers',
  (u): u is number[] => Array.isArray(u) && u.every(isNonNegInt),
)
const PositiveInt = leaf('a positive integer', (u): u is number => isNonNegInt(u) && u > 0)
const AxisC = leaf(
  'an integer or a list of integers',
  (u): u is number | number[] =>
    Number.isInteger(u) || (Array.isArray(u) && u.length > 0 && u.every((a) => Number.isInteger(a))),
)
const BatchShapeC = leaf(
  'an array of non-negative integers or nulls, batch axis first',
  (u): u is (number | null)[] =>
    Array.isArray(u) && u.length > 0 && u.every((d) => d === null || isNonNegInt(d)),
)
const Format = leaf(
  '"layers-model" (TF.js graph models are not supported)',
  (u): u is 'layers-model' => u === 'layers-model',
)

const WeightC = t.intersection(
  [
    t.type({ name: Str, shape: ShapeC, dtype: Str }, 'an object {name, shape, dtype}'),
    t.partial({ group: t.unknown, quantization: t.unknown }),
  ],
  'an object {name, shape, dtype}',
)
const ShaHex = leaf(
  '64 lowercase hexadecimal digits (a SHA-256)',
  (u): u is string => typeof u === 'string' && /^[0-9a-f]{64}$/.test(u),
)
const GroupC = t.intersection(
  [
    t.type(
      { paths: t.array(Str, 'an array of file names'), weights: t.array(WeightC, 'an array of weights') },
      'an object {paths, weights}',
    ),
    // purenn's own field (saveTfjsModel writes it, TF.js ignores it): each shard's SHA-256
    t.partial({ [tfjsShardChecksumField]: t.array(ShaHex, 'an array of SHA-256s, one per path') }),
  ],
  'an object {paths, weights}',
)
const ModelJsonC = t.intersection(
  [
    t.type(
      { modelTopology: ObjectC, weightsManifest: t.array(GroupC, 'an array of weight groups') },
      'an object {modelTopology, weightsManifest}',
    ),
    t.partial({ format: Format }),
  ],
  'an object {modelTopology, weightsManifest}',
)
type ModelJson = t.TypeOf<typeof ModelJsonC>

const ClassC = t.type({ class_name: Str, config: t.unknown }, 'an object {class_name, config}')
const LayerC = t.intersection(
  [
    t.type({ class_name: Str, config: ObjectC }, 'an object {class_name, config}'),
    t.partial({ build_config: t.unknown }),
  ],
  'an object {class_name, config}',
)
const SequentialC = t.intersection(
  [t.type({ layers: t.array(t.unknown, 'an array of layers') }), t.partial({ name: Str, trainable: Bool })],
  'an object {name, layers} or an array of layers',
)
const CommonC = t.partial({
  name: Str,
  trainable: Bool,
  batch_input_shape: BatchShapeC,
  batch_shape: BatchShapeC,
})
const BuildConfigC = t.partial({ input_shape: BatchShapeC })
const KerasObjectC = t.intersection(
  [
    t.type({ class_name: Str }, 'an object {class_name, config}'),
    t.partial({ config: t.union([ObjectC, t.null], 'an object or null') }),
  ],
  'an object {class_name, config}',
)

/** A found value in a message, cut to 60 characters. */
const brief = (u: unknown): string => {
  const s = show(u)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

const at = (path: string, field: string): string =>
  field === '' ? path : path === '' ? field : field.startsWith('[') ? `${path}${field}` : `${path}.${field}`

/** Decodes the value found at `path`; the Left names the first bad field below it. */
const decode = <A>(codec: t.Decoder<unknown, A>, u: unknown, path: string): E.Either<string, A> => {
  const r = codec.decode(u)
  if (E.isRight(r)) return E.right(r.right)
  const e = firstError(r.left)
  const where = at(path, e.path)
  return E.left(
    e.value === undefined
      ? `${where}: missing, expected ${e.expected}`
      : `${where}: expected ${e.expected}, got ${brief(e.value)}`,
  )
}

/** Left when one of `fields` of a config holds something other than null, false or nothing. */
const unsupported = (
  config: { readonly [k: string]: unknown },
  path: string,
  fields: readonly (readonly [field: string, what: string])[],
): E.Either<string, void> => {
  for (const [field, what] of fields) {
    const v = config[field]
    if (v !== undefined && v !== null && v !== false)
      return E.left(`${path}.${field}: ${what} not supported by purenn, got ${brief(v)}`)
  }
  return E.right(undefined)
}

// ---------------------------------------------------------------------------------------
// Keras names -> purenn values

/** `glorot_uniform`, `GlorotUniform`, `LeCunNormal` -> one key: `glorotuniform`, `lecunnormal`. */
const norm = (s: string): string => s.replace(/_/g, '').toLowerCase()

const lookup = <A>(table: { readonly [k: string]: A }, k: string): A | undefined =>
  Object.hasOwn(table, k) ? table[k] : undefined

const activationTable: { readonly [k: string]: () => Activation } = {
  linear: () => activations.linear,
  relu: () => activations.relu,
  elu: () => activations.elu(),
  selu: () => activations.selu,
  gelu: () => activations.gelu,
  swish: () => activations.swish,
  silu: () => activations.swish,
  sigmoid: () => activations.sigmoid,
  tanh: () => activations.tanh,
  softmax: () => activations.softmax,
  softplus: () => activations.softplus,
  leakyrelu: () => activations.leakyRelu(0.2),
  relu6: () => activations.relu6,
  mish: () => activations.mish,
  gelunew: () => activations.geluApproximate,
  hardsilu: () => activations.hardSwish,
  hardswish: () => activations.hardSwish,
}
const activationList =
  'linear, relu, leaky_relu, elu, selu, gelu, gelu_new (tanh approximation), swish (silu), sigmoid, tanh, softmax, softplus, relu6, mish, hard_silu (hard_swish)'

/**
 * A Keras activation name (`'relu'`, `'leaky_relu'`; absent or null is `linear`). `hard_sigmoid`
 * is Keras 3's relu6(x + 3)/6 in a Keras 3 file only: TF.js and Keras 2 mean clip(0.2x + 0.5, 0, 1).
 */
const activationOf = (u: unknown, path: string, keras3 = false): E.Either<string, Activation> => {
  if (u === undefined || u === null) return E.right(activations.linear)
  if (typeof u !== 'string') return E.left(`${path}: expected an activation name, got ${brief(u)}`)
  if (norm(u) === 'hardsigmoid')
    return keras3
      ? E.right(activations.hardSigmoid)
      : E.left(
          `${path}: "${u}" in a TF.js or Keras 2 file is clip(0.2x + 0.5, 0, 1), which purenn does not have (purenn's hardSigmoid is Keras 3's relu6(x + 3)/6, read from Keras 3 files)`,
        )
  const make = lookup(activationTable, norm(u))
  return make === undefined
    ? E.left(`${path}: "${u}" is not an activation purenn has; supported: ${activationList}`)
    : E.right(make())
}

const namedInitializers: { readonly [k: string]: string } = {
  glorotuniform: 'glorotUniform',
  glorotnormal: 'glorotNormal',
  henormal: 'heNormal',
  heuniform: 'heUniform',
  lecunnormal: 'lecunNormal',
  lecununiform: 'lecunUniform',
  zeros: 'zeros',
  ones: 'ones',
}
const fanModes: { readonly [k: string]: string } = { fan_in: 'fanIn', fan_out: 'fanOut', fan_avg: 'fanAvg' }
// 'normal' is the truncated normal in Keras 2 and TF.js
const distributions: { readonly [k: string]: string } = {
  truncated_normal: 'truncatedNormal',
  normal: 'truncatedNormal',
  untruncated_normal: 'untruncatedNormal',
  uniform: 'uniform',
}
const withDefault = (u: unknown, d: Json): unknown => (u === undefined || u === null ? d : u)
const parameterizedInitializers: {
  readonly [k: string]: (c: { readonly [k: string]: unknown }, path: string) => E.Either<string, unknown>
} = {
  constant: (c) => E.right({ name: 'constant', value: withDefault(c.value, 0) }),
  randomnormal: (c) =>
    E.right({ name: 'randomNormal', mean: withDefault(c.mean, 0), stddev: withDefault(c.stddev, 0.05) }),
  truncatednormal: (c) =>
    E.right({ name: 'truncatedNormal', mean: withDefault(c.mean, 0), stddev: withDefault(c.stddev, 0.05) }),
  randomuniform: (c) =>
    E.right({
      name: 'randomUniform',
      minval: withDefault(c.minval, -0.05),
      maxval: withDefault(c.maxval, 0.05),
    }),
  variancescaling: (c, path) => {
    const mode = withDefault(c.mode, 'fan_in')
    const distribution = withDefault(c.distribution, 'truncated_normal')
    const m = typeof mode === 'string' ? lookup(fanModes, mode) : undefined
    const d = typeof distribution === 'string' ? lookup(distributions, distribution) : undefined
    if (m === undefined)
      return E.left(`${path}.mode: expected one of "fan_in" | "fan_out" | "fan_avg", got ${brief(mode)}`)
    if (d === undefined)
      return E.left(
        `${path}.distribution: expected one of "truncated_normal" | "normal" | "untruncated_normal" | "uniform", got ${brief(distribution)}`,
      )
    return E.right({ name: 'varianceScaling', scale: withDefault(c.scale, 1), mode: m, distribution: d })
  },
}
const initializerList =
  'GlorotUniform, GlorotNormal, HeNormal, HeUniform, LecunNormal, LecunUniform, Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling'

/**
 * A Keras initializer (`{class_name: 'HeNormal', config: {seed: null}}`, or a name such as
 * `'he_normal'`) as a purenn one; seeds are dropped (purenn draws from keys).
 */
const initializerOf = (u: unknown, path: string, byDefault: string): E.Either<string, Initializer> => {
  if (u === undefined || u === null) return initializerFromConfig(byDefault, path)
  const spec = typeof u === 'string' ? E.right({ class_name: u, config: {} }) : decode(KerasObjectC, u, path)
  if (E.isLeft(spec)) return spec
  const where = typeof u === 'string' ? path : `${path}.class_name`
  const k = norm(spec.right.class_name)
  const named = lookup(namedInitializers, k)
  if (named !== undefined) return initializerFromConfig(named, path)
  const make = lookup(parameterizedInitializers, k)
  if (make === undefined)
    return E.left(
      `${where}: "${spec.right.class_name}" is not an initializer purenn has; supported: ${initializerList}`,
    )
  const config: Config = spec.right.config ?? {}
  return pipe(
    make(config, `${path}.config`),
    E.chain((json) => initializerFromConfig(json, `${path}.config`)),
  )
}

/** A Keras regularizer (`{class_name: 'L2', config: {l2: 0.01}}`, `L1`, `L1L2`); null is none. */
const regularizerOf = (u: unknown, path: string): E.Either<string, Regularizer | undefined> => {
  if (u === undefined || u === null) return E.right(undefined)
  const spec = typeof u === 'string' ? E.right({ class_name: u, config: {} }) : decode(KerasObjectC, u, path)
  if (E.isLeft(spec)) return spec
  const c: Config = spec.right.config ?? {}
  const k = norm(spec.right.class_name)
  // Keras' classes L1 and L2 default to 0.01, L1L2 to 0 for both factors
  const json =
    k === 'l1'
      ? { name: 'l1', l1: withDefault(c.l1, 0.01) }
      : k === 'l2'
        ? { name: 'l2', l2: withDefault(c.l2, 0.01) }
        : k === 'l1l2'
          ? { name: 'l1l2', l1: withDefault(c.l1, 0), l2: withDefault(c.l2, 0) }
          : undefined
  if (json === undefined)
    return E.left(
      `${typeof u === 'string' ? path : `${path}.class_name`}: "${spec.right.class_name}" is not a regularizer purenn has; supported: L1, L2, L1L2`,
    )
  return regularizerFromConfig(json, `${path}.config`)
}

/** A Keras constraint (`{class_name: 'MaxNorm', config: {max_value, axis}}`, ...); null is none. */
const constraintOf = (u: unknown, path: string): E.Either<string, Constraint | undefined> => {
  if (u === undefined || u === null) return E.right(undefined)
  const spec = typeof u === 'string' ? E.right({ class_name: u, config: {} }) : decode(KerasObjectC, u, path)
  if (E.isLeft(spec)) return spec
  const c: Config = spec.right.config ?? {}
  const k = norm(spec.right.class_name)
  const pick = (keys: readonly (readonly [string, string])[]) =>
    Object.fromEntries(
      keys.filter(([from]) => c[from] !== undefined).map(([from, to]) => [to, c[from] as Json]),
    )
  const json: Json | undefined =
    k === 'maxnorm'
      ? {
          name: 'maxNorm',
          ...pick([
            ['max_value', 'maxValue'],
            ['axis', 'axis'],
          ]),
        }
      : k === 'nonneg'
        ? { name: 'nonNeg' }
        : k === 'unitnorm'
          ? { name: 'unitNorm', ...pick([['axis', 'axis']]) }
          : k === 'minmaxnorm'
            ? {
                name: 'minMaxNorm',
                ...pick([
                  ['min_value', 'minValue'],
                  ['max_value', 'maxValue'],
                  ['rate', 'rate'],
                  ['axis', 'axis'],
                ]),
              }
            : undefined
  if (json === undefined)
    return E.left(
      `${typeof u === 'string' ? path : `${path}.class_name`}: "${spec.right.class_name}" is not a constraint purenn has; supported: MaxNorm, NonNeg, UnitNorm, MinMaxNorm`,
    )
  return constraintFromConfig(json, `${path}.config`)
}

// ---------------------------------------------------------------------------------------
// Keras layer configs -> purenn layers

/** `keras3`: the file was written by Keras 3 (see `LoadTfjsModelOptions.keras3`). */
type Convert = (config: Config, path: string, name: NameOption, keras3: boolean) => E.Either<string, AnyBlock>

/** Runs a layer constructor, whose checks throw, inside the Either. */
const build = (path: string, make: () => AnyBlock): E.Either<string, AnyBlock> =>
  E.tryCatch(make, (e) => `${path}: ${(e as Error).message}`)

/** The options Dense and Conv2D share, as purenn's factories take them. */
interface WeightedOptions {
  readonly activation: Activation
  readonly kernelInitializer: Initializer
  readonly biasInitializer: Initializer
  readonly kernelRegularizer?: Regularizer
  readonly biasRegularizer?: Regularizer
}

/**
 * The activation, the kernel and bias initializers (Keras' defaults `glorot_uniform` and
 * `zeros`) and regularizers of a Dense or Conv2D config, in that order.
 */
const weightedOptionsOf = (c: Config, path: string, keras3: boolean): E.Either<string, WeightedOptions> =>
  pipe(
    E.Do,
    E.bind('activation', () => activationOf(c.activation, `${path}.activation`, keras3)),
    E.bind('kernelInit', () =>
      initializerOf(c.kernel_initializer, `${path}.kernel_initializer`, 'glorotUniform'),
    ),
    E.bind('biasInit', () => initializerOf(c.bias_initializer, `${path}.bias_initializer`, 'zeros')),
    E.bind('kernelReg', () => regularizerOf(c.kernel_regularizer, `${path}.kernel_regularizer`)),
    E.bind('biasReg', () => regularizerOf(c.bias_regularizer, `${path}.bias_regularizer`)),
    E.map((o) => ({
      activation: o.activation,
      kernelInitializer: o.kernelInit,
      biasInitializer: o.biasInit,
      ...(o.kernelReg === undefined ? {} : { kernelRegularizer: o.kernelReg }),
      ...(o.biasReg === undefined ? {} : { biasRegularizer: o.biasReg }),
    })),
  )

const DenseC = t.intersection([t.type({ units: PositiveInt }), t.partial({ use_bias: Bool })])
const denseOf: Convert = (c, path, name, keras3) =>
  pipe(
    decode(DenseC, c, path),
    E.chainFirst(() => unsupported(c, path, [['activity_regularizer', 'activity regularizers are']])),
    E.chain((d) =>
      pipe(
        E.Do,
        E.bind('o', () => weightedOptionsOf(c, path, keras3)),
        E.bind('kernelCon', () => constraintOf(c.kernel_constraint, `${path}.kernel_constraint`)),
        E.bind('biasCon', () => constraintOf(c.bias_constraint, `${path}.bias_constraint`)),
        E.chain(({ o, kernelCon, biasCon }) =>
          build(path, () =>
            dense({
              units: d.units,
              useBias: d.use_bias ?? true,
              ...o,
              ...(kernelCon === undefined ? {} : { kernelConstraint: kernelCon }),
              ...(biasCon === undefined ? {} : { biasConstraint: biasCon }),
              ...name,
            }),
          ),
        ),
      ),
    ),
  )

const BatchNormalizationC = t.partial({
  axis: AxisC,
  momentum: FiniteNumber,
  epsilon: FiniteNumber,
  center: Bool,
  scale: Bool,
})
// The initializers of gamma, beta and the moving statistics are not kept: the loaded weights
// replace them, and purenn's batch normalization always starts from ones and zeros.
const batchNormalizationOf: Convert = (c, path, name) =>
  pipe(
    decode(BatchNormalizationC, c, path),
    E.chainFirst(() =>
      unsupported(c, path, [
        ['beta_regularizer', 'regularizers on batch normalization are'],
        ['gamma_regularizer', 'regularizers on batch normalization are'],
        ['beta_constraint', 'constraints are'],
        ['gamma_constraint', 'constraints are'],
        ['renorm', 'batch renormalization is'],
        ['virtual_batch_size', 'ghost batch normalization (virtual_batch_size) is'],
        ['adjustment', 'an adjustment function is'],
      ]),
    ),
    E.chain((b) =>
      build(path, () =>
        batchNormalization({
          ...(b.axis === undefined ? {} : { axis: b.axis }),
          ...(b.momentum === undefined ? {} : { momentum: b.momentum }),
          ...(b.epsilon === undefined ? {} : { epsilon: b.epsilon }),
          ...(b.center === undefined ? {} : { center: b.center }),
          ...(b.scale === undefined ? {} : { scale: b.scale }),
          ...name,
        }),
      ),
    ),
  )

const dropoutOf: Convert = (c, path, name) =>
  pipe(
    decode(t.type({ rate: FiniteNumber }), c, path),
    E.chainFirst(() => unsupported(c, path, [['noise_shape', 'a noise shape is']])),
    E.chain((d) => build(path, () => dropout({ rate: d.rate, ...name }))),
  )

const activationLayerOf: Convert = (c, path, name, keras3) =>
  pipe(
    activationOf(c.activation, `${path}.activation`, keras3),
    E.chain((a) => build(path, () => activation(a, name))),
  )

// `alpha` in Keras 2 and TF.js, `negative_slope` in Keras 3; 0.3 by default in both
const leakyReluOf: Convert = (c, path, name) =>
  pipe(
    decode(t.partial({ alpha: FiniteNumber, negative_slope: FiniteNumber }), c, path),
    E.chain((l) => build(path, () => leakyRelu({ alpha: l.alpha ?? l.negative_slope ?? 0.3, ...name }))),
  )

// Keras' PReLU (TF.js and Keras 3): the slope is the weight `alpha`
const preluOf: Convert = (c, path, name) =>
  pipe(
    E.Do,
    E.bind('shared', () =>
      decode(t.partial({ shared_axes: t.union([t.null, t.Int, t.array(t.Int)]) }), c, path),
    ),
    E.bind('init', () => initializerOf(c.alpha_initializer, `${path}.alpha_initializer`, 'zeros')),
    E.bind('reg', () => regularizerOf(c.alpha_regularizer, `${path}.alpha_regularizer`)),
    E.bind('con', () => constraintOf(c.alpha_constraint, `${path}.alpha_constraint`)),
    E.chain((o) => {
      const s = o.shared.shared_axes
      const sharedAxes = s === undefined || s === null ? [] : typeof s === 'number' ? [s] : s
      return build(path, () =>
        prelu({
          alphaInitializer: o.init,
          sharedAxes,
          ...(o.reg === undefined ? {} : { alphaRegularizer: o.reg }),
          ...(o.con === undefined ? {} : { alphaConstraint: o.con }),
          ...name,
        }),
      )
    }),
  )

const rateOf =
  (make: (opts: RateOptions) => AnyBlock): Convert =>
  (c, path, name) =>
    pipe(
      decode(t.type({ rate: FiniteNumber }), c, path),
      E.chainFirst(() => unsupported(c, path, [['noise_shape', 'a noise shape is']])),
      E.chain((d) => build(path, () => make({ rate: d.rate, ...name }))),
    )

const gaussianNoiseOf: Convert = (c, path, name) =>
  pipe(
    decode(t.type({ stddev: FiniteNumber }), c, path),
    E.chain((d) => build(path, () => gaussianNoise({ stddev: d.stddev, ...name }))),
  )

// Keras 3's Normalization with its statistics in the config (Normalization(mean=..., variance=...));
// one adapted in Keras keeps them in weights, which is not read
const normalizationOf: Convert = (c, path, name) =>
  pipe(
    decode(
      t.partial({
        axis: t.union([t.null, t.Int, t.tuple([t.Int])]),
        mean: t.unknown,
        variance: t.unknown,
        invert: Bool,
      }),
      c,
      path,
    ),
    E.chain((d) => {
      const list = (u: unknown): u is number[] =>
        Array.isArray(u) && u.every((v) => typeof v === 'number' && Number.isFinite(v))
      const flat = (u: unknown): unknown => (Array.isArray(u) ? u.flat(Number.POSITIVE_INFINITY) : u)
      if (d.invert === true) return E.left(`${path}.invert: an inverted Normalization is not supported`)
      const mean = flat(d.mean)
      const variance = flat(d.variance)
      if (!list(mean) || !list(variance))
        return E.left(
          `${path}.mean: expected the statistics as lists in the config (Normalization(mean=..., variance=...)); a Normalization adapted in Keras keeps them in weights, which loadKerasModel of @purenn/keras reads from .keras files`,
        )
      const axis = Array.isArray(d.axis) ? d.axis[0] : (d.axis ?? -1)
      return build(path, () => normalization({ axis, mean, variance, ...name }))
    }),
  )

// TF.js and Keras' `ELU` layer; alpha 1 by default
const eluOf: Convert = (c, path, name) =>
  pipe(
    decode(t.partial({ alpha: FiniteNumber }), c, path),
    E.chain((l) => build(path, () => activation(activations.elu(l.alpha ?? 1), name))),
  )

// Keras' `Reshape(target_shape)`: the shape without the batch axis, -1 for one inferred dimension
const reshapeOf: Convert = (c, path, name) =>
  pipe(
    decode(
      t.type({
        target_shape: leaf(
          'an array of positive integers or -1',
          (u): u is number[] =>
            Array.isArray(u) && u.every((d) => Number.isInteger(d) && (d > 0 || d === -1)),
        ),
      }),
      c,
      path,
    ),
    E.chain((r) => build(path, () => reshape({ targetShape: r.target_shape, ...name }))),
  )

const flattenOf: Convert = (c, path, name) =>
  c.data_format === 'channels_first'
    ? E.left(
        `${path}.data_format: "channels_first" (flattening channels last first) is not supported by purenn, which flattens in row-major order as "channels_last"`,
      )
    : build(path, () => flatten(name))

// Convolution and pooling: channels_last only (TF.js' and Keras' default). Sizes may be an
// integer or a list of two, as Keras writes them.
const SizeC = leaf(
  'a positive integer or a list of two',
  (u): u is number | [number, number] =>
    (isNonNegInt(u) && u > 0) ||
    (Array.isArray(u) && u.length === 2 && u.every((d) => isNonNegInt(d) && d > 0)),
)
const PaddingStrC = leaf(
  '"valid" or "same" (purenn has no other padding)',
  (u): u is 'valid' | 'same' => u === 'valid' || u === 'same',
)
const pairOf = (u: number | readonly [number, number]): [number, number] =>
  typeof u === 'number' ? [u, u] : [u[0], u[1]]
const channelsLast = (c: Config, path: string): E.Either<string, void> =>
  c.data_format === undefined || c.data_format === null || c.data_format === 'channels_last'
    ? E.right(undefined)
    : E.left(
        `${path}.data_format: ${brief(c.data_format)} is not supported by purenn, whose images are channels_last (NHWC)`,
      )

const Conv2DC = t.intersection([
  t.type({ filters: PositiveInt, kernel_size: SizeC }),
  t.partial({
    strides: SizeC,
    padding: PaddingStrC,
    dilation_rate: SizeC,
    use_bias: Bool,
    groups: PositiveInt,
  }),
])
const conv2dOf: Convert = (c, path, name, keras3) =>
  pipe(
    decode(Conv2DC, c, path),
    E.chainFirst(() => channelsLast(c, path)),
    E.chainFirst((d) =>
      d.groups === undefined || d.groups === 1
        ? E.right(undefined)
        : E.left(`${path}.groups: grouped convolutions are not supported by purenn, got ${d.groups}`),
    ),
    E.chainFirst(() =>
      unsupported(c, path, [
        ['activity_regularizer', 'activity regularizers are'],
        ['kernel_constraint', 'constraints are'],
        ['bias_constraint', 'constraints are'],
      ]),
    ),
    E.chain((d) =>
      pipe(
        weightedOptionsOf(c, path, keras3),
        E.chain((o) =>
          build(path, () =>
            conv2d({
              filters: d.filters,
              kernelSize: pairOf(d.kernel_size),
              strides: pairOf(d.strides ?? 1),
              padding: d.padding ?? 'valid',
              dilationRate: pairOf(d.dilation_rate ?? 1),
              useBias: d.use_bias ?? true,
              ...o,
              ...name,
            }),
          ),
        ),
      ),
    ),
  )

const PoolingC = t.partial({ pool_size: SizeC, strides: t.union([SizeC, t.null]), padding: PaddingStrC })
// Keras 2 and TF.js default pool_size to 2; strides null (or absent) means the pool size
const poolingOf =
  (make: (opts: Pooling2dOptions) => AnyBlock): Convert =>
  (c, path, name) =>
    pipe(
      decode(PoolingC, c, path),
      E.chainFirst(() => channelsLast(c, path)),
      E.chain((p) => {
        const poolSize = pairOf(p.pool_size ?? 2)
        return build(path, () =>
          make({
            poolSize,
            strides: p.strides === undefined || p.strides === null ? poolSize : pairOf(p.strides),
            padding: p.padding ?? 'valid',
            ...name,
          }),
        )
      }),
    )

const globalAveragePooling2dOf: Convert = (c, path, name) =>
  pipe(
    decode(t.partial({ keepdims: Bool }), c, path),
    E.chainFirst(() => channelsLast(c, path)),
    E.chain((g) => build(path, () => globalAveragePooling2d({ keepdims: g.keepdims ?? false, ...name }))),
  )

/** The layer classes read, with their converters; `InputLayer` is handled apart. */
const converters: { readonly [className: string]: Convert } = {
  Dense: denseOf,
  BatchNormalization: batchNormalizationOf,
  Dropout: dropoutOf,
  Activation: activationLayerOf,
  LeakyReLU: leakyReluOf,
  Flatten: flattenOf,
  ELU: eluOf,
  Reshape: reshapeOf,
  Conv2D: conv2dOf,
  MaxPooling2D: poolingOf(maxPooling2d),
  AveragePooling2D: poolingOf(averagePooling2d),
  GlobalAveragePooling2D: globalAveragePooling2dOf,
  PReLU: preluOf,
  AlphaDropout: rateOf(alphaDropout),
  GaussianDropout: rateOf(gaussianDropout),
  GaussianNoise: gaussianNoiseOf,
  Normalization: normalizationOf,
  Add: (_c, path, name) => build(path, () => add(name)),
  Concatenate: (c, path, name) =>
    pipe(
      decode(t.partial({ axis: t.Int }), c, path),
      E.chain((d) => build(path, () => concatenate({ axis: d.axis ?? -1, ...name }))),
    ),
}
const supportedClasses = [...Object.keys(converters), 'InputLayer'].join(', ')

/** One entry of the layer list, converted. */
const planLayer = (u: unknown, i: number, path: string, keras3: boolean): E.Either<string, Planned> => {
  const spec = decode(LayerC, u, path)
  if (E.isLeft(spec)) return spec
  const { class_name: className, config, build_config: buildConfig } = spec.right
  const cpath = `${path}.config`
  const common = decode(CommonC, config, cpath)
  if (E.isLeft(common)) return common
  const c = common.right
  const declared =
    c.batch_input_shape !== undefined
      ? { batchShape: c.batch_input_shape, batchShapeAt: `${cpath}.batch_input_shape` }
      : c.batch_shape !== undefined
        ? { batchShape: c.batch_shape, batchShapeAt: `${cpath}.batch_shape` }
        : undefined
  const trainable = c.trainable ?? true
  if (className === 'InputLayer') {
    if (i !== 0) return E.left(`${path}: an InputLayer can only be the first layer`)
    return E.right({ layer: undefined, trainable, batchShape: undefined, batchShapeAt: '', ...declared })
  }
  const convert = lookup(converters, className)
  if (convert === undefined)
    return E.left(
      `modelTopology: layer ${i}${c.name === undefined ? '' : ` ("${c.name}")`} has class "${className}", which purenn does not have; supported: ${supportedClasses}`,
    )
  const built = decode(BuildConfigC, buildConfig ?? {}, `${path}.build_config`)
  if (E.isLeft(built)) return built
  const fallback =
    built.right.input_shape === undefined
      ? { batchShape: undefined, batchShapeAt: '' }
      : { batchShape: built.right.input_shape, batchShapeAt: `${path}.build_config.input_shape` }
  return pipe(
    convert(config, cpath, c.name === undefined ? {} : { name: c.name }, keras3),
    E.map((layer): Planned => ({ layer, trainable, ...(declared ?? fallback) })),
  )
}

/** `modelTopology` (or its `model_config`, as the converter writes it) as a list of layers. */
const planTopology = (
  topology: { readonly [k: string]: unknown },
  keras3: boolean,
): E.Either<string, Topology> => {
  const path = isRecord(topology.model_config) ? 'modelTopology.model_config' : 'modelTopology'
  const root = decode(ClassC, isRecord(topology.model_config) ? topology.model_config : topology, path)
  if (E.isLeft(root)) return root
  if (root.right.class_name === 'Model' || root.right.class_name === 'Functional')
    return planFunctional(root.right.config, `${path}.config`, keras3)
  if (root.right.class_name !== 'Sequential')
    return E.left(
      `${path}.class_name: "${root.right.class_name}" models are not supported; purenn reads Sequential and functional (Model, Functional) models`,
    )
  // Keras 2 writes {name, layers}; very old files a bare list of layers
  const raw = root.right.config
  const seq = Array.isArray(raw)
    ? E.right({ layers: raw, listPath: `${path}.config` })
    : pipe(
        decode(SequentialC, raw, `${path}.config`),
        E.map((c) => ({ ...c, listPath: `${path}.config.layers` })),
      )
  if (E.isLeft(seq)) return seq
  const layers: Planned[] = []
  for (const [i, u] of seq.right.layers.entries()) {
    const p = planLayer(u, i, `${seq.right.listPath}[${i}]`, keras3)
    if (E.isLeft(p)) return p
    layers.push(p.right)
  }
  const s = seq.right as { readonly name?: string; readonly trainable?: boolean }
  const chain = layers.flatMap((l) => (l.layer === undefined ? [] : [l.layer]))
  const kerasLayers = layers.flatMap((l) => (l.layer === undefined ? [] : [kerasLayerOf(l)]))
  return E.right({ name: s.name ?? 'sequential', layers, trainable: s.trainable ?? true, chain, kerasLayers })
}

const kerasLayerOf = (l: Planned) => ({
  name: typeof l.layer?.config.name === 'string' ? l.layer.config.name : '',
  kind: l.layer?.kind ?? 'InputLayer',
  trainable: l.trainable,
})

// ---------------------------------------------------------------------------------------
// Functional models -> combinators

const FunctionalC = t.intersection(
  [
    t.type({
      layers: t.array(t.unknown, 'an array of layers'),
      input_layers: t.array(t.unknown, 'an array of inputs'),
      output_layers: t.array(t.unknown, 'an array of outputs'),
    }),
    t.partial({ name: Str, trainable: Bool }),
  ],
  'an object {name, layers, input_layers, output_layers}',
)

/** A node of the functional graph: its converted layer and the layers it reads. */
interface GraphNode {
  readonly name: string
  readonly className: string
  readonly planned: Planned
  readonly inbound: readonly string[]
}

/** `[name, node, tensor]` (Keras 2, TF.js) or a Keras 3 `keras_history`: the layer named. */
const historyName = (u: unknown, where: string): E.Either<string, string> => {
  if (!Array.isArray(u) || typeof u[0] !== 'string')
    return E.left(`${where}: expected [layer name, node index, tensor index], got ${brief(u)}`)
  if (u[1] !== 0 || u[2] !== 0)
    return E.left(
      `${where}: reads node ${brief(u[1])}, tensor ${brief(u[2])} of layer "${u[0]}": purenn reads functional models whose layers are called once and have one output`,
    )
  return E.right(u[0])
}

/** The layers a node reads, in order: TF.js / Keras 2 lists, or Keras 3 `keras_history`s. */
const inboundOf = (
  entry: { readonly [k: string]: unknown },
  name: string,
  path: string,
): E.Either<string, string[]> => {
  const nodes = entry.inbound_nodes
  if (nodes === undefined || (Array.isArray(nodes) && nodes.length === 0)) return E.right([])
  if (!Array.isArray(nodes)) return E.left(`${path}.inbound_nodes: expected an array, got ${brief(nodes)}`)
  if (nodes.length > 1)
    return E.left(
      `${path}.inbound_nodes: layer "${name}" is called ${nodes.length} times (a shared layer); purenn reads functional models whose layers are called once`,
    )
  const node: unknown = nodes[0]
  const where = `${path}.inbound_nodes[0]`
  const names: string[] = []
  if (Array.isArray(node)) {
    for (const [j, h] of node.entries()) {
      const n = historyName(h, `${where}[${j}]`)
      if (E.isLeft(n)) return n
      names.push(n.right)
    }
    return E.right(names)
  }
  // Keras 3: { args: [...], kwargs }, tensors as { class_name: '__keras_tensor__', config: { keras_history } }
  const found: unknown[] = []
  const walk = (u: unknown): void => {
    if (Array.isArray(u)) u.forEach(walk)
    else if (isRecord(u)) {
      if (isRecord(u.config) && Array.isArray(u.config.keras_history)) found.push(u.config.keras_history)
      else Object.values(u).forEach(walk)
    }
  }
  walk(isRecord(node) ? node.args : node)
  for (const h of found) {
    const n = historyName(h, where)
    if (E.isLeft(n)) return n
    names.push(n.right)
  }
  return E.right(names)
}

/**
 * A functional model (Keras' `Model` / `Functional` config) as a chain of purenn layers, when
 * its graph is series-parallel: one input, one output, every layer called once, branches
 * that leave a layer and meet again at an `Add` (→ `add`) or a `Concatenate` (→
 * `concatenate`). A merge of k branches becomes `fanOut(k)`, `parallel(branch, ...)` and the
 * merge layer, placed after the branches' nearest common dominator (the last layer every
 * path to them goes through); an empty branch is an `identity`.
 */
const planFunctional = (raw: unknown, path: string, keras3: boolean): E.Either<string, Topology> => {
  const cfg = decode(FunctionalC, raw, path)
  if (E.isLeft(cfg)) return cfg
  const c = cfg.right
  if (c.input_layers.length !== 1 || c.output_layers.length !== 1)
    return E.left(
      `${path}: the model has ${c.input_layers.length} inputs and ${c.output_layers.length} outputs; purenn reads functional models with one input and one output`,
    )
  const input = historyName(c.input_layers[0], `${path}.input_layers[0]`)
  if (E.isLeft(input)) return input
  const output = historyName(c.output_layers[0], `${path}.output_layers[0]`)
  if (E.isLeft(output)) return output
  const nodes = new Map<string, GraphNode>()
  const layers: Planned[] = []
  for (const [i, u] of c.layers.entries()) {
    const lpath = `${path}.layers[${i}]`
    const entry = decode(LayerC, u, lpath)
    if (E.isLeft(entry)) return entry
    const e = u as { readonly [k: string]: unknown }
    const name =
      typeof e.name === 'string'
        ? e.name
        : typeof entry.right.config.name === 'string'
          ? entry.right.config.name
          : `layer ${i}`
    const className = entry.right.class_name
    // the input layer may sit anywhere in the list of a functional model
    const planned =
      className === 'InputLayer'
        ? planLayer(u, 0, lpath, keras3)
        : planLayer(u, i === 0 ? 1 : i, lpath, keras3)
    if (E.isLeft(planned)) return planned
    const inbound = inboundOf(e, name, lpath)
    if (E.isLeft(inbound)) return inbound
    const merge = className === 'Add' || className === 'Concatenate'
    if (className !== 'InputLayer' && !merge && inbound.right.length !== 1)
      return E.left(
        `${lpath}: layer "${name}" (${className}) reads ${inbound.right.length} tensors; purenn reads single-input layers and Add, Concatenate`,
      )
    if (merge && inbound.right.length < 2)
      return E.left(
        `${lpath}: layer "${name}" (${className}) merges ${inbound.right.length} tensor; expected 2 or more`,
      )
    if (nodes.has(name)) return E.left(`${lpath}: a second layer named "${name}"`)
    nodes.set(name, { name, className, planned: planned.right, inbound: inbound.right })
    if (className === 'InputLayer') layers.unshift(planned.right)
    else layers.push(planned.right)
  }
  const start = nodes.get(input.right)
  if (start === undefined || start.className !== 'InputLayer')
    return E.left(`${path}.input_layers[0]: "${input.right}" is not an InputLayer of the model`)
  for (const n of nodes.values())
    for (const p of n.inbound)
      if (!nodes.has(p))
        return E.left(`${path}: layer "${n.name}" reads "${p}", which is not a layer of the model`)
  if (!nodes.has(output.right))
    return E.left(`${path}.output_layers[0]: "${output.right}" is not a layer of the model`)

  // dominators: dom(n) = {n} ∪ ⋂ dom(inputs of n); a cycle or a second input is refused
  const dom = new Map<string, Set<string>>()
  const domOf = (name: string, seen: readonly string[]): E.Either<string, Set<string>> => {
    const known = dom.get(name)
    if (known !== undefined) return E.right(known)
    if (seen.includes(name)) return E.left(`${path}: the layers ${[...seen, name].join(' → ')} form a cycle`)
    const n = nodes.get(name)!
    if (n.inbound.length === 0 && name !== input.right)
      return E.left(`${path}: layer "${name}" reads nothing and is not the model's input`)
    let acc: Set<string> | undefined
    for (const p of n.inbound) {
      const d = domOf(p, [...seen, name])
      if (E.isLeft(d)) return d
      acc = acc === undefined ? new Set(d.right) : new Set([...acc].filter((x) => d.right.has(x)))
    }
    const mine = new Set([...(acc ?? []), name])
    dom.set(name, mine)
    return E.right(mine)
  }
  const used = new Set<string>()
  const toBlock = (chain: readonly AnyBlock[]): AnyBlock =>
    chain.length === 0 ? identity() : chain.length === 1 ? chain[0]! : serial(...chain)
  // the chain of layers from the output of `from` to the output of `to`
  const chainOf = (from: string, to: string): E.Either<string, AnyBlock[]> => {
    if (to === from) return E.right([])
    const n = nodes.get(to)!
    if (n.inbound.length === 0)
      return E.left(
        `${path}: layer "${from}" does not lead to "${to}" alone; purenn cannot express this graph`,
      )
    if (used.has(to))
      return E.left(
        `${path}: the output of layer "${to}" is used by more than one branch outside a fan-out purenn can express`,
      )
    used.add(to)
    const layer = n.planned.layer!
    if (n.inbound.length === 1)
      return pipe(
        chainOf(from, n.inbound[0]!),
        E.map((ch) => [...ch, layer]),
      )
    const doms: Set<string>[] = []
    for (const p of n.inbound) {
      const d = domOf(p, [])
      if (E.isLeft(d)) return d
      doms.push(d.right)
    }
    const common = [...doms[0]!].filter((x) => doms.every((d) => d.has(x)))
    const split = common.reduce((a, b) => (dom.get(a)!.size >= dom.get(b)!.size ? a : b))
    const branches: AnyBlock[] = []
    for (const p of n.inbound) {
      const b = chainOf(split, p)
      if (E.isLeft(b)) return b
      branches.push(toBlock(b.right))
    }
    return pipe(
      chainOf(from, split),
      E.map((ch) => [...ch, fanOut(n.inbound.length), parallel(...branches), layer]),
    )
  }
  const d = domOf(output.right, [])
  if (E.isLeft(d)) return d
  const chain = chainOf(input.right, output.right)
  if (E.isLeft(chain)) return chain
  const unused = [...nodes.keys()].find((k) => k !== input.right && !used.has(k))
  if (unused !== undefined)
    return E.left(
      `${path}: layer "${unused}" does not lead to the model's output; purenn cannot express this graph`,
    )
  const kerasLayers = layers.flatMap((l) => (l.layer === undefined ? [] : [kerasLayerOf(l)]))
  return E.right({
    name: c.name ?? 'model',
    layers,
    trainable: c.trainable ?? true,
    chain: chain.right,
    kerasLayers,
  })
}

const fmt = (s: readonly (number | null)[]): string =>
  `[${s.map((d) => (d === null ? 'null' : d)).join(',')}]`

/** The input shape: declared by the first layer (batch axis dropped) and/or given as an option. */
const resolveInputShape = (topology: Topology, opts: LoadTfjsModelOptions): E.Either<string, Shape> => {
  const first = topology.layers[0]
  const declared = first?.batchShape?.slice(1)
  const where = first?.batchShapeAt ?? ''
  const given = opts.inputShape
  if (given !== undefined) {
    const fits =
      declared === undefined ||
      (declared.length === given.length && declared.every((d, i) => d === null || d === given[i]))
    return fits
      ? E.right([...given])
      : E.left(
          `${where}: ${fmt(first?.batchShape ?? [])} does not fit the option inputShape ${fmt(given)} (batch axis first in model.json, without it in the option)`,
        )
  }
  if (declared === undefined)
    return E.left(
      'modelTopology: the first layer declares no input shape (no batch_input_shape); pass { inputShape } to loadTfjsModel',
    )
  if (declared.some((d) => d === null))
    return E.left(
      `${where}: ${fmt(first?.batchShape ?? [])} leaves a dimension unknown; pass { inputShape } to loadTfjsModel`,
    )
  return E.right(declared as number[])
}

// ---------------------------------------------------------------------------------------
// The weights manifest

const bytesPerValue: { readonly [dtype: string]: number } = {
  float32: 4,
  int32: 4,
  float16: 2,
  uint16: 2,
  uint8: 1,
  bool: 1,
  complex64: 8,
}

/** The manifest's entries, placed in their groups' bytes, and each group's byte length. */
const placeWeights = (
  manifest: ModelJson['weightsManifest'],
): E.Either<
  string,
  { readonly entries: readonly ManifestEntry[]; readonly groupBytes: readonly number[] }
> => {
  const entries: ManifestEntry[] = []
  const groupBytes: number[] = []
  for (const [g, group] of manifest.entries()) {
    let offset = 0
    for (const [j, w] of group.weights.entries()) {
      const where = `weightsManifest[${g}].weights[${j}] (${w.name})`
      const model = w.group !== 'optimizer'
      let quantization: Quantization | undefined
      if (w.quantization !== undefined && w.quantization !== null) {
        const q = quantizationOf(w.quantization, where)
        if (E.isLeft(q)) return q
        quantization = q.right
      }
      const per =
        quantization === undefined ? lookup(bytesPerValue, w.dtype) : quantization.dtype === 'uint8' ? 1 : 2
      if ((model && w.dtype !== 'float32') || per === undefined)
        return E.left(`${where}: dtype "${w.dtype}" is not supported; purenn reads float32 weights only`)
      const parts = w.name.replace(/:\d+$/, '').split('/')
      if (model && parts.length < 2)
        return E.left(`${where}: expected a name "<layer>/<weight>" such as "dense/kernel"`)
      entries.push({
        where,
        shape: w.shape,
        group: g,
        offset,
        model,
        target: parts.slice(-2).join('/'),
        name: parts.join('/'),
        dtype: w.dtype,
        ...(quantization === undefined ? {} : { quantization }),
      })
      offset += per * w.shape.reduce((p, d) => p * d, 1)
    }
    groupBytes.push(offset)
  }
  return E.right({ entries, groupBytes })
}

const kerasWeightNames: { readonly [k: string]: string } = {
  kernel: 'kernel',
  bias: 'bias',
  gamma: 'gamma',
  beta: 'beta',
  movingMean: 'moving_mean',
  movingVariance: 'moving_variance',
  alpha: 'alpha',
}

/**
 * `batch_normalization.movingMean` -> `batch_normalization/moving_mean`; inside the
 * combinators of a functional model, the Keras layer is the last name before the weight
 * (`serial.parallel.dense.kernel` -> `dense/kernel`).
 */
const kerasTarget = (dotted: string): string => {
  const parts = dotted.split('.')
  const w = parts.at(-1)!
  return `${parts.at(-2)}/${lookup(kerasWeightNames, w) ?? w}`
}

/**
 * Pairs each weight of the fresh model with its manifest entry, by name, checking shapes: every
 * model entry must name a weight, and every weight must have an entry. Returns the entries in
 * the order of `weightEntries`.
 */
const matchWeights = (
  fresh: Model<Sequential>,
  topology: Topology,
  entries: readonly ManifestEntry[],
): E.Either<string, readonly (ManifestEntry | undefined)[]> => {
  // a Normalization's statistics come from its config (Keras 3 keeps no weights for them)
  const fromConfig = new Set(
    topology.kerasLayers
      .filter((l) => l.kind === 'Normalization')
      .flatMap((l) => [`${l.name}/mean`, `${l.name}/variance`]),
  )
  const expected = weightEntries(fresh.layer, fresh.params, fresh.state).map((e) => ({
    target: kerasTarget(e.name),
    shape: e.tensor.shape,
  }))
  const wanted = new Set(expected.map((e) => e.target))
  const byTarget = new Map<string, ManifestEntry>()
  for (const m of entries) {
    if (!m.model) continue
    const twin = byTarget.get(m.target)
    if (twin !== undefined) return E.left(`${m.where}: the same weight as ${twin.where}`)
    if (!wanted.has(m.target)) {
      const [layerName, weight] = m.target.split('/') as [string, string]
      const names = topology.kerasLayers.map((l) => l.name)
      const i = names.indexOf(layerName)
      const has = expected
        .filter((e) => e.target.startsWith(`${layerName}/`))
        .map((e) => e.target.split('/')[1])
      return E.left(
        i === -1
          ? `${m.where}: matches no weight of the model: modelTopology has no layer "${layerName}" (its layers: ${names.join(', ')})`
          : `${m.where}: matches no weight of the model: layer "${layerName}" (${topology.kerasLayers[i]!.kind}) has no weight "${weight}"; ${has.length === 0 ? 'it has no weights' : `its weights are ${has.join(', ')}`}`,
      )
    }
    byTarget.set(m.target, m)
  }
  const out: (ManifestEntry | undefined)[] = []
  for (const e of expected) {
    const m = byTarget.get(e.target)
    if (m === undefined && fromConfig.has(e.target)) {
      out.push(undefined)
      continue
    }
    if (m === undefined)
      return E.left(`weightsManifest: no entry for the weight ${e.target} ${fmt(e.shape)} of the model`)
    if (fmt(m.shape) !== fmt(e.shape))
      return E.left(`${m.where}: expected shape ${fmt(e.shape)}, got ${fmt(m.shape)}`)
    out.push(m)
  }
  return E.right(out)
}

/** The frozen layers' params false, the others true (Keras' `trainable` per layer). */
const trainableMask = (fresh: Model<Sequential>, topology: Topology): TreeOf<boolean> => {
  const frozen = new Set(topology.kerasLayers.filter((l) => !l.trainable).map((l) => l.name))
  return tree.map(
    fresh.params as Tree,
    (_t, path) => topology.trainable && !frozen.has(path.split('.').at(-2)!),
  )
}

// ---------------------------------------------------------------------------------------
// Files and bytes

const sizeMessage = (paths: readonly string[], expected: number, g: number, found: number): string =>
  `${paths.length === 0 ? `weightsManifest[${g}].paths` : paths.join(' + ')}: expected ${expected} bytes for weightsManifest[${g}], found ${found}${paths.length > 1 ? ' in total' : ''}`

const closeAll = async (groups: readonly (readonly Opened[])[]) => {
  for (const g of groups) for (const o of g) await o.fh.close().catch(() => undefined)
}

/** TF.js' names of shards: `group1-shard2of3.bin` is the second of three shards of group 1. */
const SHARD_NAME = /(?:^|\/)group(\d+)-shard(\d+)of(\d+)(?:\.bin)?$/

/**
 * For a group whose shards all carry TF.js' names, a message when the names disagree with the
 * list: a shard listed out of its place, a count other than the list's, two groups' shards
 * mixed. (TF.js' shards have no checksums: this is the one check of their order there is.)
 */
const shardOrder = (paths: readonly string[], g: number): string | undefined => {
  const named = paths.map((p) => SHARD_NAME.exec(p))
  if (named.some((m) => m === null)) return undefined
  for (const [k, m] of named.entries()) {
    const [, group, index, count] = m!.map(Number)
    const where = `model.json: weightsManifest[${g}].paths[${k}]: ${JSON.stringify(paths[k])}`
    if (group !== Number(named[0]![1]))
      return `${where} is a shard of group ${group}, listed with the shards of group ${named[0]![1]}`
    if (count !== paths.length)
      return `${where} is named one of ${count} shards, the group lists ${paths.length}`
    if (index !== k + 1)
      return `${where} is named shard ${index} of ${count}, listed as shard ${k + 1}: the shards are out of order`
  }
  return undefined
}

/**
 * Each group's shards opened (inside the folder, regular files only, each path once) and their
 * sizes checked against the manifest, before anything is allocated.
 */
const openGroups = async (
  base: string,
  manifest: ModelJson['weightsManifest'],
  groupBytes: readonly number[],
): Promise<E.Either<string, readonly (readonly Opened[])[]>> => {
  const out: Opened[][] = []
  const seen = new Map<string, string>()
  for (const [g, group] of manifest.entries())
    for (const [k, p] of group.paths.entries()) {
      const twin = seen.get(p)
      if (twin !== undefined)
        return E.left(`model.json: weightsManifest[${g}].paths[${k}]: the same shard as ${twin}`)
      seen.set(p, `weightsManifest[${g}].paths[${k}]`)
    }
  for (const [g, group] of manifest.entries()) {
    const order = shardOrder(group.paths, g)
    if (order !== undefined) return E.left(order)
    const sums = group[tfjsShardChecksumField]
    if (sums !== undefined && sums.length !== group.paths.length)
      return E.left(
        `model.json: weightsManifest[${g}].${tfjsShardChecksumField}: ${sums.length} checksums for ${group.paths.length} paths`,
      )
  }
  const ids = new Map<string, string>()
  for (const [g, group] of manifest.entries()) {
    const files: Opened[] = []
    out.push(files)
    let found = 0
    for (const [k, p] of group.paths.entries()) {
      const o = await openInside(base, p)
      if (E.isLeft(o)) {
        await closeAll(out)
        return o
      }
      files.push(o.right)
      found += o.right.size
      // two spellings of one file (`./a.bin` and `a.bin`, a link inside the folder): one shard
      const twin = ids.get(o.right.id)
      if (twin !== undefined && !o.right.id.endsWith(':0')) {
        await closeAll(out)
        return E.left(
          `model.json: weightsManifest[${g}].paths[${k}]: ${JSON.stringify(p)} is the same file as ${twin}`,
        )
      }
      ids.set(o.right.id, `weightsManifest[${g}].paths[${k}]`)
    }
    if (found !== groupBytes[g]) {
      await closeAll(out)
      return E.left(sizeMessage(group.paths, groupBytes[g]!, g, found))
    }
  }
  return E.right(out)
}

/**
 * Each group's shards read and concatenated (their sizes were checked by openGroups), each
 * checked against its SHA-256 when the manifest has them ({@link tfjsShardChecksumField}).
 */
const readGroups = async (
  opened: readonly (readonly Opened[])[],
  manifest: ModelJson['weightsManifest'],
  groupBytes: readonly number[],
): Promise<E.Either<string, readonly Uint8Array[]>> => {
  const out: Uint8Array[] = []
  for (const [g, files] of opened.entries()) {
    const bytes = new Uint8Array(groupBytes[g]!)
    let offset = 0
    for (const [k, { fh, size }] of files.entries()) {
      const ok = await readExact(fh, bytes.subarray(offset, offset + size), 0).catch(() => false)
      if (!ok) return E.left(`${manifest[g]!.paths[k]}: cannot be read (changed while it was read)`)
      const expected = manifest[g]![tfjsShardChecksumField]?.[k]
      if (expected !== undefined && sha256Hex(bytes.subarray(offset, offset + size)) !== expected)
        return E.left(
          `${manifest[g]!.paths[k]}: checksum mismatch (SHA-256 differs from model.json weightsManifest[${g}].${tfjsShardChecksumField}[${k}]): the file is damaged or not the shard listed there`,
        )
      offset += size
    }
    out.push(bytes)
  }
  return E.right(out)
}

/**
 * The optimizer weights of the manifest (`group: 'optimizer'`) as {@link OptimizerWeights}:
 * `iter` and `<weight>/<slot>` entries, each slot matched to the model weight of that name.
 */
const optimizerOf = (
  trainingConfig: unknown,
  entries: readonly ManifestEntry[],
  order: readonly (ManifestEntry | undefined)[],
  fresh: Model<Sequential>,
  bytesOf: (m: ManifestEntry) => Uint8Array,
): E.Either<string, OptimizerWeights | undefined> => {
  const mine = entries.filter((m) => !m.model)
  if (mine.length === 0) return E.right(undefined)
  const oc = isRecord(trainingConfig) ? trainingConfig.optimizer_config : undefined
  const className = isRecord(oc) && typeof oc.class_name === 'string' ? oc.class_name : undefined
  if (className === undefined)
    return E.left(
      `trainingConfig.optimizer_config.class_name: expected the optimizer's class (such as "Adam") next to its weights, found ${brief(oc)}`,
    )
  const names = lookup(tfjsSlotNames, className)
  if (names === undefined)
    return E.left(
      `trainingConfig.optimizer_config.class_name: optimizer weights of ${className} are not read (purenn reads those of ${Object.keys(tfjsSlotNames).join(', ')}); loadTfjsModel reads the model alone`,
    )
  const kerasSlot = new Map(Object.entries(names).map(([k, v]) => [v, k]))
  const index = new Map(order.flatMap((m, i) => (m === undefined ? [] : [[m.name, i] as const])))
  const values = new Map<string, Map<number, Tensor>>()
  let iterations: number | undefined
  for (const m of mine) {
    const bytes = bytesOf(m)
    if (m.name === 'iter') {
      if (m.shape.length !== 0 || (m.dtype !== 'int32' && m.dtype !== 'float32'))
        return E.left(`${m.where}: expected an int32 or float32 scalar`)
      const view = new DataView(bytes.buffer, bytes.byteOffset + m.offset, 4)
      iterations = m.dtype === 'int32' ? view.getInt32(0, true) : view.getFloat32(0, true)
      if (!Number.isSafeInteger(iterations) || iterations < 0)
        return E.left(`${m.where}: expected a count of updates, found ${iterations}`)
      continue
    }
    const cut = m.name.lastIndexOf('/')
    const slot = kerasSlot.get(m.name.slice(cut + 1))
    if (slot === undefined)
      return E.left(
        `${m.where}: not a variable of TF.js's ${className} (expected iter${[...kerasSlot.keys()].map((k) => ` or <weight>/${k}`).join('')})`,
      )
    const i = index.get(m.name.slice(0, cut))
    if (i === undefined) return E.left(`${m.where}: names no weight of the model`)
    if (m.dtype !== 'float32')
      return E.left(`${m.where}: dtype "${m.dtype}" is not supported, expected float32`)
    if (fmt(m.shape) !== fmt(order[i]!.shape))
      return E.left(
        `${m.where}: expected the shape of ${order[i]!.name}, ${fmt(order[i]!.shape)}, got ${fmt(m.shape)}`,
      )
    const inSlot = values.get(slot) ?? new Map<number, Tensor>()
    inSlot.set(i, tensorAt(bytes, m.offset, m.shape))
    values.set(slot, inSlot)
  }
  if (iterations === undefined) return E.left(`weightsManifest: optimizer weights without "iter"`)
  const slots: Record<string, Tree> = {}
  for (const slot of Object.keys(names)) {
    const got = values.get(slot) ?? new Map<number, Tensor>()
    let i = 0
    slots[slot] = mapWeights(fresh.layer, fresh.params, fresh.state, (e) => {
      const v = got.get(i++)
      return v ?? zeros(e.tensor.shape)
    }).params
  }
  return E.right({
    className,
    iterations,
    ...(isRecord(oc) && isRecord(oc.config) ? { config: oc.config } : {}),
    slots,
  })
}

// ---------------------------------------------------------------------------------------
// Loading: the steps loadTfjsModel (files) and tfjsModelFromArtifacts (memory) share

/** What `model.json` says, decoded and planned: the topology, the input shape, where each weight is. */
const plan = (u: unknown, opts: LoadTfjsModelOptions) =>
  pipe(
    E.Do,
    E.bind('json', () => decode(ModelJsonC, u, '')),
    E.bind('topology', ({ json }) => planTopology(json.modelTopology, opts.keras3 ?? false)),
    E.bind('inputShape', ({ topology }) => resolveInputShape(topology, opts)),
    E.bind('placed', ({ json }) => placeWeights(json.weightsManifest)),
  )

/** The model of the topology with fresh weights, and the manifest entry of each of its weights. */
const buildFresh = (topology: Topology, inputShape: Shape, entries: readonly ManifestEntry[]) =>
  pipe(
    E.tryCatch(
      () =>
        initModel(sequential(topology.chain as readonly AnyLayer[], { name: topology.name, inputShape }), {
          key: key(0),
        }),
      (e) => `modelTopology: cannot be built for input shape ${fmt(inputShape)}: ${(e as Error).message}`,
    ),
    E.bindTo('fresh'),
    E.bind('order', ({ fresh }) => matchWeights(fresh, topology, entries)),
  )

/** The tensor of a manifest entry, from the bytes of its group (dequantized if it is quantized). */
const weightAt = (bytes: Uint8Array, m: ManifestEntry): Tensor =>
  m.quantization === undefined
    ? tensorAt(bytes, m.offset, m.shape)
    : dequantize(bytes, m.offset, m.shape, m.quantization)

/** The fresh model with the weights read (in its weights' order; undefined keeps the fresh one). */
const withWeights = (
  fresh: Model<Sequential>,
  topology: Topology,
  inputShape: Shape,
  values: readonly (Tensor | undefined)[],
): Model<Sequential> => {
  let i = 0
  const { params, state } = mapWeights(fresh.layer, fresh.params, fresh.state, (e) => values[i++] ?? e.tensor)
  return { layer: fresh.layer, params, state, trainable: trainableMask(fresh, topology), inputShape }
}

/**
 * What is checked of a plan before anything is allocated: the weights' total bytes against
 * `maxBytes` (default 16 GiB), and that every size of the topology is backed by a weight.
 */
const checkPlanned =
  (opts: LoadTfjsModelOptions) =>
  <
    P extends E.Either<
      string,
      {
        json: { modelTopology: unknown }
        placed: { groupBytes: readonly number[]; entries: readonly ManifestEntry[] }
        inputShape: Shape
      }
    >,
  >(
    planned: P,
  ): P => {
    const maxBytes = opts.maxBytes ?? 16 * 2 ** 30
    return pipe(
      planned,
      E.chainFirst(({ placed }) => {
        const total = placed.groupBytes.reduce((a, b) => a + b, 0)
        return total > maxBytes
          ? E.left(`weightsManifest: ${total} bytes of weights, more than maxBytes (${maxBytes})`)
          : E.right(undefined)
      }),
      E.chainFirst(({ json, placed, inputShape }) => {
        const unknown = sizesWithoutWeights(
          json.modelTopology,
          'modelTopology',
          inputShape,
          'input shape',
          placed.entries.filter((m) => m.model).flatMap((m) => m.shape),
          'weightsManifest',
        )
        return unknown === undefined ? E.right(undefined) : E.left(unknown)
      }),
    ) as P
  }

/** `w`, or an error naming the weight (`where`) and the first non-finite value, unless `allowNonFinite`. */
const finiteWeight = (w: Tensor, where: string, opts: LoadTfjsModelOptions): E.Either<string, Tensor> => {
  if (opts.allowNonFinite === true) return E.right(w)
  const bad = w.data.findIndex((v) => !Number.isFinite(v))
  return bad === -1
    ? E.right(w)
    : E.left(
        `${where}: value ${bad} is ${w.data[bad]} (non-finite weights are refused; { allowNonFinite: true } accepts them)`,
      )
}

const loadEither = async (
  path: string,
  opts: LoadTfjsModelOptions,
  withOptimizer = false,
): Promise<E.Either<string, TfjsModelWithOptimizer>> => {
  const isFile = path.endsWith('.json')
  const jsonPath = isFile ? path : join(path, 'model.json')
  const jsonName = basename(jsonPath)
  const base = dirname(jsonPath)
  const inJson = E.mapLeft((m: string) => `${jsonName}: ${m}`)

  if ((await fs.stat(base).catch(() => undefined))?.isDirectory() !== true)
    return E.left(`${jsonName}: not found in ${base}`)
  const text = await readTextInside(base, jsonName, 64 * 2 ** 20)
  if (E.isLeft(text)) return text
  const parsed = parseJson(text.right)
  if (E.isLeft(parsed)) return inJson(parsed)

  // everything model.json says, and the shards' sizes, are checked before anything is allocated
  const planned = inJson(checkPlanned(opts)(plan(parsed.right, opts)))
  if (E.isLeft(planned)) return planned
  const { json, topology, inputShape, placed } = planned.right
  const opened = await openGroups(base, json.weightsManifest, placed.groupBytes)
  if (E.isLeft(opened)) return opened
  try {
    const checked = inJson(buildFresh(topology, inputShape, placed.entries))
    if (E.isLeft(checked)) return checked
    const { fresh, order } = checked.right
    const groups = await readGroups(opened.right, json.weightsManifest, placed.groupBytes)
    if (E.isLeft(groups)) return groups
    const values: (Tensor | undefined)[] = []
    for (const m of order) {
      if (m === undefined) {
        values.push(undefined)
        continue
      }
      const w = finiteWeight(
        weightAt(groups.right[m.group]!, m),
        `${json.weightsManifest[m.group]!.paths.join(' + ')}: ${m.where}`,
        opts,
      )
      if (E.isLeft(w)) return w
      values.push(w.right)
    }
    const optimizer = withOptimizer
      ? inJson(
          optimizerOf(
            (parsed.right as { trainingConfig?: unknown }).trainingConfig,
            placed.entries,
            order,
            fresh,
            (m) => groups.right[m.group]!,
          ),
        )
      : E.right(undefined)
    if (E.isLeft(optimizer)) return optimizer
    return E.right({ model: withWeights(fresh, topology, inputShape, values), optimizer: optimizer.right })
  } finally {
    await closeAll(opened.right)
  }
}

/**
 * Loads a Sequential or functional model saved in the TF.js Layers format (by Keras through
 * `tensorflowjs_converter`, or by TF.js' `model.save`) as a purenn {@link Model}, ready to
 * fine-tune.
 *
 * @remarks
 * The format is a directory with `model.json` and weight shards. `model.json` is
 * `{ format: 'layers-model', modelTopology, weightsManifest }`, where `modelTopology` is
 * Keras' model config `{ class_name: 'Sequential', config: { name, layers: [{ class_name,
 * config }, ...] } }` (the converter nests it in `modelTopology.model_config`; very old files
 * have a bare list of layers as `config`), and `weightsManifest` is a list of groups
 * `{ paths: ['group1-shard1of2.bin', ...], weights: [{ name: 'dense/kernel', shape: [784,
 * 300], dtype: 'float32' }, ...] }`: each group's weights lie back to back, little-endian, in
 * the concatenation of its shard files in the order listed.
 *
 * Layer classes read, with their Keras config fields (snake_case) mapped to purenn's options:
 * - `Dense`: `units`, `activation`, `use_bias`, `kernel_initializer`, `bias_initializer`,
 *   `kernel_regularizer`, `bias_regularizer` (`L1`, `L2`, `L1L2`);
 * - `BatchNormalization`: `axis` (an integer or a list), `momentum`, `epsilon`, `center`,
 *   `scale` (its initializers are not kept: purenn starts from ones and zeros);
 * - `Dropout`: `rate`; `Activation`: `activation`; `LeakyReLU`: `alpha` (Keras 3:
 *   `negative_slope`); `Flatten` (`data_format: 'channels_last'`);
 * - `Conv2D`: `filters`, `kernel_size`, `strides`, `padding` (`valid`, `same`),
 *   `dilation_rate`, `activation`, `use_bias`, the initializers and regularizers as `Dense`;
 *   `MaxPooling2D`, `AveragePooling2D`: `pool_size`, `strides` (null: the pool size),
 *   `padding`; `GlobalAveragePooling2D`: `keepdims`. Images are channels_last (NHWC, the
 *   default of Keras and TF.js); `channels_first` and grouped convolutions are refused;
 * - `InputLayer` as the first layer: skipped, its `batch_input_shape` (Keras 3:
 *   `batch_shape`) is the input shape. Otherwise the first layer's `batch_input_shape` is,
 *   or `opts.inputShape`.
 *
 * Activations: linear, relu, leaky_relu (α = 0.2), elu, selu, gelu (exact), swish/silu,
 * sigmoid, tanh, softmax, softplus. Initializers: Glorot, He and LeCun (uniform and normal),
 * Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling; they
 * matter only to `cloneModel`, since the weights replace them. Keras' layer names are kept,
 * so the params are keyed `dense`, `dense_1`, ... as in Keras; a layer with `trainable:
 * false` is frozen in the trainable mask. Weights are matched by name: the last two parts of
 * `sequential/dense/kernel:0` are the layer and the weight (`kernel`, `bias`, `gamma`,
 * `beta`, `moving_mean`, `moving_variance`); optimizer weights (`group: 'optimizer'`) are
 * skipped (read by {@link loadTfjsModelWithOptimizer}). Also read: `PReLU` (weight `alpha`),
 * `AlphaDropout`, `GaussianDropout`, `GaussianNoise`, `Normalization` with its statistics in the
 * config (Keras 3), and the activations `relu6`, `mish`, `gelu_new`, `hard_silu`.
 *
 * Everything is checked before anything is built, and the first problem rejects the promise
 * with a message naming the file and the field: a bad field
 * (`model.json: modelTopology.config.layers[1].config.units: expected a positive integer,
 * got "300"`), a class purenn does not have (`model.json: modelTopology: layer 3 ("lstm")
 * has class "LSTM", which purenn does not have; supported: ...`), a field it cannot honour
 * (constraints, activity regularizers, batch renormalization, noise shapes), a weight that is
 * not float32 (weights quantized by `tensorflowjs_converter --quantize_uint8/uint16/float16`
 * are read: `q·scale + min`, or half floats), a weight missing, unknown or of the wrong shape
 * (`model.json: weightsManifest[0].weights[2] (dense/kernel): expected shape [784,300], got
 * [300,784]`), a shard missing or of the wrong size (`group1-shard1of1.bin: expected 1086016
 * bytes for weightsManifest[0], found 1000`). Nested models and other layer classes are not
 * supported.
 *
 * TF.js' shards carry no checksums. A group written by {@link saveTfjsModel} also lists each
 * shard's SHA-256 in `purennSha256` (a field TF.js ignores); when it is there, every shard is
 * checked against it (`group1-shard1of1.bin: checksum mismatch (SHA-256 differs from
 * model.json weightsManifest[0].purennSha256[0]): ...`), so a damaged or swapped shard is an
 * error. Without it, what is checked is the structure: sizes, no file listed twice, and
 * shards named as TF.js names them (`group1-shard2of3.bin`) listed in their place.
 *
 * Functional models (`class_name` `Model` as TF.js writes it, `Functional` in Keras 2/3) are
 * read when the combinators can express their graph: one input, one output, every layer
 * called once, branches that leave one layer and meet again at an `Add` (read as
 * {@link add}) or a `Concatenate` ({@link concatenate}, same `axis`). Each merge becomes
 * `fanOut(k)`, `parallel(...branches)` and the merge layer, right after the last layer all its
 * branches go through (an empty branch, the skip of a residual block, is an
 * {@link identity}); the whole is a {@link sequential} named as the Keras model. Keras layer
 * names are kept, so weights still match by `layer/weight`. Anything else (a second input, a
 * shared layer, `Multiply`, a branch read again after its merge) is refused with a message
 * naming the layer.
 *
 * @param path - a directory holding `model.json` and its shards, or the path of the `.json` file itself
 * @param opts - `inputShape`, `allowNonFinite`, `maxBytes`, `keras3`: see {@link LoadTfjsModelOptions}
 * @returns the model: a {@link sequential} named as in Keras, its weights, a trainable mask, the input shape
 * @throws Error (a rejected promise) describing the first problem found.
 * @example
 * ```ts
 * import { applyModel, loadTfjsModel } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * import { mkdtemp, writeFile } from 'node:fs/promises'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * const dir = await mkdtemp(join(tmpdir(), 'tfjs-'))
 * const dense = { units: 1, activation: 'linear', use_bias: true, batch_input_shape: [null, 2] }
 * const modelTopology = { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { name: 'dense', ...dense } }] } }
 * const weights = [{ name: 'dense/kernel', shape: [2, 1], dtype: 'float32' }, { name: 'dense/bias', shape: [1], dtype: 'float32' }]
 * const weightsManifest = [{ paths: ['group1-shard1of1.bin'], weights }]
 * await writeFile(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology, weightsManifest }))
 * await writeFile(join(dir, 'group1-shard1of1.bin'), new Float32Array([2, 3, 0.5])) // kernel [[2], [3]], bias [0.5]
 * const model = await loadTfjsModel(dir)
 * console.log(model.layer.names, model.inputShape) // [ 'dense' ] [ 2 ]
 * console.log(applyModel(model, tensor([[1, 1]])).y.toString()) // tensor([[5.5]])
 * ```
 * @category Models
 */
export const loadTfjsModel = async (
  path: string,
  opts: LoadTfjsModelOptions = {},
): Promise<Model<Sequential>> => {
  // a file that is not a .json (a .keras zip, an .h5): say what it is instead of ENOTDIR
  if (!path.endsWith('.json') && (await fs.stat(path).catch(() => undefined))?.isFile() === true)
    throw new Error(`loadTfjsModel: ${path} is ${await describeFile(path)}`)
  return orThrow(await loadEither(path, opts)).model
}

/**
 * A model read by {@link loadTfjsModelWithOptimizer}: the model and its optimizer's variables.
 *
 * @example
 * ```ts
 * import type { TfjsModelWithOptimizer } from '@purenn/layers'
 * const show = (r: TfjsModelWithOptimizer) => r.optimizer?.iterations ?? 'no optimizer weights'
 * console.log(typeof show) // function
 * ```
 * @category Models
 */
export interface TfjsModelWithOptimizer {
  readonly model: Model<Sequential>
  /** Undefined when the manifest holds no optimizer weights. */
  readonly optimizer: OptimizerWeights | undefined
}

/**
 * {@link loadTfjsModel}, also reading the optimizer weights that TF.js's
 * `model.save(handler, { includeOptimizer: true })` writes (and `saveTfjsModel(model, dir,
 * { optimizer })`).
 *
 * @remarks
 * The optimizer's class comes from `trainingConfig.optimizer_config`; TF.js 4.22's Adam keeps
 * `iter` and `<weight>/m`, `<weight>/v` for each trainable weight (read as the slots
 * `momentum` and `velocity`, Keras 3's names), its SGD only `iter`. Other classes are an error
 * naming the class (their variables are not purenn's). A slot has a leaf for each param of the
 * model; one TF.js did not keep (a frozen layer's) is zeros. `@purenn/optim`'s
 * `restoreAdamState` turns the result into an Adam state.
 *
 * @param path - the folder, or its `model.json`
 * @param opts - as {@link loadTfjsModel}
 * @returns `{ model, optimizer }`
 * @example
 * ```ts
 * import { dense, initModel, loadTfjsModelWithOptimizer, saveTfjsModel, sequential } from '@purenn/layers'
 * import { key, tensor, tree } from '@purenn/tensor'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * const dir = join(mkdtempSync(join(tmpdir(), 'tfjs-')), 'model')
 * const model = initModel(sequential([dense({ units: 1 })], { inputShape: [2] }), { key: key(0) })
 * const m = { dense: { kernel: tensor([[0.1], [0.2]]), bias: tensor([0.3]) } }
 * const v = { dense: { kernel: tensor([[0.01], [0.02]]), bias: tensor([0.03]) } }
 * await saveTfjsModel(model, dir, { optimizer: { className: 'Adam', iterations: 7, slots: { momentum: m, velocity: v } } })
 * const { optimizer } = await loadTfjsModelWithOptimizer(dir)
 * const v2 = tree.flatten(optimizer!.slots.velocity!).map(([p, t]) => `${p} ${t.toString()}`)
 * console.log(optimizer?.iterations, v2.join('; ')) // 7 dense.kernel tensor([[0.01], [0.02]]); dense.bias tensor([0.03])
 * ```
 * @category Models
 */
export const loadTfjsModelWithOptimizer = async (
  path: string,
  opts: LoadTfjsModelOptions = {},
): Promise<TfjsModelWithOptimizer> => {
  if (!path.endsWith('.json') && (await fs.stat(path).catch(() => undefined))?.isFile() === true)
    throw new Error(`loadTfjsModelWithOptimizer: ${path} is ${await describeFile(path)}`)
  return orThrow(await loadEither(path, opts, true))
}

/**
 * The model in TF.js artifacts held in memory (what {@link tfjsArtifacts} returns, TF.js's
 * `ModelArtifacts`, or a Keras model converted by `@purenn/keras`), with the same checks and
 * messages as {@link loadTfjsModel}, which reads the same thing from files. Works without a
 * file system (browsers).
 *
 * @param artifacts - `{ modelTopology, weightSpecs, weightData }`: the Keras topology, the weights in byte order, their little-endian float32 bytes
 * @param opts - as {@link loadTfjsModel}: `inputShape`, `allowNonFinite`, `maxBytes` (of `weightData`)
 * @returns the model
 * @throws Error describing the first problem found, naming the field
 * @example
 * ```ts
 * import { dense, initModel, sequential, tfjsArtifacts, tfjsModelFromArtifacts } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const model = initModel(sequential([dense({ units: 2 })], { inputShape: [3] }), { key: key(0) })
 * const back = tfjsModelFromArtifacts(tfjsArtifacts(model))
 * console.log(back.params.dense.kernel.data.join() === model.params.dense.kernel.data.join()) // true
 * ```
 * @category Models
 */
export const tfjsModelFromArtifacts = (
  artifacts: {
    readonly modelTopology: unknown
    readonly weightSpecs: readonly unknown[]
    readonly weightData: ArrayBuffer | Uint8Array
  },
  opts: LoadTfjsModelOptions = {},
): Model<Sequential> => {
  const bytes =
    artifacts.weightData instanceof Uint8Array ? artifacts.weightData : new Uint8Array(artifacts.weightData)
  const manifest = [{ paths: [], weights: artifacts.weightSpecs }]
  const checked = pipe(
    checkPlanned(opts)(plan({ modelTopology: artifacts.modelTopology, weightsManifest: manifest }, opts)),
    E.chainFirst(({ placed }) =>
      placed.groupBytes[0] === bytes.length
        ? E.right(undefined)
        : E.left(`weightData: expected ${placed.groupBytes[0]} bytes for weightSpecs, found ${bytes.length}`),
    ),
    E.chain(({ topology, inputShape, placed }) =>
      pipe(
        buildFresh(topology, inputShape, placed.entries),
        E.chain(({ fresh, order }) =>
          pipe(
            order,
            E.traverseArray((m) =>
              m === undefined
                ? E.right(undefined)
                : finiteWeight(weightAt(bytes, m), `weightData: ${m.where}`, opts),
            ),
            E.map((values) => withWeights(fresh, topology, inputShape, values)),
          ),
        ),
      ),
    ),
  )
  return orThrow(E.mapLeft((m: string) => `tfjsModelFromArtifacts: ${m}`)(checked))
}
