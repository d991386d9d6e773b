import {
  type AnyLayer,
  type CustomLayers,
  decodeModel,
  encodeModel,
  fromConfig,
  initModel,
  type Shape,
  toSpec,
} from '@purenn/layers'
import { key, type Tensor, type Tree, tree } from '@purenn/tensor'
import fc from 'fast-check'
import { type Float32Constraints, tensorArb } from './arbitraries.js'
import { checkGrads } from './checkGrads.js'
import { changedSince, signature, snapshot, treeDifference } from './internal/trees.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * Options of {@link checkLayer}.
 * @category Layers
 */
export interface CheckLayerOptions {
  /** The input shape without the batch axis, as passed to `init` (Keras' `input_shape`). */
  readonly inputShape: Shape
  /** Batch size of the random inputs. Default 3. */
  readonly batchSize?: number
  /** Runs of each property. Default 10. */
  readonly numRuns?: number
  /** The fast-check seed. Default 0: every run of the check is the same. */
  readonly seed?: number
  /** The input values. Default multiples of 2⁻¹² in [−3, 3]. */
  readonly values?: Float32Constraints
  /** Rebuilders of user-defined kinds, for the config and save/load round trips. */
  readonly customLayers?: CustomLayers
  /** Tolerances of the gradient check (see {@link checkGrads}). Defaults 1e-2. */
  readonly rtol?: number
  /** Absolute tolerance of the gradient check. */
  readonly atol?: number
  /** Whether to check gradients with respect to the inputs and the params. Default true. */
  readonly gradients?: boolean
  /** Whether to check the save/load round trip (in memory: encodeModel, decodeModel). Default true. */
  readonly saveLoad?: boolean
  /**
   * Whether inference (`training: false`) is deterministic whatever the key. Default true;
   * false for Monte Carlo dropout, which draws a mask on every call.
   */
  readonly deterministicInference?: boolean
}

/**
 * What {@link checkLayer} checked.
 * @category Layers
 */
export interface LayerReport {
  /** The names of the properties that held. */
  readonly checked: readonly string[]
  /** Derivatives compared by the gradient checks, over all runs. */
  readonly derivatives: number
  /** Of those, how many lay near a kink (see {@link checkGrads}). */
  readonly kinks: number
}

// ---------------------------------------------------------------------------------------
// Helpers

const fail = (layer: AnyLayer, what: string): never => {
  throw new Error(`checkLayer(${layer.kind}): ${what}`)
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i])

/** Batch-norm-like: moving statistics in the state and a momentum and epsilon in the config. */
const batchNormLike = (layer: AnyLayer, state: Tree): boolean => {
  const s = state as { movingMean?: unknown; movingVariance?: unknown }
  return (
    typeof state === 'object' &&
    !Array.isArray(state) &&
    s.movingMean !== undefined &&
    s.movingVariance !== undefined &&
    typeof layer.config.momentum === 'number' &&
    typeof layer.config.epsilon === 'number'
  )
}

/**
 * Checks batch statistics and the moving-average update of a batch-norm-like layer against
 * a float64 computation from the formulas (Keras: biased batch variance,
 * `moving ← momentum·moving + (1 − momentum)·batch`).
 */
