import { type Tensor, type Tree, tree } from '@purenn/tensor'
import { alloc } from '@purenn/tensor/internal'
import { positive } from './internal/check.js'
import { scaleLeaf, wrap } from './internal/leaves.js'
import { chain, type EmptyState, type GradientTransformation } from './transform.js'

/**
 * The clipping options every purenn optimizer takes, as Keras' `clipvalue`, `clipnorm` and
 * `global_clipnorm`.
 * @category Clipping
 */
export interface ClipOptions {
  /** Clip every gradient element to `[−clipValue, clipValue]` ({@link clipByValue}). */
  readonly clipValue?: number
  /** Rescale each gradient tensor to an L2 norm of at most `clipNorm` ({@link clipByNorm}). */
  readonly clipNorm?: number
  /** Rescale all gradients together to a global L2 norm of at most `globalClipNorm` ({@link clipByGlobalNorm}). */
  readonly globalClipNorm?: number
}

/**
 * The state of {@link clipGradients}: the (empty) states of the clips it chains.
 * @category Clipping
 */
export type ClipState = readonly EmptyState[]

/**
 * Clips every update element to `[−maxDelta, maxDelta]` (Keras' `clipvalue`, Optax's `clip`).
 *
 * @remarks
 * $u \leftarrow \min(\max(u, -\mathrm{maxDelta}), \mathrm{maxDelta})$ elementwise. Cheap, but it can change the direction
 * of the gradient: `[0.9, 100]` becomes `[0.9, 1]` with `maxDelta = 1`. See
 * {@link clipByNorm} for the direction-preserving alternative (Pascanu et al. 2013, "On the
 * difficulty of training recurrent neural networks").
 *
 * @param maxDelta - the bound, > 0
 * @returns a stateless transformation
 * @example
 * ```ts
 * import { clipByValue } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const g = { w: tensor([0.9, 100]) }
 * console.log(clipByValue(1).update(g, {}, g).updates.w.toString()) // tensor([0.9, 1])
 * ```
 * @category Clipping
 */
export const clipByValue = (maxDelta: number): GradientTransformation<EmptyState> => {
  positive('clipByValue', 'maxDelta', maxDelta)
  const clipLeaf = (u: Tensor): Tensor => {
    const n = u.size
    const us = u.data
    const out = alloc(n)
    for (let i = 0; i < n; i++) out[i] = Math.min(Math.max(us[i]!, -maxDelta), maxDelta)
    return wrap(out, u.shape)
  }
  return { init: () => ({}), update: (grads, state) => ({ updates: tree.map(grads, clipLeaf), state }) }
}

/**
 * Rescales each update tensor separately so that its L2 norm is at most `maxNorm` (Keras'
 * `clipnorm`, TensorFlow's `clip_by_norm`).
 *
 * @remarks
 * For every tensor `u` (the norm taken over the whole tensor, accumulated in float64):
 * $u \leftarrow u \cdot \mathrm{maxNorm} / \lVert u \rVert_2$ when $\lVert u \rVert_2 > \mathrm{maxNorm}$; otherwise `u` is returned as it is. The
 * direction of each tensor is kept (Pascanu et al. 2013), but since each tensor is scaled by
 * its own factor the direction of the whole gradient may change: use
 * {@link clipByGlobalNorm} to keep it.
 *
 * @param maxNorm - the largest norm allowed per tensor, > 0
 * @returns a stateless transformation
 * @example
 * ```ts
 * import { clipByNorm } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const g = { w: tensor([0.9, 100]) }
 * const w = clipByNorm(1).update(g, {}, g).updates.w
 * console.log(Array.from(w.data, (x) => x.toFixed(7))) // [ '0.0089996', '0.9999595' ]
 * ```
 * @category Clipping
 */
export const clipByNorm = (maxNorm: number): GradientTransformation<EmptyState> => {
  positive('clipByNorm', 'maxNorm', maxNorm)
  const clipLeaf = (u: Tensor): Tensor => {
    const norm = Math.sqrt(sumOfSquares(u))
    return norm > maxNorm ? scaleLeaf(u, maxNorm / norm) : u
  }
  return { init: () => ({}), update: (grads, state) => ({ updates: tree.map(grads, clipLeaf), state }) }
}

