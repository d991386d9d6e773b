/**
 * User-defined gradients: `customVjp` turns a forward function and its VJP into an op that
 * `grad` differentiates with that VJP (JAX's `jax.custom_vjp`).
 */

import { ShapeError } from './errors.js'
import { broadcastShapes, fmt, sameShape } from './internal/shape.js'
import { detach, record } from './internal/tape.js'
import { buf, isTensor, type Tensor } from './tensor.js'

/**
 * Options of {@link customVjp}.
 * @category Autodiff
 */
export interface CustomVjpOptions {
  /** The op's name in error messages (default `'customVjp'`). */
  readonly name?: string
  /**
   * How the op is differentiated when its VJP is itself differentiated (a gradient of a
   * gradient): `'vjp'` (default) differentiates the VJP, which must then be written with
   * tensor ops; `'forward'` differentiates `forward` by ordinary autodiff instead, for a VJP
   * that reads raw data (like the library's fused kernels).
   */
  readonly higherOrder?: 'vjp' | 'forward'
}

/**
 * The cotangents {@link customVjp}'s VJP returns: one tensor per input, in order.
 * @category Autodiff
 */
export type Cotangents<Args extends readonly Tensor[]> = { readonly [K in keyof Args]: Tensor }

/**
 * An op with a gradient you write yourself: `forward` computes the value, `vjp` maps the
 * output's cotangent to one cotangent per input (JAX's `jax.custom_vjp`).
 *
 * @remarks
 * Calling the op runs `forward` on the inputs' values with differentiation switched off
 * (its own ops record nothing, as a fused kernel), then records one tape node whose VJPs come
 * from `vjp(g, y, ...inputs)`, called at most once per cotangent `g`; `y` is the output. A
 * returned cotangent may have the input's shape or the output's broadcast shape (the tape
 * sums it down). Use it for a numerically stable gradient (log-sum-exp, a clipped gradient),
 * a straight-through estimator, or a fused kernel of your own; check it against finite
 * differences like any op. `forward` must depend on its inputs only: a traced tensor it reads
 * from a closure is treated as a constant (pass it as an input instead).
 *
 * Higher order: a `vjp` written with tensor ops is differentiated like any function, so
 * `grad(grad(op))` uses your VJP's own derivative. With `higherOrder: 'forward'`, a second
 * differentiation goes through `forward` instead, which suits a VJP that reads `.data`.
 *
 * @param forward - `(...inputs) => output`, tensors to a tensor
 * @param vjp - `(g, y, ...inputs) => [dInput0, dInput1, ...]`
 * @param options - `name` for error messages, `higherOrder`
 * @returns the op, `(...inputs) => output`
 * @throws TypeError when an input or the output is not a tensor or the VJP returns the
 * wrong number of cotangents; ShapeError when a cotangent has the wrong shape.
 * @example
 * ```ts
 * import { customVjp, grad, mul, sign, sum, tensor, type Tensor } from '@purenn/tensor'
 * // a straight-through sign: forward sign(x), backward the identity
 * const signSte = customVjp((x: Tensor) => sign(x), (g) => [g], { name: 'signSte' })
 * console.log(grad((x: Tensor) => sum(mul(signSte(x), 3)))(tensor([-2, 0.5])).toString()) // tensor([3, 3])
 * ```
 * @category Autodiff
 */
export const customVjp = <Args extends readonly Tensor[]>(
  forward: (...inputs: Args) => Tensor,
  vjp: (g: Tensor, y: Tensor, ...inputs: Args) => Cotangents<Args>,
  options: CustomVjpOptions = {},
): ((...inputs: Args) => Tensor) => {
  const name = options.name ?? 'customVjp'
  const compose =
    options.higherOrder === 'forward'
      ? (...xs: Tensor[]): Tensor => forward(...(xs as unknown as Args))
      : undefined
  return (...inputs: Args): Tensor => {
    inputs.forEach((x, i) => {
      if (!isTensor(x)) throw new TypeError(`${name}: input ${i} is not a tensor`)
    })
    const out = forward(...(inputs.map(detach) as unknown as Args))
    if (!isTensor(out)) throw new TypeError(`${name}: forward must return a tensor`)
    let y: Tensor | undefined
    let last: Tensor | undefined
    let cots: readonly Tensor[] | undefined
    const cotangents = (g: Tensor): readonly Tensor[] => {
      if (g === last && cots !== undefined) return cots
      const r = vjp(g, y!, ...inputs) as readonly Tensor[]
      if (!Array.isArray(r) || r.length !== inputs.length)
        throw new TypeError(`${name}: the VJP must return ${inputs.length} cotangent(s), one per input`)
      r.forEach((c, i) => {
        if (!isTensor(c)) throw new TypeError(`${name}: cotangent ${i} is not a tensor`)
        const x = inputs[i]!
        if (!sameShape(c.shape, x.shape) && !broadcastsDown(c.shape, x.shape, y!.shape))
          throw new ShapeError(
            `${name}: cotangent ${i} has shape ${fmt(c.shape)}, expected the input's ${fmt(x.shape)} or the output's ${fmt(y!.shape)}`,
          )
      })
      last = g
      cots = r
      return r
    }
    y = record(
      name,
      out.shape,
      buf(out),
      inputs,
      inputs.map((_, i) => (g: Tensor) => cotangents(g)[i]!),
      compose,
    )
    return y
  }
}

/** True when `c` has the output's shape and the input's shape broadcasts to it. */
const broadcastsDown = (c: readonly number[], x: readonly number[], out: readonly number[]): boolean => {
  if (!sameShape(c, out)) return false
  try {
    return sameShape(broadcastShapes('customVjp', x, out), out)
  } catch {
    return false
  }
}
