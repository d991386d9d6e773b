import { tree, zeros } from '@purenn/tensor'
import { finite } from './internal/check.js'
import { scaleLeaf } from './internal/leaves.js'
import type { LearningRate } from './schedules.js'
import type { EmptyState, GradientTransformation } from './transform.js'

/**
 * The state of {@link scaleByLearningRate}: the number of updates done so far (the step a
 * schedule is evaluated at, as Keras' `optimizer.iterations`).
 * @category Scaling
 */
export interface ScaleByLearningRateState {
  /** Number of completed updates; the next update uses the rate at this step. */
  readonly count: number
}

/**
 * Options of {@link scaleByLearningRate}.
 * @category Scaling
 */
export interface ScaleByLearningRateOptions {
  /** Multiply by `−lr` (a descent step) rather than `lr`. Default true, as Optax. */
  readonly flipSign?: boolean
}

/**
 * Multiplies every update by a constant `factor` (Optax's `scale`).
 *
 * @remarks $u \leftarrow \mathrm{factor} \cdot u$. Stateless.
 * @param factor - the multiplier
 * @returns the transformation
 * @example
 * ```ts
 * import { scale } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const g = { w: tensor([1, -2]) }
 * console.log(scale(3).update(g, {}, g).updates.w.toString()) // tensor([3, -6])
 * ```
 * @category Scaling
 */
export const scale = (factor: number): GradientTransformation<EmptyState> => {
  finite('scale', 'factor', factor)
  return {
    init: () => ({}),
    update: (grads, state) => ({ updates: tree.map(grads, (u) => scaleLeaf(u, factor)), state }),
  }
}

/**
 * The learning-rate step: multiplies the updates by `−lr` (Optax's `scale_by_learning_rate`).
 *
 * @remarks
 * $u \leftarrow -\mathrm{lr}(t) \cdot u$ where $t$ is the number of updates done before this one (0 at the first),
 * so a {@link Schedule} is evaluated exactly where Keras evaluates it
 * (`learning_rate(optimizer.iterations)` before the increment). The state is `{ count }` for
 * a constant rate too, so every optimizer's state has the same shape whatever the rate.
 *
 * Where it sits in a chain matters when a schedule changes the rate and a later
 * transformation accumulates (momentum): the purenn aliases put it *before*
 * {@link traceMomentum}, which is Keras' $v \leftarrow \mu v - \mathrm{lr}\, g$ exactly, schedules included.
 *
 * @param learningRate - a constant or a schedule of the step
 * @param options - `{ flipSign: false }` to multiply by `+lr`
 * @returns the transformation
 * @example
 * ```ts
 * import { exponentialDecay, scaleByLearningRate } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = scaleByLearningRate(exponentialDecay({ initialLearningRate: 0.5, decaySteps: 1, decayRate: 0.5 }))
 * const g = { w: tensor([1]) }
 * const s1 = tx.update(g, tx.init(g), g)
 * const s2 = tx.update(g, s1.state, g)
 * console.log(s1.updates.w.toString(), s2.updates.w.toString(), s2.state.count) // tensor([-0.5]) tensor([-0.25]) 2
 * ```
 * @category Scaling
 */
export const scaleByLearningRate = (
  learningRate: LearningRate,
  options: ScaleByLearningRateOptions = {},
): GradientTransformation<ScaleByLearningRateState> => {
  const schedule = typeof learningRate === 'number' ? () => learningRate : learningRate
  if (typeof learningRate === 'number') finite('scaleByLearningRate', 'learningRate', learningRate)
  const sign = (options.flipSign ?? true) ? -1 : 1
  return {
    init: () => ({ count: 0 }),
    update: (grads, state) => {
      const factor = sign * schedule(state.count)
      return { updates: tree.map(grads, (u) => scaleLeaf(u, factor)), state: { count: state.count + 1 } }
    },
  }
}

/**
 * Replaces every update by zeros (Optax's `set_to_zero`): the building block of
 * {@link freeze}.
 *
 * @remarks `u ← 0`. Stateless. {@link applyUpdates} returns a weight unchanged bit for bit
 * where its update is zero.
 * @returns the transformation
 * @example
 * ```ts
 * import { setToZero } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const g = { w: tensor([1, -2]) }
 * console.log(setToZero().update(g, {}, g).updates.w.toString()) // tensor([0, 0])
 * ```
 * @category Scaling
 */
export const setToZero = (): GradientTransformation<EmptyState> => ({
  init: () => ({}),
  update: (grads, state) => ({
    updates: tree.map(grads, (u) => zeros(u.shape)),
    state,
  }),
})
