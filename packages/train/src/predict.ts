import {
  getLoss,
  getMetric,
  LabelError,
  type Loss,
  type LossName,
  type Metric,
  type MetricName,
  type Model,
} from '@purenn/layers'
import {
  add,
  concat,
  div,
  type Key,
  scalar,
  slice,
  split,
  sqrt,
  square,
  stack,
  sub,
  type Tensor,
  tensor,
} from '@purenn/tensor'
import { openStepScope, unscoped } from '@purenn/tensor/internal'
import { plainTensor } from './ledger.js'
import { type Rows, takeRows } from './rowSource.js'

/**
 * Rows [start, start+n) of a batch-first tensor.
 * @internal
 */
export const rows = (x: Tensor, start: number, n: number): Tensor =>
  slice(
    x,
    x.shape.map((_, i) => (i === 0 ? start : 0)),
    x.shape.map((d, i) => (i === 0 ? n : d)),
  )

/** Calls `f` on consecutive row ranges of at most `batchSize` rows. @internal */
export const forEachBatch = (
  n: number,
  batchSize: number,
  f: (start: number, size: number) => void,
): void => {
  if (!Number.isInteger(batchSize) || batchSize <= 0)
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`)
  for (let start = 0; start < n; start += batchSize) f(start, Math.min(batchSize, n - start))
}

/**
 * Runs `pass` (the forward pass of one batch) in a step scope: the batch and the pass's
 * intermediates are made on blocks of the kernels' memory that the next ops read in place,
 * and are freed when it returns. `pass` copies out what it keeps ({@link keptOut}). As in
 * `fit`'s step, a layer must not keep a tensor elsewhere (reading it later throws).
 */
const scopedPass = <T>(pass: () => T): T => {
  const scope = openStepScope()
  try {
    return pass()
  } finally {
    scope.close(new Set())
  }
}

/** `t` on a buffer no scope frees: a plain copy when it is on an owned block, else `t`. */
const keptOut = (t: Tensor): Tensor => unscoped(() => plainTensor(t))

/**
 * Options of {@link predict}.
 * @category Inference
 */
export interface PredictOptions {
  /** Rows per forward pass. Default 32, as Keras. */
  readonly batchSize?: number
  /**
   * A key for layers that draw randomness even at inference (`mcDropout`,
   * `mcAlphaDropout`): split once per batch. Without it such a model throws.
   */
  readonly key?: Key
}

/**
 * The model's outputs for `x`, in inference mode (`training: false`: batch normalization
 * uses its moving statistics, dropout is the identity), computed batch by batch.
 *
 * @example
 * ```ts
 * import { dense, initModel, sequential } from '@purenn/layers'
 * import { key, zeros } from '@purenn/tensor'
 * import { predict } from '@purenn/train'
 * const model = initModel(sequential([dense({ units: 3, activation: 'softmax' })], { inputShape: [4] }), { key: key(0) })
 * console.log(predict(model, zeros([5, 4])).shape) // [ 5, 3 ]
 * ```
 * @category Inference
 */
export const predict = (model: Model, x: Rows, opts: PredictOptions = {}): Tensor => {
  const parts: Tensor[] = []
  const n = x.shape[0] ?? 0
  const batchSize = opts.batchSize ?? 32
  const keys = opts.key === undefined ? undefined : split(opts.key, Math.max(1, Math.ceil(n / batchSize)))
  forEachBatch(n, batchSize, (start, size) => {
    const k = keys?.[parts.length]
    const o = k === undefined ? { training: false } : { training: false, key: k }
    parts.push(
      scopedPass(() => keptOut(model.layer.apply(model.params, model.state, takeRows(x, start, size), o).y)),
    )
  })
  if (parts.length === 0) throw new Error('predict: x has no rows')
  return parts.length === 1 ? parts[0]! : concat(parts, 0)
}

/**
 * Options of {@link evaluate}.
 * @category Inference
 */
export interface EvaluateOptions {
  /** The loss, by name or value. */
  readonly loss: Loss | LossName
  /** Metrics to report, by name or value. Default none. */
  readonly metrics?: readonly (Metric | MetricName)[]
  /** Rows per forward pass. Default 32. */
  readonly batchSize?: number
}

/**
 * Loss and metrics of the model on `(x, y)` in inference mode, as Keras' `evaluate`.
 *
 * @remarks Each value is the mean over all rows (batch means weighted by batch size); the
 * loss includes the layers' regularization penalties, as Keras reports it.
 * @returns `{ loss, accuracy?, ... }` keyed by metric name
 * @example
 * ```ts
 * import { dense, initModel, sequential } from '@purenn/layers'
 * import { key, tensor } from '@purenn/tensor'
 * import { evaluate } from '@purenn/train'
 * const model = initModel(sequential([dense({ units: 2, activation: 'softmax', kernelInitializer: 'zeros' })], { inputShape: [2] }), { key: key(0) })
 * const r = evaluate(model, tensor([[1, 2], [3, 4]]), tensor([0, 1]), { loss: 'sparseCategoricalCrossentropy' })
 * console.log(r.loss?.toFixed(4)) // 0.6931
 * ```
 * @category Inference
 */
export const evaluate = (model: Model, x: Rows, y: Tensor, opts: EvaluateOptions): Record<string, number> => {
  const loss = getLoss(opts.loss)
  const metrics = (opts.metrics ?? []).map(getMetric)
  const n = x.shape[0] ?? 0
  if (n === 0) throw new Error('evaluate: x has no rows')
  if (y.shape[0] !== n) throw new Error(`evaluate: x has ${n} rows but y has ${y.shape[0]}`)
  const penalty = model.layer.penalty === undefined ? 0 : model.layer.penalty(model.params).item()
  const sums: Record<string, number> = { loss: 0 }
  for (const m of metrics) sums[m.name] = 0
  forEachBatch(n, opts.batchSize ?? 32, (start, size) =>
    scopedPass(() => {
      const yPred = model.layer.apply(model.params, model.state, takeRows(x, start, size), {
        training: false,
      }).y
      const yTrue = rows(y, start, size)
      try {
        sums.loss! += loss.fn(yTrue, yPred).item() * size
        for (const m of metrics) sums[m.name]! += m.fn(yTrue, yPred).item() * size
      } catch (e) {
        // the row of y, not of the batch
        if (e instanceof LabelError && e.context.op === undefined)
          throw new LabelError(e.loss, e.label, start + e.row, e.classes, { op: 'evaluate', where: ' of y' })
        throw e
      }
    }),
  )
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(sums)) out[k] = v / n + (k === 'loss' ? penalty : 0)
  return out
}

/**
 * Options of {@link mcPredict}.
 * @category Inference
 */
export interface McPredictOptions {
  /** Number of stochastic forward passes. Default 100, as the chapter. */
  readonly samples?: number
  /** The key the dropout masks are drawn from (split once per sample). */
  readonly key: Key
  /** Rows per forward pass. Default 32. */
  readonly batchSize?: number
  /** Also return every sample, stacked as `[samples, rows, ...]`. Default false. */
  readonly returnSamples?: boolean
  /**
   * Quantiles to compute per output over the samples, each in [0, 1] (e.g. `[0.025, 0.975]`
   * for a 95% interval), with NumPy's default linear interpolation. Default none.
   */
  readonly quantiles?: readonly number[]
}

/**
 * What {@link mcPredict} returns.
 * @category Inference
 */
export interface McPrediction {
  /** The mean over the samples, the shape of one prediction. */
  readonly mean: Tensor
  /** The population standard deviation over the samples (ddof 0). */
  readonly std: Tensor
  /** Every sample, `[samples, rows, ...]`, with `returnSamples`. */
  readonly samples?: Tensor
  /** The quantiles asked for, `[quantiles.length, rows, ...]`, in the order asked. */
  readonly quantiles?: Tensor
}

/**
 * Monte Carlo dropout (Gal & Ghahramani, 2016): the mean and standard deviation of
 * `samples` stochastic predictions, with dropout active and batch normalization on its
 * moving statistics.
 *
 * @remarks
 * Each pass runs with `{ training: false, dropout: true, key: kᵢ }`, so dropout layers drop
 * units with a fresh mask while batch-norm layers use their moving statistics (the chapter
 * calls `model(X, training=True)`, which in Keras would also switch batch norm to batch
 * statistics; its MC-dropout model has no batch norm, so the results agree). `std` is the
 * population standard deviation over the samples (NumPy's `std`, ddof 0). With
 * `returnSamples` the samples come back stacked; `quantiles: [q, ...]` gives per-output
 * quantiles over the samples by NumPy's default (linear) rule: for sorted values
 * `v₀ ≤ … ≤ v_{S−1}`, position `h = q·(S − 1)`, `v_⌊h⌋ + (h − ⌊h⌋)(v_⌊h⌋₊₁ − v_⌊h⌋)`.
 * @example
 * ```ts
 * import { dense, dropout, initModel, sequential } from '@purenn/layers'
 * import { key, ones } from '@purenn/tensor'
 * import { mcPredict } from '@purenn/train'
 * const model = initModel(sequential([dropout({ rate: 0.5 }), dense({ units: 2, activation: 'softmax' })], { inputShape: [8] }), { key: key(0) })
 * const { mean, std } = mcPredict(model, ones([3, 8]), { samples: 10, key: key(1) })
 * console.log(mean.shape, std.shape) // [ 3, 2 ] [ 3, 2 ]
 * ```
 * @category Inference
 */
export const mcPredict = (model: Model, x: Tensor, opts: McPredictOptions): McPrediction => {
  const samples = opts.samples ?? 100
  const qs = opts.quantiles ?? []
  const badQ = qs.find((q) => !(typeof q === 'number' && q >= 0 && q <= 1))
  if (badQ !== undefined) throw new Error(`mcPredict: quantiles must be in [0, 1], got ${badQ}`)
  if (!Number.isInteger(samples) || samples <= 0)
    throw new Error(`mcPredict: samples must be a positive integer, got ${samples}`)
  const keys = split(opts.key, samples)
  const batchSize = opts.batchSize ?? 32
  const n = x.shape[0] ?? 0
  if (n === 0) throw new Error('mcPredict: x has no rows')
  const outputs = keys.map((k) => {
    const batchKeys = split(k, Math.max(1, Math.ceil(n / batchSize)))
    const parts: Tensor[] = []
    let b = 0
    forEachBatch(n, batchSize, (start, size) => {
      const opts = { training: false, dropout: true, key: batchKeys[b++]! }
      parts.push(
        scopedPass(() => keptOut(model.layer.apply(model.params, model.state, rows(x, start, size), opts).y)),
      )
    })
    return parts.length === 1 ? parts[0]! : concat(parts, 0)
  })
  // two passes (mean, then squared deviations) rather than E[y²] − E[y]², which cancels badly in float32
  const mean = div(
    outputs.reduce<Tensor>((s, y) => add(s, y), scalar(0)),
    samples,
  )
  const variance = div(
    outputs.reduce<Tensor>((s, y) => add(s, square(sub(y, mean))), scalar(0)),
    samples,
  )
  return {
    mean,
    std: sqrt(variance),
    ...(opts.returnSamples === true ? { samples: stack(outputs, 0) } : {}),
    ...(qs.length > 0 ? { quantiles: quantilesOf(outputs, qs) } : {}),
  }
}

/** Per-element quantiles over equally shaped samples (NumPy's default linear method). */
const quantilesOf = (outputs: readonly Tensor[], qs: readonly number[]): Tensor => {
  const size = outputs[0]!.size
  const s = outputs.length
  const out = new Float32Array(qs.length * size)
  const column = new Float64Array(s)
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < s; j++) column[j] = outputs[j]!.data[i]!
    column.sort()
    qs.forEach((q, qi) => {
      const h = q * (s - 1)
      const lo = Math.floor(h)
      const hi = Math.min(lo + 1, s - 1)
      out[qi * size + i] = column[lo]! + (h - lo) * (column[hi]! - column[lo]!)
    })
  }
  return tensor(out, [qs.length, ...outputs[0]!.shape])
}