const checkBatchNorm = (layer: AnyLayer, params: Tree, state: Tree, x: Tensor, y: Tensor, next: Tree) => {
  const rank = x.shape.length
  const axisCfg = layer.config.axis ?? -1
  const axes = (Array.isArray(axisCfg) ? axisCfg : [axisCfg]) as number[]
  const kept = axes.map((a) => (a < 0 ? a + rank : a))
  const momentum = layer.config.momentum as number
  const epsilon = layer.config.epsilon as number
  const keptSize = kept.reduce((p, a) => p * x.shape[a]!, 1)
  const sum = new Float64Array(keptSize)
  const count = new Float64Array(keptSize)
  const pos = new Int32Array(x.size)
  for (let i = 0; i < x.size; i++) {
    let rem = i
    const idx = new Array<number>(rank)
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = rem % x.shape[d]!
      rem = Math.floor(rem / x.shape[d]!)
    }
    let p = 0
    for (const a of kept) p = p * x.shape[a]! + idx[a]!
    pos[i] = p
    sum[p] = sum[p]! + x.data[i]!
    count[p] = count[p]! + 1
  }
  const mean = sum.map((s, p) => s / count[p]!)
  const sq = new Float64Array(keptSize)
  for (let i = 0; i < x.size; i++) sq[pos[i]!] = sq[pos[i]!]! + (x.data[i]! - mean[pos[i]!]!) ** 2
  const variance = sq.map((s, p) => s / count[p]!)
  const s0 = state as { movingMean: Tensor; movingVariance: Tensor }
  const s1 = next as { movingMean: Tensor; movingVariance: Tensor }
  const p0 = params as { gamma?: Tensor; beta?: Tensor }
  const close = (got: number, want: number, tol: number) => Math.abs(got - want) <= tol * (1 + Math.abs(want))
  for (let p = 0; p < keptSize; p++) {
    const wantMean = momentum * s0.movingMean.data[p]! + (1 - momentum) * mean[p]!
    const wantVar = momentum * s0.movingVariance.data[p]! + (1 - momentum) * variance[p]!
    if (!close(s1.movingMean.data[p]!, wantMean, 1e-5))
      fail(layer, `movingMean[${p}] after a training step is ${s1.movingMean.data[p]}, expected ${wantMean}`)
    if (!close(s1.movingVariance.data[p]!, wantVar, 1e-5))
      fail(
        layer,
        `movingVariance[${p}] after a training step is ${s1.movingVariance.data[p]}, expected ${wantVar} (biased batch variance)`,
      )
  }
  for (let i = 0; i < x.size; i++) {
    const p = pos[i]!
    const g = p0.gamma?.data[p] ?? 1
    const b = p0.beta?.data[p] ?? 0
    const want = (g * (x.data[i]! - mean[p]!)) / Math.sqrt(variance[p]! + epsilon) + b
    if (!close(y.data[i]!, want, 1e-4))
      fail(layer, `training output element ${i} is ${y.data[i]}, expected ${want} from the batch statistics`)
  }
}

// ---------------------------------------------------------------------------------------
// The check

/**
 * Checks the contract of a layer (an `init`/`apply` pair) with fast-check properties: what
 * every layer must satisfy, plus the batch statistics of batch-norm-like layers.
 *
 * @remarks
 * On random keys and random float32 batches of shape `[batchSize, ...inputShape]`:
 * - **init determinism**: the same key gives bitwise the same params, state and output shape;
 * - **output shape**: `apply` returns `[batchSize, ...outputShape]`, in training and inference;
 * - **purity**: `apply` writes into none of its inputs, and the same call twice (same key)
 *   gives bitwise the same output and state;
 * - **inference**: with `training: false` the output does not depend on the key and the state
 *   comes back unchanged (unless `deterministicInference: false`);
 * - **state threading**: the state from a training step has the structure and shapes of the
 *   initial one, step after step;
 * - **gradients** w.r.t. the input and every param, in training and inference (with a fixed
 *   key), by {@link checkGrads} (float32 central differences, kinks detected);
 * - **batch statistics** (when the state holds `movingMean`/`movingVariance` and the config a
 *   `momentum` and `epsilon`): the training output is `γ·(x − mean)/√(var + ε) + β` with the
 *   biased batch variance over the axes not kept, and the moving averages move by
 *   `m·old + (1 − m)·batch`, both against float64 computations;
 * - **config round trip**: `fromConfig(JSON of toSpec(layer))` rebuilds a layer of the same
 *   kind and config whose init and apply are bitwise the same;
 * - **save/load round trip** (once, in memory, so it runs in browsers too):
 *   `decodeModel(encodeModel(model))`, the format and checks of `saveModel`/`loadModel`,
 *   gives bitwise the same params, state and outputs.
 *
 * Throws the first failure, with fast-check's counterexample (seed, shrunk inputs) and what
 * was wrong. Asynchronous (a promise): `await` it in vitest, jest or `node:test`.
 *
 * @param layer - the layer under test
 * @param options - the input shape (without batch axis), batch size, runs, seed, custom kinds
 * @returns the list of properties that held and how many derivatives were compared
 * @throws Error naming the layer kind, the property and the element that broke it
 * @example
 * ```ts
 * import { dense } from '@purenn/layers'
 * import { checkLayer } from '@purenn/testing'
 * const report = await checkLayer(dense({ units: 2, activation: 'tanh' }), { inputShape: [3], numRuns: 3 })
 * console.log(report.checked.includes('gradients'), report.checked.includes('save/load round trip')) // true true
 * ```
 * @category Layers
 */