/**
 * Rescales all updates together so that their global L2 norm is at most `maxNorm` (Keras'
 * `global_clipnorm`, Optax's `clip_by_global_norm`).
 *
 * @remarks
 * With $n = \sqrt{\sum_\text{leaves} \lVert u \rVert_2^2}$ ({@link globalNorm}): every leaf
 * $u \leftarrow u \cdot \mathrm{maxNorm} / n$ when $n > \mathrm{maxNorm}$, otherwise the updates are returned as they are. All tensors get the same
 * factor, so the direction of the whole gradient is kept (Pascanu et al. 2013).
 *
 * @param maxNorm - the largest global norm allowed, > 0
 * @returns a stateless transformation
 * @example
 * ```ts
 * import { clipByGlobalNorm, globalNorm } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const g = { a: tensor([3]), b: tensor([4]) }
 * const { updates } = clipByGlobalNorm(1).update(g, {}, g)
 * console.log(globalNorm(g), updates.a.toString(), updates.b.toString()) // 5 tensor([0.6]) tensor([0.8])
 * ```
 * @category Clipping
 */
export const clipByGlobalNorm = (maxNorm: number): GradientTransformation<EmptyState> => {
  positive('clipByGlobalNorm', 'maxNorm', maxNorm)
  return {
    init: () => ({}),
    update: (grads, state) => {
      const norm = globalNorm(grads)
      if (!(norm > maxNorm)) return { updates: grads, state }
      const c = maxNorm / norm
      return { updates: tree.map(grads, (u) => scaleLeaf(u, c)), state }
    },
  }
}

/**
 * The clipping Keras' optimizer options ask for, as one transformation: `clipValue`, then
 * `clipNorm` or `globalClipNorm`. Every purenn optimizer starts with it.
 *
 * @remarks
 * The order is tf.keras 2.x's (`OptimizerV2._transform_gradients` from TF 2.4 on): clip by
 * value first, then by norm, then by global norm. Keras 3 refuses to combine these options;
 * tf.keras 2.x accepted `clipvalue` with either norm, which is what the chapter's
 * `RMSprop(clipnorm=1, clipvalue=1)` relies on, so purenn accepts it too. After value
 * clipping every element is within `[−clipValue, clipValue]`, and norm clipping only shrinks
 * elements, so the result satisfies both bounds. `clipNorm` together with `globalClipNorm`
 * is refused (as tf.keras 2.x did). With no option it is an empty chain (the identity).
 *
 * @param options - `clipValue`, `clipNorm`, `globalClipNorm`
 * @returns `chain(clipByValue?, clipByNorm? | clipByGlobalNorm?)`
 * @throws Error when both `clipNorm` and `globalClipNorm` are given.
 * @example
 * ```ts
 * import { clipGradients } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = clipGradients({ clipValue: 1, clipNorm: 1 })
 * const g = { w: tensor([3, 4]) }
 * // clipped by value to [1, 1], then by norm to [0.7071, 0.7071]
 * console.log(tx.update(g, tx.init(g), g).updates.w.toString()) // tensor([0.707107, 0.707107])
 * ```
 * @category Clipping
 */
export const clipGradients = (options: ClipOptions = {}): GradientTransformation<ClipState> => {
  const { clipValue, clipNorm, globalClipNorm } = options
  if (clipNorm !== undefined && globalClipNorm !== undefined)
    throw new Error(
      `clipping: clipNorm (${clipNorm}) and globalClipNorm (${globalClipNorm}) cannot be used together: ` +
        'clipNorm rescales each tensor, globalClipNorm all of them at once; pick one',
    )
  const clips: GradientTransformation<EmptyState>[] = []
  if (clipValue !== undefined) clips.push(clipByValue(clipValue))
  if (clipNorm !== undefined) clips.push(clipByNorm(clipNorm))
  if (globalClipNorm !== undefined) clips.push(clipByGlobalNorm(globalClipNorm))
  return chain(...clips)
}

/**
 * The global L2 norm of a tree: $\sqrt{\sum_\text{leaves} \sum_i u_i^2}$, accumulated in float64 (Optax's
 * `global_norm`).
 *
 * @param t - a tree of tensors
 * @returns the norm, a number
 * @example
 * ```ts
 * import { globalNorm } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * console.log(globalNorm({ a: tensor([3]), b: [tensor([4])] })) // 5
 * ```
 * @category Clipping
 */
export const globalNorm = (t: Tree): number => {
  let s = 0
  for (const leaf of tree.leaves(t)) s += sumOfSquares(leaf)
  return Math.sqrt(s)
}

const sumOfSquares = (u: Tensor): number => {
  const us = u.data
  let s = 0
  for (let i = 0; i < u.size; i++) s += us[i]! * us[i]!
  return s
}
