import { type AnyLayer, getLoss, type Loss, type LossName, type Model } from '@purenn/layers'
import { key, type Tensor, type Tree, tree, valueAndGrad } from '@purenn/tensor'
import type { Callback, Verdict } from './callbacks.js'
import type { History } from './fit.js'
import type { Batch } from './step.js'

/**
 * A histogram of values: `counts[i]` values fell in `[edges[i], edges[i + 1])` (the last bin
 * includes its right edge).
 * @category Diagnostics
 */
export interface Histogram {
  /** `bins + 1` increasing bin edges, from the minimum to the maximum value. */
  readonly edges: readonly number[]
  /** How many values fell in each bin. */
  readonly counts: readonly number[]
}

/**
 * What {@link diagnose} measures for one layer of a sequential model on the probe batch.
 * @category Diagnostics
 */
export interface LayerDiagnostics {
  /** The layer's name in the model (`dense_3`). */
  readonly name: string
  /** Its kind (`Dense`, `BatchNormalization`, ...). */
  readonly kind: string
  /** Its activation's name when it has one (`sigmoid`, `relu`, ...). */
  readonly activation?: string
  /**
   * The L2 norm of the gradient of the loss with respect to all the layer's params,
   * `√(Σ g²)`; absent for layers without params.
   */
  readonly gradientNorm?: number
  /** The mean of the layer's outputs over the probe batch (all units). */
  readonly mean: number
  /** Their standard deviation (population: divided by the number of values). */
  readonly std: number
  /**
   * For `sigmoid` and `tanh` layers: the fraction of outputs within `saturation` of an
   * asymptote (`y < s` or `y > 1 − s` for sigmoid, `|y| > 1 − s` for tanh).
   */
  readonly saturated?: number
  /** For `relu` layers: the fraction of units that output 0 for every probe example. */
  readonly dead?: number
  /** The layer's outputs as a histogram. */
  readonly histogram: Histogram
}

/**
 * Options of {@link diagnose} and {@link recordDiagnostics}.
 * @category Diagnostics
 */
export interface DiagnoseOptions {
  /** The loss whose gradients are measured, by name or value. */
  readonly loss: Loss | LossName
  /** Distance to an asymptote that counts as saturated. Default 0.01. */
  readonly saturation?: number
  /** Number of histogram bins. Default 20. */
  readonly bins?: number
  /**
   * Run the layers in training mode (batch statistics for batch norm, as during `fit`; no
   * dropout). Default true.
   */
  readonly training?: boolean
}

/**
 * The state of {@link recordDiagnostics}: one list of layer diagnostics per epoch.
 * @category Diagnostics
 */
export interface DiagnosticsState {
  /** Tag that tells this state apart in `history.callbackStates`. */
  readonly kind: 'diagnostics'
  /** The epochs recorded, counting from 0. */
  readonly epoch: readonly number[]
  /** `layers[i]` is the diagnostics at the end of epoch `epoch[i]`. */
  readonly layers: readonly (readonly LayerDiagnostics[])[]
}

// ---------------------------------------------------------------------------------------
// Helpers

const activationName = (layer: AnyLayer): string | undefined => {
  const a = (layer.config as { activation?: unknown }).activation
  if (typeof a === 'string') return a
  if (typeof a === 'object' && a !== null && typeof (a as { name?: unknown }).name === 'string')
    return (a as { name: string }).name
  return undefined
}

const histogramOf = (d: ArrayLike<number>, bins: number): Histogram => {
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  for (let i = 0; i < d.length; i++) {
    lo = Math.min(lo, d[i]!)
    hi = Math.max(hi, d[i]!)
  }
  if (d.length === 0) return { edges: [], counts: [] }
  const width = hi > lo ? (hi - lo) / bins : 1
  const counts = new Array<number>(bins).fill(0)
  for (let i = 0; i < d.length; i++) {
    const b = Math.min(bins - 1, Math.floor((d[i]! - lo) / width))
    counts[b] = counts[b]! + 1
  }
  return { edges: Array.from({ length: bins + 1 }, (_, i) => lo + i * width), counts }
}

