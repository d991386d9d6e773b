import { type Tensor, type TreeOf, tree, zeros } from '@purenn/tensor'
import { leavesLike } from '@purenn/tensor/internal'
import { updateAndApply } from './fused.js'
import { aligned, isZeros } from './internal/leaves.js'
import { prune, selectedPaths } from './internal/mask.js'
import { setToZero } from './scale.js'
import { type EmptyState, type GradientTransformation, identity } from './transform.js'

/**
 * Which leaves a {@link masked} transformation applies to: a tree of booleans with the
 * structure of the params, or a predicate on a leaf's dotted path (as given by
 * `tree.flatten`, e.g. `'dense_1.kernel'`) and the param itself.
 *
 * @remarks
 * A tree mask may stop early: a boolean where the params have a subtree applies to every leaf
 * under it (`{ encoder: false, head: true }`). The selection must stay the same from one step
 * to the next (let it depend on paths and shapes, not on values).
 * @category Masking
 */
export type Mask = TreeOf<boolean> | ((path: string, leaf: Tensor) => boolean)

/**
 * Options of {@link masked}.
 * @category Masking
 */
export interface MaskedOptions {
  /**
   * What the leaves outside the mask get: `'zero'` (default), a zero update, so they do not
   * move; or `'passThrough'`, their incoming update unchanged (Optax's `masked`).
   */
  readonly unmasked?: 'zero' | 'passThrough'
}

/**
 * The state of {@link masked}: the inner transformation's state, over the selected leaves only.
 * @category Masking
 */
export interface MaskedState<S> {
  /** The inner state; its trees hold only the leaves the mask selects. */
  readonly inner: S
}

/**
 * Applies `inner` only to the leaves the mask selects (Optax's `masked`); the others get a
 * zero update by default, so `masked(adam(), trainableMask)` trains only the trainable weights.
 *
 * @remarks
 * The inner transformation sees pruned trees that hold only the selected leaves (same dotted
 * paths), both in `init` and in `update`: its state (Adam's moments, momentum) exists only
 * for them and is not advanced for the others. Unselected leaves get a zero update
 * (`unmasked: 'zero'`, the default) or keep their incoming update (`unmasked: 'passThrough'`,
 * Optax's behaviour, which is what {@link freeze} and masked weight decay use).
 *
 * This is how purenn freezes layers: the trainable mask is data passed to the optimizer, so
 * changing which layers train is a new mask, not a new model (Keras needs
 * `layer.trainable = False` and a new `compile`).
 *
 * @param inner - the transformation to apply to the selected leaves
 * @param mask - a boolean tree (possibly a prefix of the params) or a predicate on paths
 * @param options - `{ unmasked: 'passThrough' }` to pass the other leaves' updates through
 * @returns the masked transformation
 * @example
 * ```ts
 * import { applyUpdates, masked, sgd } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = masked(sgd({ learningRate: 0.1 }), { base: false, head: true })
 * const params = { base: tensor([1, 1]), head: tensor([1, 1]) }
 * const grads = { base: tensor([5, 5]), head: tensor([5, 5]) }
 * const { updates } = tx.update(grads, tx.init(params), params)
 * const next = applyUpdates(params, updates)
 * console.log(next.base.toString(), next.head.toString()) // tensor([1, 1]) tensor([0.5, 0.5])
 * ```
 * @category Masking
 */
export const masked = <S>(
  inner: GradientTransformation<S>,
  mask: Mask,
  options: MaskedOptions = {},
): GradientTransformation<MaskedState<S>> => {
  const passThrough = (options.unmasked ?? 'zero') === 'passThrough'
  const tx: GradientTransformation<MaskedState<S>> = {
    init: (params) => ({ inner: inner.init(prune(params, selectedPaths('masked', params, mask))) }),
    update: (grads, state, params) => {
      const selected = selectedPaths('masked', params, mask)
      const r = inner.update(prune(grads, selected), state.inner, prune(params, selected))
      const done = new Map(tree.flatten(r.updates))
      const updates = tree.map(grads, (g: Tensor, path: string): Tensor => {
        if (!selected.has(path)) return passThrough || isZeros(g) ? g : zeros(g.shape)
        const u = done.get(path)
        if (u === undefined)
          throw new Error(`masked: the inner transformation returned no update for "${path}"`)
        return u
      })
      return { updates, state: { inner: r.state } }
    },
  }
  const innerStep = inner.applyStep
  if (innerStep === undefined) return tx
  // the inner fused step on the selected leaves; the others as `update` then `applyUpdates`
  // would leave them: unchanged (a zero update), or moved by their own gradient (passThrough)
  return {
    ...tx,
    applyStep: (grads, state, params, stepOptions) => {
      const ws = aligned('masked', grads, params, 'params')
      const selected = selectedPaths('masked', params, mask)
      // every leaf selected (a model without frozen layers): the pruned trees would be copies
      // of these, so the inner step gets these, and its params come back in their structure
      const all = selected.size === ws.length
      const r = all
        ? innerStep(grads, state.inner, params, stepOptions)
        : innerStep(prune(grads, selected), state.inner, prune(params, selected), stepOptions)
      const news = all ? leavesLike(params, r.params) : undefined
      if (news !== undefined) return { params: tree.unflatten(params, news), state: { inner: r.state } }
      const done = new Map(tree.flatten(r.params))
      const rest = passThrough ? new Map(tree.flatten(grads)) : undefined
      const next = tree.map(params, (w: Tensor, path: string): Tensor => {
        if (selected.has(path)) {
          const p = done.get(path)
          if (p === undefined) throw new Error(`masked: the inner step returned no param for "${path}"`)
          return p
        }
        if (rest === undefined) return w
        const g = rest.get(path)!
        return updateAndApply(identity(), { w: g }, {}, { w }, stepOptions).params.w
      })
      return { params: next, state: { inner: r.state } }
    },
  }
}

/**
 * Freezes the leaves the mask selects: their updates become zero, the others pass through
 * (Optax's `freeze`, one line on top of {@link masked}).
 *
 * @remarks
 * `freeze(mask) = masked(setToZero(), mask, { unmasked: 'passThrough' })`, placed at the end
 * of a chain: `chain(adam(), freeze({ base: true, head: false }))`. Note that the optimizer
 * before it still keeps (and advances) state for the frozen leaves; to keep no state for
 * them, mask the optimizer instead: `masked(adam(), { base: false, head: true })`.
 * Frozen weights are bitwise unchanged by {@link applyUpdates}.
 *
 * @param mask - `true` for the leaves to freeze
 * @returns the transformation
 * @example
 * ```ts
 * import { applyUpdates, chain, freeze, sgd } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = chain(sgd({ learningRate: 0.1 }), freeze((path) => path.startsWith('base')))
 * const params = { base: tensor([1]), head: tensor([1]) }
 * const grads = { base: tensor([5]), head: tensor([5]) }
 * const { updates } = tx.update(grads, tx.init(params), params)
 * const next = applyUpdates(params, updates)
 * console.log(next.base.toString(), next.head.toString()) // tensor([1]) tensor([0.5])
 * ```
 * @category Masking
 */
export const freeze = (mask: Mask): GradientTransformation<MaskedState<EmptyState>> =>
  masked(setToZero(), mask, { unmasked: 'passThrough' })
