import {
  add,
  batchNorm,
  batchNormTrain,
  mul,
  ones,
  reshape,
  ShapeError,
  stopGradient,
  type Tensor,
  type TreeOf,
  zeros,
} from '@purenn/tensor'
import { type DefinedLayer, defineLayer } from './define.js'
import { jsonField } from './fields.js'
import { axisField } from './internal/axisField.js'
import type { NameOption, Shape } from './layer.js'

/**
 * Options of {@link batchNormalization}, named as Keras' `BatchNormalization` arguments in
 * camelCase.
 * @category Layers
 */
export interface BatchNormalizationOptions extends NameOption {
  /**
   * The axis, or list of axes, that is KEPT: one mean, variance, gamma and beta per position
   * along it; statistics are taken over every other axis. Counted on the input WITH its batch
   * axis, as Keras: −1 (default) is the features of `(batch, features)` or the channels of
   * `(batch, h, w, c)`; `[1, 2]` on `(batch, h, w)` gives statistics per pixel.
   */
  readonly axis?: number | readonly number[]
  /** Weight of the old value in the moving averages. Default 0.99. */
  readonly momentum?: number
  /** Added to the variance before the square root. Default 1e-3. */
  readonly epsilon?: number
  /** Whether to learn an offset `beta`. Default true. */
  readonly center?: boolean
  /** Whether to learn a scale `gamma`. Default true (false is fine before a ReLU). */
  readonly scale?: boolean
}

const schema = {
  axis: axisField(),
  momentum: jsonField('number', { default: 0.99 }),
  epsilon: jsonField('number', { default: 1e-3 }),
  center: jsonField('boolean', { default: true }),
  scale: jsonField('boolean', { default: true }),
} as const

/**
 * Trainable params of a batch-normalization layer: `gamma` (with `scale`) and `beta` (with
 * `center`), of the kept-axes shape.
 * @category Layers
 */
export type BatchNormalizationParams = { readonly gamma?: Tensor; readonly beta?: Tensor }

/**
 * Non-trainable state of a batch-normalization layer: the moving averages of the batch mean
 * and of the (biased) batch variance, of the kept-axes shape.
 * @category Layers
 */
export type BatchNormalizationState = { readonly movingMean: Tensor; readonly movingVariance: Tensor }

/**
 * Batch normalization (Keras' `BatchNormalization`): standardizes each kept position with
 * the batch statistics while training and with moving averages at inference, then scales
 * by `gamma` and shifts by `beta`.
 *
 * @remarks
 * Ioffe & Szegedy (2015), "Batch Normalization: Accelerating Deep Network Training by
 * Reducing Internal Covariate Shift". Semantics of tf.keras 2.x:
 * - **Training** (`training: true`, layer not frozen): over every axis but `axis`,
 *   $\mu = \frac{1}{N} \sum x$, $\sigma^2 = \frac{1}{N} \sum (x - \mu)^2$ (biased),
 *   $y = \gamma \, \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}} + \beta$, with the gradient flowing
 *   through $\mu$ and $\sigma^2$ (fused kernel `batchNormTrain` of `@purenn/tensor`). The new
 *   state is $\mathrm{moving} \leftarrow \mathrm{moving} \cdot \mathrm{momentum} + \mathrm{batch} \cdot (1 - \mathrm{momentum})$
 *   for the mean and for the biased variance (what tf.keras 2.x stores too: its fused path
 *   removes Bessel's correction).
 * - **Inference** (`training: false`, the mode of `predict` and `evaluate`):
 *   $y = \gamma \, \frac{x - \mathrm{movingMean}}{\sqrt{\mathrm{movingVariance} + \varepsilon}} + \beta$;
 *   the state is returned unchanged. Here $\gamma$ is `gamma`, $\beta$ is `beta` and
 *   $\varepsilon$ is `epsilon`.
 * - **Frozen** (`trainable: false`, or a mask whose leaves are all false): inference mode even
 *   when training, and the state never changes, as tf.keras (TF ≥ 2.0) and Keras 3. An empty mask
 *   (`{}`, the layer with `center` and `scale` off) counts as not frozen; pass `false`.
 *
 * Params `gamma` (ones) and `beta` (zeros), state `movingMean` (zeros) and `movingVariance`
 * (ones). Their shape is `[d]` for one kept axis of size d and, for several kept axes, the
 * input rank with 1 on the other axes (`[1, h, w]` for `axis: [1, 2]` on `(batch, h, w)`),
 * as tf.keras 2.x; Keras 3 only accepts a single axis. Parameter count: 4 per kept position
 * (2 trainable, 2 not), e.g. 4·784 = 3136 after `Flatten` of 28×28 images.
 *
 * @param opts - `{ axis = -1, momentum = 0.99, epsilon = 1e-3, center = true, scale = true, name? }`
 * @returns the layer; its `apply` returns the new moving statistics as `state`
 * @throws Error when `momentum` is not in [0, 1], `epsilon` is negative or an axis is not an integer.
 * @example
 * ```ts
 * import { batchNormalization } from '@purenn/layers'
 * import { key, tensor, tree } from '@purenn/tensor'
 * const layer = batchNormalization()
 * const { params, state } = layer.init(key(0), [2])
 * console.log(tree.count(params) + tree.count(state)) // 8
 * const x = tensor([[1, 10], [3, 30]])
 * const train = layer.apply(params, state, x, { training: true })
 * console.log(train.state.movingMean.toString()) // tensor([0.02, 0.2])
 * const infer = layer.apply(params, state, x, { training: false })
 * console.log(infer.y.toString()) // tensor([[0.9995, 9.995], [2.9985, 29.985]])
 * ```
 * @category Layers
 */