const statsOf = (
  name: string,
  layer: AnyLayer,
  y: Tensor,
  s: number,
  bins: number,
): Omit<LayerDiagnostics, 'gradientNorm'> => {
  const d = y.data
  const n = d.length
  let sum = 0
  for (let i = 0; i < n; i++) sum += d[i]!
  const mean = n === 0 ? 0 : sum / n
  let sq = 0
  for (let i = 0; i < n; i++) sq += (d[i]! - mean) ** 2
  const std = n === 0 ? 0 : Math.sqrt(sq / n)
  const act = activationName(layer)
  const base = { name, kind: layer.kind, mean, std, histogram: histogramOf(d, bins) }
  if (act === 'sigmoid' || act === 'tanh') {
    let k = 0
    for (let i = 0; i < n; i++) {
      const v = d[i]!
      if (act === 'sigmoid' ? v < s || v > 1 - s : Math.abs(v) > 1 - s) k++
    }
    return { ...base, activation: act, saturated: n === 0 ? 0 : k / n }
  }
  if (act === 'relu') {
    const units = y.shape.at(-1) ?? 1
    const rows = units === 0 ? 0 : n / units
    let deadUnits = 0
    for (let u = 0; u < units; u++) {
      let alive = false
      for (let r = 0; r < rows && !alive; r++) if (d[r * units + u] !== 0) alive = true
      if (!alive) deadUnits++
    }
    return { ...base, activation: act, dead: units === 0 ? 0 : deadUnits / units }
  }
  return act === undefined ? base : { ...base, activation: act }
}

// ---------------------------------------------------------------------------------------
// Functions

/**
 * Measures, on a probe batch, each layer's gradient norm and the statistics of its outputs:
 * what shows vanishing and exploding gradients and saturated or dead units.
 *
 * @remarks
 * The model runs layer by layer on `probe.x` (the children of a sequential; any other model
 * counts as one layer named `model`), in training mode by default (batch statistics, dropout
 * off), and the loss of its output against `probe.y` is differentiated once. For each layer:
 * the gradient norm `‖∂L/∂θ‖₂ = √(Σ g²)` over all its params (Glorot & Bengio 2010 plot its
 * decay towards the first layers of a deep sigmoid net), the mean and standard deviation of
 * its outputs, for sigmoid/tanh the fraction of outputs within `saturation` of an asymptote,
 * for ReLU the fraction of units that output 0 on every probe example ("dead"), and a
 * histogram of the outputs.
 *
 * @param model - the model to inspect (not changed)
 * @param probe - a fixed batch: the same one every epoch makes the numbers comparable
 * @param opts - the loss and the thresholds
 * @returns one entry per layer, input side first
 * @example
 * ```ts
 * import { dense, initModel, sequential } from '@purenn/layers'
 * import { key, tensor } from '@purenn/tensor'
 * import { diagnose } from '@purenn/train'
 * const model = initModel(sequential([dense({ units: 4, activation: 'relu' }), dense({ units: 2, activation: 'softmax' })], { inputShape: [3] }), { key: key(0) })
 * const probe = { x: tensor([[1, 2, 3], [-1, 0, 1]]), y: tensor([0, 1]) }
 * const d = diagnose(model, probe, { loss: 'sparseCategoricalCrossentropy' })
 * console.log(d.map((l) => l.name), d[0]!.gradientNorm! > 0) // [ 'dense', 'dense_1' ] true
 * ```
 * @category Diagnostics
 */
