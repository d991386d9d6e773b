import { ShapeError } from './errors.js'
import { mapLeaves } from './internal/leaf-order.js'
import { fmt } from './internal/shape.js'
import { backward, keepLive, newTrace, releaseUnreturned, traceLeaf } from './internal/tape.js'
import { fromBuffer, full, isTensor, type Tensor } from './tensor.js'
import { leaves, type Tree } from './tree.js'

/**
 * Options of {@link valueAndGrad} and {@link grad}.
 * @category Autodiff
 */
export interface GradOptions<HasAux extends boolean> {
  /** When true, `f` returns `[loss, aux]` and `aux` is passed through (JAX's `has_aux`). */
  readonly hasAux: HasAux
  /**
   * Let the VJPs of fused dense layers write the gradients of `params`' leaves into owned
   * buffers of the kernels' memory, which the caller frees once it has used them (the
   * trainer of `@purenn/train` does, after the optimizer's step). Default false.
   * @internal
   */
  readonly ownedGradients?: boolean
}

/**
 * What a function returns when its gradient is taken with {@link valueAndGrad}.
 * @category Autodiff
 */
export type Objective<A, HasAux extends boolean> = HasAux extends true ? readonly [Tensor, A] : Tensor

/**
 * What {@link valueAndGrad} returns: the value of `f`, its gradient with respect to the first
 * argument (same structure), and `aux` when `hasAux` was set.
 * @category Autodiff
 */
export type ValueAndGrad<P extends Tree, A, HasAux extends boolean> = HasAux extends true
  ? { readonly value: Tensor; readonly grad: P; readonly aux: A }
  : { readonly value: Tensor; readonly grad: P }

const detachAny = (x: unknown): unknown => {
  if (x !== null && typeof x === 'object') {
    if (isTensor(x)) return keepLive(x)
    if (Array.isArray(x)) return x.map(detachAny)
    if (Object.getPrototypeOf(x) === Object.prototype) {
      const out: Record<string, unknown> = {}
      for (const k of Object.keys(x)) out[k] = detachAny((x as Record<string, unknown>)[k])
      return out
    }
  }
  return x
}

/**
 * Transforms `f(params, ...rest) -> scalar` into a function returning the value and the
 * gradient with respect to `params`, a tree of tensors (reverse mode).
 *
 * @remarks
 * While `f` runs, every op whose input depends on `params` records a tape node (its parents
 * and one VJP per parent) on the tensor it returns. Afterwards the nodes reachable from the
 * output are visited in reverse order of creation: each VJP maps the output cotangent to
 * its input's, and the tape sums broadcast cotangents back to the input shape and adds the
 * contributions of every use. Values that do not depend on `params` (the batch, frozen
 * weights passed in `rest`) record nothing and cost nothing. Leaves that do not influence
 * the output get zero gradients. Only first-order derivatives are supported.
 *
 * @param f - the objective; must return a one-element tensor (or `[loss, aux]` when called
 *   with the second argument `{ hasAux: true }`, which passes `aux` through)
 * @returns `(params, ...rest) => { value, grad, aux? }`
 * @example
 * ```ts
 * import { valueAndGrad, sum, square, tensor } from '@purenn/tensor'
 * const f = (p: { w: ReturnType<typeof tensor> }) => sum(square(p.w))
 * const { value, grad } = valueAndGrad(f)({ w: tensor([1, 2, 3]) })
 * console.log(value.item(), grad.w.toString()) // 14 tensor([2, 4, 6])
 * ```
 * @category Autodiff
 */
export function valueAndGrad<P extends Tree, R extends unknown[]>(
  f: (params: P, ...rest: R) => Tensor,
): (params: P, ...rest: R) => ValueAndGrad<P, never, false>
export function valueAndGrad<P extends Tree, R extends unknown[], A>(
  f: (params: P, ...rest: R) => readonly [Tensor, A],
  options: GradOptions<true>,
): (params: P, ...rest: R) => ValueAndGrad<P, A, true>
export function valueAndGrad<P extends Tree, R extends unknown[], A>(
  f: (params: P, ...rest: R) => Tensor | readonly [Tensor, A],
  options?: GradOptions<boolean>,
): (params: P, ...rest: R) => { value: Tensor; grad: P; aux?: A } {
  return (params, ...rest) => {
    const trace = newTrace(options?.ownedGradients === true)
    const traced = mapLeaves(params, (leaf) => traceLeaf(trace, leaf)) as P
    let result: Tensor | readonly [Tensor, A]
    try {
      result = f(traced, ...rest)
    } finally {
      trace.active = false
    }
    const out = options?.hasAux === true ? (result as readonly [Tensor, A])[0] : (result as Tensor)
    if (out.size !== 1)
      throw new ShapeError(
        `valueAndGrad: the function must return a single value, got shape ${fmt(out.shape)}`,
      )
    const grads = backward(trace, out, full(out.shape, 1))
    const grad = mapLeaves(traced, (leaf) => {
      const g = grads.get(leaf)
      return g === undefined ? full(leaf.shape, 0) : keepLive(g)
    }) as P
    // owned gradient buffers that were summed into another (a leaf used twice) are dead now
    releaseUnreturned(trace, leaves(grad))
    const value = keepLive(out)
    return options?.hasAux === true
      ? { value, grad, aux: detachAny((result as readonly [Tensor, A])[1]) as A }
      : { value, grad }
  }
}

/**
 * The gradient of a scalar function with respect to its first argument, a tree of tensors:
 * `grad(f)(params, ...rest)` is `valueAndGrad(f)(params, ...rest).grad`.
 *
 * @example
 * ```ts
 * import { grad, mul, sum, tensor } from '@purenn/tensor'
 * const g = grad((x: ReturnType<typeof tensor>) => sum(mul(x, x)))(tensor([3]))
 * console.log(g.toString()) // tensor([6])
 * ```
 * @category Autodiff
 */
export const grad =
  <P extends Tree, R extends unknown[]>(f: (params: P, ...rest: R) => Tensor) =>
  (params: P, ...rest: R): P =>
    valueAndGrad(f)(params, ...rest).grad

/**
 * The same values, treated as a constant by differentiation (its gradient is zero).
 *
 * @example
 * ```ts
 * import { grad, mul, stopGradient, sum, tensor } from '@purenn/tensor'
 * const g = grad((x: ReturnType<typeof tensor>) => sum(mul(x, stopGradient(x))))(tensor([3]))
 * console.log(g.toString()) // tensor([3])
 * ```
 * @category Autodiff
 */
export const stopGradient = (x: Tensor): Tensor =>
  x.node === undefined ? x : fromBuffer(x.shape, x.data as Float32Array)