export const batchNormalization: DefinedLayer<
  'BatchNormalization',
  typeof schema,
  BatchNormalizationParams,
  BatchNormalizationState
> = defineLayer({
  kind: 'BatchNormalization',
  fn: 'batchNormalization',
  config: schema,
  build: ({ axis, momentum, epsilon, center, scale }) => {
    const problem = checkOptions(axis, momentum, epsilon)
    if (problem !== undefined) throw new Error(problem)
    return {
      init: (_key, inputShape) => {
        const rank = inputShape.length + 1
        const kept = keptAxes(axis, rank, `input shape ${fmtShape(inputShape)}`)
        const dim = (a: number) => inputShape[a - 1]!
        const shape =
          kept.length === 1
            ? [dim(kept[0]!)]
            : Array.from({ length: rank }, (_, i) => (kept.includes(i) ? dim(i) : 1))
        return {
          params: { ...(scale ? { gamma: ones(shape) } : {}), ...(center ? { beta: zeros(shape) } : {}) },
          state: { movingMean: zeros(shape), movingVariance: ones(shape) },
          outputShape: inputShape,
        }
      },
      apply: (params: BatchNormalizationParams, state: BatchNormalizationState, x, o) => {
        const rank = x.shape.length
        const kept = keptAxes(axis, rank, `input shape ${fmtShape(x.shape.slice(1))}`)
        const keptShape = x.shape.map((d, i) => (kept.includes(i) ? d : 1))
        const k = keptShape.reduce((p, d) => p * d, 1)
        if (state.movingMean.size !== k)
          throw new ShapeError(
            `batchNormalization: input of shape ${fmtShape(x.shape.slice(1))} has ${k} positions along axis ${JSON.stringify(
              axis,
            )}, but the layer's statistics have shape [${state.movingMean.shape.join(',')}]`,
          )
        const asKept = (v: Tensor) => reshape(v, keptShape)
        const gamma = params.gamma === undefined ? undefined : asKept(params.gamma)
        const beta = params.beta === undefined ? undefined : asKept(params.beta)
        if (!o.training || isFrozen(o.trainable)) {
          const { movingMean, movingVariance } = state
          return { y: batchNorm(x, asKept(movingMean), asKept(movingVariance), gamma, beta, epsilon), state }
        }
        const reduced = x.shape.flatMap((_, i) => (kept.includes(i) ? [] : [i]))
        const r = batchNormTrain(x, gamma, beta, reduced, epsilon, true)
        const update = (moving: Tensor, batch: Tensor) =>
          add(mul(moving, momentum), mul(reshape(stopGradient(batch), moving.shape), 1 - momentum))
        return {
          y: r.y,
          state: {
            movingMean: update(state.movingMean, r.mean),
            movingVariance: update(state.movingVariance, r.variance),
          },
        }
      },
    }
  },
})

// the options `batchNormalization` takes are the schema's
const _options: (o: BatchNormalizationOptions) => unknown = batchNormalization

// ---------------------------------------------------------------------------------------
// helpers

const fmtShape = (s: Shape): string => `(None, ${s.join(', ')})`

/** What is wrong with these options, if anything (shape-independent checks). */
const checkOptions = (
  axis: number | readonly number[],
  momentum: number,
  epsilon: number,
): string | undefined => {
  const list = typeof axis === 'number' ? [axis] : axis
  if (list.length === 0) return 'axis must name at least one axis, got []'
  if (!list.every(Number.isInteger))
    return `axis must be an integer or a list of integers, got ${JSON.stringify(axis)}`
  if (!(momentum >= 0 && momentum <= 1)) return `momentum must be in [0, 1], got ${momentum}`
  if (!(epsilon >= 0 && Number.isFinite(epsilon)))
    return `epsilon must be a finite number ≥ 0, got ${epsilon}`
  return undefined
}

/** The kept axes, normalized against `rank` (batch axis included), sorted; throws on a bad one. */
const keptAxes = (axis: number | readonly number[], rank: number, where: string): number[] => {
  const list = typeof axis === 'number' ? [axis] : axis
  const out = list.map((a) => {
    if (a < -rank || a >= rank)
      throw new ShapeError(
        `batchNormalization: axis ${a} is out of range for ${where} (rank ${rank} with the batch axis)`,
      )
    const n = a < 0 ? a + rank : a
    if (n === 0)
      throw new ShapeError(`batchNormalization: axis ${a} is the batch axis; it cannot be kept (${where})`)
    return n
  })
  const sorted = [...out].sort((p, q) => p - q)
  if (sorted.some((a, i) => i > 0 && a === sorted[i - 1]))
    throw new ShapeError(`batchNormalization: repeated axis in ${JSON.stringify(axis)} for ${where}`)
  return sorted
}

/** Frozen: `false`, or a mask with at least one leaf whose leaves are all false. */
const isFrozen = (mask: TreeOf<boolean> | undefined): boolean => {
  if (mask === undefined) return false
  const leaves: boolean[] = []
  const walk = (m: TreeOf<boolean>): void => {
    if (typeof m === 'boolean') leaves.push(m)
    else if (Array.isArray(m)) m.forEach(walk)
    else Object.values(m as { readonly [k: string]: TreeOf<boolean> }).forEach(walk)
  }
  walk(mask)
  return leaves.length > 0 && leaves.every((l) => !l)
}