export const diagnose = (model: Model, probe: Batch, opts: DiagnoseOptions): LayerDiagnostics[] => {
  const loss = getLoss(opts.loss)
  const s = opts.saturation ?? 0.01
  const bins = opts.bins ?? 20
  if (!(s >= 0 && s < 0.5)) throw new Error(`diagnose: saturation must be in [0, 0.5), got ${s}`)
  if (!(Number.isInteger(bins) && bins >= 1))
    throw new Error(`diagnose: bins must be a positive integer, got ${bins}`)
  if (probe.x.shape[0] !== probe.y.shape[0])
    throw new Error(`diagnose: probe.x has ${probe.x.shape[0]} rows but probe.y has ${probe.y.shape[0]}`)
  const training = opts.training ?? true
  const top = model.layer as AnyLayer & { layers?: readonly AnyLayer[]; names?: readonly string[] }
  const children =
    model.layer.kind === 'Sequential' && Array.isArray(top.layers) && Array.isArray(top.names)
      ? top.layers.map((l, i) => ({ name: top.names![i]!, layer: l }))
      : [{ name: 'model', layer: model.layer as AnyLayer }]
  const single = children.length === 1 && children[0]!.name === 'model'
  const paramsOf = (p: Tree, n: string): Tree => (single ? p : (p as Record<string, Tree>)[n]!)
  const stateOf = (n: string): Tree => (single ? model.state : (model.state as Record<string, Tree>)[n]!)
  const outputs: Tensor[] = []
  const { grad } = valueAndGrad((params: Tree) => {
    let y = probe.x
    for (const c of children) {
      y = c.layer.apply(paramsOf(params, c.name), stateOf(c.name), y, {
        training,
        dropout: false,
        key: key(0),
      }).y
      outputs.push(y)
    }
    return loss.fn(probe.y, y)
  })(model.params as Tree)
  return children.map((c, i) => {
    const leaves = tree.leaves(paramsOf(grad, c.name))
    let sq = 0
    for (const g of leaves) for (let j = 0; j < g.data.length; j++) sq += g.data[j]! ** 2
    const stats = statsOf(c.name, c.layer, outputs[i]!, s, bins)
    return leaves.length === 0 ? stats : { ...stats, gradientNorm: Math.sqrt(sq) }
  })
}

/**
 * A callback that records {@link diagnose} on a fixed probe batch at the end of every epoch.
 *
 * @remarks The records are plain data (numbers and arrays), kept in the callback's state:
 * `fit` returns it in `history.callbackStates` and checkpoints carry it;
 * {@link diagnosticsOf} finds it there. Plot it with {@link gradientNormsSvg} and
 * {@link activationHistogramsSvg}.
 * @param probe - the batch measured every epoch (a few hundred rows are plenty)
 * @param opts - the loss and the thresholds of {@link diagnose}
 * @returns the callback
 * @example
 * ```ts
 * import { dense, initModel, sequential } from '@purenn/layers'
 * import { key, tensor } from '@purenn/tensor'
 * import { diagnosticsOf, fit, recordDiagnostics } from '@purenn/train'
 * const model = initModel(sequential([dense({ units: 4, activation: 'tanh' }), dense({ units: 2, activation: 'softmax' })], { inputShape: [2] }), { key: key(0) })
 * const x = tensor([[0, 1], [1, 0], [1, 1], [0, 0]])
 * const y = tensor([0, 1, 0, 1])
 * const { history } = await fit(model, x, y, { loss: 'sparseCategoricalCrossentropy', optimizer: 'sgd', epochs: 3, verbose: 0, callbacks: [recordDiagnostics({ x, y }, { loss: 'sparseCategoricalCrossentropy' })] })
 * const d = diagnosticsOf(history)!
 * console.log(d.epoch, d.layers[2]!.map((l) => l.name)) // [ 0, 1, 2 ] [ 'dense', 'dense_1' ]
 * ```
 * @category Diagnostics
 */
export const recordDiagnostics = (probe: Batch, opts: DiagnoseOptions): Callback<DiagnosticsState> => ({
  name: 'recordDiagnostics',
  reportState: true,
  init: () => ({ kind: 'diagnostics', epoch: [], layers: [] }),
  onEpochEnd: (state, e): Verdict<DiagnosticsState> => ({
    state: {
      kind: 'diagnostics',
      epoch: [...state.epoch, e.epoch],
      layers: [...state.layers, diagnose(e.model, probe, opts)],
    },
  }),
})

/**
 * The records of the {@link recordDiagnostics} callback of a run, from the history
 * `fit` returned; `undefined` when the run had none.
 *
 * @param history - what `fit` returned (its `callbackStates`)
 * @returns the diagnostics state
 * @example
 * ```ts
 * import { diagnosticsOf } from '@purenn/train'
 * console.log(diagnosticsOf({ history: {}, epoch: [] })) // undefined
 * ```
 * @category Diagnostics
 */
export const diagnosticsOf = (history: History): DiagnosticsState | undefined => {
  const s = history.callbackStates?.recordDiagnostics
  return typeof s === 'object' && s !== null && (s as { kind?: unknown }).kind === 'diagnostics'
    ? (s as DiagnosticsState)
    : undefined
}
