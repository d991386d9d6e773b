import { mul, type Tree, tree } from '@purenn/tensor'
import { type Applied, applyUpdates, type GradientTransformation, type StepOptions } from './transform.js'

/**
 * One optimizer step: `tx.update` then {@link applyUpdates}, as one pass over each parameter
 * when the transformation has a fused step ({@link GradientTransformation.applyStep}).
 *
 * @remarks
 * The result is bitwise the same either way: the fused steps do the float32 operations of
 * the chain's passes in the same order, for one element at a time, and only skip the update
 * tensors in between. Without `applyStep`, or with a `learningRateFactor` that is not a
 * finite number, it runs
 *
 * ```text
 * { updates, state } = tx.update(grads, state, params)
 * updates = mul(updates, learningRateFactor)     (when the factor is not 1)
 * params = applyUpdates(params, updates)
 * ```
 *
 * The optimizers `sgd`, `rmsprop`, `adam`, `adamw`, `nadam` (both forms), `adamax` and
 * `adagrad` are fused whatever their options (clipping, schedules, momentum, AMSGrad, ...);
 * so are a {@link chain} ending with one (`chain(clipByValue(1), adam())`) and `masked(tx,
 * mask)` around one, which is how `fit` runs them. A chain with a transformation after the
 * optimizer (`chain(adam(), freeze(mask))`) and hand-built chains fall back to the two
 * steps above.
 *
 * @param tx - the optimizer
 * @param grads - gradients, same structure and shapes as `params`
 * @param state - the state from `tx.init` or from the previous step
 * @param params - the current parameters
 * @param options - `learningRateFactor` (default 1)
 * @returns the new params and state
 * @throws ShapeError when the gradients, params or state do not match.
 * @example
 * ```ts
 * import { adam, applyUpdates, updateAndApply } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = adam({ learningRate: 0.1 })
 * const params = { w: tensor([1, 2]) }
 * const grads = { w: tensor([0.5, -3]) }
 * const fused = updateAndApply(tx, grads, tx.init(params), params)
 * const r = tx.update(grads, tx.init(params), params)
 * const twoPasses = applyUpdates(params, r.updates)
 * console.log(fused.params.w.toString(), twoPasses.w.toString()) // tensor([0.900001, 2.1]) tensor([0.900001, 2.1])
 * ```
 * @category Transformations
 */
export const updateAndApply = <S, P extends Tree>(
  tx: GradientTransformation<S>,
  grads: Tree,
  state: S,
  params: P,
  options: StepOptions = {},
): Applied<S, P> => {
  const factor = options.learningRateFactor ?? 1
  if (tx.applyStep !== undefined && Number.isFinite(factor))
    return tx.applyStep(grads, state, params, options)
  const r = tx.update(grads, state, params)
  const updates = factor === 1 ? r.updates : tree.map(r.updates, (u) => mul(u, factor))
  return { params: applyUpdates(params, updates), state: r.state }
}
