/**
 * Higher-order derivatives built on nested reverse mode: Hessian-vector products, Jacobians
 * (one backward pass per output element) and Hessians (the Jacobian of the gradient).
 */

import { add, mul } from './arith.js'
import { ShapeError } from './errors.js'
import { grad } from './grad.js'
import { fmt } from './internal/shape.js'
import { backward, keepLive, newTrace, traceLeaf } from './internal/tape.js'
import { sum } from './reduce.js'
import { concat, reshape } from './shape.js'
import { alloc, fromBuffer, isTensor, scalar, type Tensor } from './tensor.js'
import { flatten, type Tree } from './tree.js'

/** Σ over the leaves of Σ a·b: the inner product of two trees of the same structure (recorded). */
const treeDot = (op: string, a: Tree, b: Tree): Tensor => {
  const as = flatten(a)
  const bs = flatten(b)
  if (as.length !== bs.length)
    throw new ShapeError(`${op}: the vector has ${bs.length} leaves, the parameters ${as.length}`)
  let total: Tensor = scalar(0)
  as.forEach(([path, x], i) => {
    const [vPath, v] = bs[i]!
    if (vPath !== path || x.shape.length !== v.shape.length || x.shape.some((d, j) => d !== v.shape[j]))
      throw new ShapeError(
        `${op}: the vector's leaf '${vPath}' ${fmt(v.shape)} does not match the parameter '${path}' ${fmt(x.shape)}`,
      )
    total = add(total, sum(mul(x, v)))
  })
  return total
}

/**
 * The product of the Hessian of a scalar function with a vector, `H(x)·v`, without forming
 * the Hessian (reverse over reverse).
 *
 * @remarks
 * `H(x)·v = ∇ₓ ⟨∇f(x), v⟩`: one gradient computed inside another (Pearlmutter 1994, "Fast
 * Exact Multiplication by the Hessian"), so it costs about two gradients whatever the size of
 * `x`. `x` and `v` are trees of the same structure and shapes (the parameters of a model and a
 * direction in parameter space); the result has that structure too. Extra arguments are
 * passed to `f` and not differentiated. Every op on the way must be twice differentiable
 * (all of `@purenn/tensor`'s are; fused ops fall back to their composition).
 *
 * @param f - a scalar objective `(params, ...rest) => Tensor` of one element
 * @returns `(x, v, ...rest) => H(x)·v`, with the structure of `x`
 * @throws ShapeError when `v` does not have the structure and shapes of `x`.
 * import { hessianVectorProduct, mul, sum, tensor, type Tensor } from '@purenn/tensor'
 * // f(x) = Σ xᵢ³: H = diag(6x), so H·v = 6x·v
 * const f = (x: Tensor) => sum(mul(mul(x, x), x))
 * console.log(hessianVectorProduct(f)(tensor([1, 2]), tensor([1, -1])).toString()) // tensor([6, -12])
 * ```
 * @category Autodiff
 */
export const hessianVectorProduct =
  <P extends Tree, R extends unknown[]>(f: (params: P, ...rest: R) => Tensor) =>
  (x: P, v: P, ...rest: R): P =>
    grad((p: P) => treeDot('hessianVectorProduct', grad(f)(p, ...rest), v))(x)

/**
 * Short name of {@link hessianVectorProduct} (JAX's examples call it `hvp`).
 *
 * @example
 * ```ts
 * import { hvp, mul, sum, tensor, type Tensor } from '@purenn/tensor'
 * const f = (x: Tensor) => sum(mul(x, x)) // H = 2I
 * console.log(hvp(f)(tensor([5, 7]), tensor([1, 2])).toString()) // tensor([2, 4])
 * ```
 * @category Autodiff
 */
export const hvp = hessianVectorProduct

/**
 * The Jacobian of a tensor function, in reverse mode (JAX's `jacrev`): one backward pass per
 * element of the output, so it suits small outputs.
 *
 * @remarks
 * For `y = f(x)`, `J[i..., j...] = ∂y[i...]/∂x[j...]`, of shape `[...y.shape, ...x.shape]`.
 * `f` runs once; its graph is then swept backward from each output element in turn (seed
 * `eᵢ`). The result is differentiable by an enclosing `grad`/`jacobian`, which is how
 * {@link hessian} is built. Extra arguments are passed to `f` and not differentiated.
 *
 * @param f - `(x, ...rest) => y`, a tensor to a tensor
 * @returns `(x, ...rest) => J` of shape `[...y.shape, ...x.shape]`
 * @throws TypeError when `f` does not return a tensor.
 * @example
 * ```ts
 * import { jacobian, mul, tensor, type Tensor } from '@purenn/tensor'
 * // y = x², elementwise: J = diag(2x)
 * console.log(jacobian((x: Tensor) => mul(x, x))(tensor([1, 3])).toString()) // tensor([[2, 0], [0, 6]])
 * ```
 * @category Autodiff
 */
export const jacobian =
  <R extends unknown[]>(f: (x: Tensor, ...rest: R) => Tensor) =>
  (x: Tensor, ...rest: R): Tensor => {
    const trace = newTrace()
    const leaf = traceLeaf(trace, x)
    let y: Tensor
    try {
      y = f(leaf, ...rest)
    } finally {
      trace.active = false
    }
    if (!isTensor(y)) throw new TypeError('jacobian: the function must return a tensor')
    const rows: Tensor[] = []
    for (let i = 0; i < y.size; i++) {
      const e = alloc(y.size)
      e[i] = 1
      const g = backward(trace, y, fromBuffer(y.shape, e)).get(leaf)
      rows.push(reshape(g === undefined ? fromBuffer(x.shape, alloc(x.size)) : keepLive(g), [1, ...x.shape]))
    }
    const stacked = rows.length === 0 ? fromBuffer([0, ...x.shape], alloc(0)) : concat(rows, 0)
    return reshape(stacked, [...y.shape, ...x.shape])
  }

/**
 * The Hessian of a scalar function of one tensor: the Jacobian of its gradient, of shape
 * `[...x.shape, ...x.shape]`. Suits small inputs (one backward pass per element of `x`);
 * for large ones use {@link hessianVectorProduct}.
 *
 * @remarks `H[i..., j...] = ∂²f/∂x[i...]∂x[j...]`, computed as `jacobian(grad(f))` (reverse
 * over reverse); symmetric up to float32 rounding.
 *
 * @param f - `(x, ...rest) => Tensor` of one element
 * @returns `(x, ...rest) => H`
 * @example
 * ```ts
 * import { add, hessian, mul, square, sum, tensor, type Tensor } from '@purenn/tensor'
 * // f(x) = (Σx)² + Σx³: H = 2 + diag(6x)
 * const f = (x: Tensor) => add(square(sum(x)), sum(mul(square(x), x)))
 * console.log(hessian(f)(tensor([1, 2])).toString()) // tensor([[8, 2], [2, 14]])
 * ```
 * @category Autodiff
 */
export const hessian =
  <R extends unknown[]>(f: (x: Tensor, ...rest: R) => Tensor) =>
  (x: Tensor, ...rest: R): Tensor =>
    jacobian((p: Tensor) => grad((q: Tensor) => f(q, ...rest))(p))(x)