export const checkLayer = async (layer: AnyLayer, options: CheckLayerOptions): Promise<LayerReport> => {
  const inputShape = [...options.inputShape]
  const batch = options.batchSize ?? 3
  if (!Number.isSafeInteger(batch) || batch < 1)
    throw new RangeError(`checkLayer: batchSize must be a positive integer, got ${batch}`)
  const run = { seed: options.seed ?? 0, numRuns: options.numRuns ?? 10, includeErrorInReport: true }
  const xArb = tensorArb([batch, ...inputShape], options.values)
  const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 })
  const checked: string[] = []
  let derivatives = 0
  let kinks = 0
  const grads = options.gradients ?? true
  const inferenceFixed = options.deterministicInference ?? true

  // ---- init determinism and output shape
  fc.assert(
    fc.property(seedArb, (s) => {
      const a = layer.init(key(s), inputShape)
      const b = layer.init(key(s), inputShape)
      const d = treeDifference(a.params, b.params) ?? treeDifference(a.state, b.state)
      if (d !== undefined) fail(layer, `init with the same key gave different params or state: ${d}`)
      if (!sameShape(a.outputShape, b.outputShape))
        fail(layer, `init with the same key gave output shapes [${a.outputShape}] and [${b.outputShape}]`)
    }),
    run,
  )
  checked.push('init determinism')

  // ---- apply: shape, purity, inference, state threading, batch statistics
  fc.assert(
    fc.property(seedArb, seedArb, xArb, (s, t, x) => {
      const { params, state, outputShape } = layer.init(key(s), inputShape)
      const want = [batch, ...outputShape]
      const snaps = [snapshot(params), snapshot(state), snapshot(x)]
      for (const training of [false, true]) {
        const o = { training, key: key(t) }
        const r1 = layer.apply(params, state, x, o)
        const r2 = layer.apply(params, state, x, o)
        const mode = training ? 'training' : 'inference'
        if (!sameShape(r1.y.shape, want))
          fail(
            layer,
            `${mode} output has shape [${r1.y.shape}], expected [${want}] ([batch, ...outputShape])`,
          )
        const d = treeDifference(r1.y, r2.y) ?? treeDifference(r1.state, r2.state)
        if (d !== undefined) fail(layer, `${mode}: the same call twice gave different results: ${d}`)
        const changed =
          changedSince(params, snaps[0]!) ?? changedSince(state, snaps[1]!) ?? changedSince(x, snaps[2]!)
        if (changed !== undefined) fail(layer, `${mode}: apply wrote into its inputs (at ${changed})`)
        if (signature(r1.state) !== signature(state))
          fail(layer, `${mode}: apply returned a state ${signature(r1.state)}, init made ${signature(state)}`)
        if (!training && inferenceFixed) {
          const other = layer.apply(params, state, x, { training: false, key: key(t ^ 1) })
          const dk = treeDifference(r1.y, other.y)
          if (dk !== undefined) fail(layer, `inference output depends on the key: ${dk}`)
          const ds = treeDifference(r1.state, state)
          if (ds !== undefined) fail(layer, `inference changed the state: ${ds}`)
        }
        if (training) {
          let st = r1.state
          for (let step = 0; step < 2; step++) {
            st = layer.apply(params, st, x, { training: true, key: key(t + step + 1) }).state
            if (signature(st) !== signature(state))
              fail(
                layer,
                `state after ${step + 2} training steps is ${signature(st)}, init made ${signature(state)}`,
              )
          }
          if (batchNormLike(layer, state)) checkBatchNorm(layer, params, state, x, r1.y, r1.state)
        }
      }
    }),
    run,
  )
  checked.push('output shape', 'purity', 'inference', 'state threading')
  if (batchNormLike(layer, layer.init(key(0), inputShape).state)) checked.push('batch statistics')

  // ---- gradients with respect to the input and the params
  if (grads) {
    fc.assert(
      fc.property(seedArb, seedArb, xArb, (s, t, x) => {
        const { params, state } = layer.init(key(s), inputShape)
        const leaves = tree.leaves(params)
        for (const training of [false, true]) {
          const f = (xi: Tensor, ...ps: Tensor[]) =>
            layer.apply(tree.unflatten(params, ps), state, xi, { training, key: key(t) }).y
          try {
            const r = checkGrads(f, [x, ...leaves], {
              ...(options.rtol === undefined ? {} : { rtol: options.rtol }),
              ...(options.atol === undefined ? {} : { atol: options.atol }),
            })
            derivatives += r.checked
            kinks += r.kinks
          } catch (e) {
            fail(
              layer,
              `gradient in ${training ? 'training' : 'inference'} (args[0] is the input, then the params ${tree
                .flatten(params)
                .map(([p]) => p)
                .join(', ')}): ${(e as Error).message}`,
            )
          }
        }
      }),
      run,
    )
    checked.push('gradients')
  }

  // ---- config round trip
  const spec = JSON.parse(JSON.stringify(toSpec(layer)))
  const rebuilt = fromConfig(spec, options.customLayers ?? {})
  if (rebuilt._tag === 'Left') fail(layer, `fromConfig(toSpec(layer)) failed: ${rebuilt.left}`)
  const again = (rebuilt as { right: AnyLayer }).right
  if (again.kind !== layer.kind || JSON.stringify(again.config) !== JSON.stringify(layer.config))
    fail(
      layer,
      `fromConfig(toSpec(layer)) rebuilt ${again.kind} ${JSON.stringify(again.config)}, expected ${layer.kind} ${JSON.stringify(layer.config)}`,
    )
  fc.assert(
    fc.property(seedArb, seedArb, xArb, (s, t, x) => {
      const rebuiltDoes = <R>(what: string, run: () => R): R => {
        try {
          return run()
        } catch (e) {
          return fail(
            layer,
            `the layer rebuilt from its config (fromConfig(toSpec(layer))) threw in ${what}: ${e}`,
          )
        }
      }
      const a = layer.init(key(s), inputShape)
      const b = rebuiltDoes('init', () => again.init(key(s), inputShape))
      const d = treeDifference(a.params, b.params) ?? treeDifference(a.state, b.state)
      if (d !== undefined) fail(layer, `the layer rebuilt from its config inits differently: ${d}`)
      for (const training of [false, true]) {
        const ya = layer.apply(a.params, a.state, x, { training, key: key(t) }).y
        const yb = rebuiltDoes('apply', () => again.apply(a.params, a.state, x, { training, key: key(t) }).y)
        const dy = treeDifference(ya, yb)
        if (dy !== undefined) fail(layer, `the layer rebuilt from its config computes differently: ${dy}`)
      }
    }),
    { ...run, numRuns: Math.min(run.numRuns, 5) },
  )
  checked.push('config round trip')

  // ---- save/load round trip
  if (options.saveLoad ?? true) {
    const model = initModel(layer, { key: key(run.seed), inputShape })
    const loaded = decodeModel(
      encodeModel(model),
      options.customLayers === undefined ? {} : { customLayers: options.customLayers },
    )
    const d = treeDifference(model.params, loaded.params) ?? treeDifference(model.state, loaded.state)
    if (d !== undefined) fail(layer, `save/load changed the weights: ${d}`)
    if (
      loaded.layer.kind !== layer.kind ||
      JSON.stringify(loaded.layer.config) !== JSON.stringify(layer.config)
    )
      fail(layer, `save/load gave a ${loaded.layer.kind} with config ${JSON.stringify(loaded.layer.config)}`)
    const [x] = fc.sample(xArb, { seed: run.seed, numRuns: 1 })
    const ya = layer.apply(model.params, model.state, x!, { training: false, key: key(1) }).y
    const yb = loaded.layer.apply(loaded.params, loaded.state, x!, { training: false, key: key(1) }).y
    const dy = treeDifference(ya, yb)
    if (dy !== undefined) fail(layer, `the loaded model computes differently: ${dy}`)
    checked.push('save/load round trip')
  }
  return { checked, derivatives, kinks }
}
