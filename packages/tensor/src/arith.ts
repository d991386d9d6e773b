import { map, select, zip } from './internal/kernels.js'
import { record } from './internal/tape.js'
import { buf, fromBuffer, scalar, type Tensor } from './tensor.js'

/**
 * A tensor or a plain number (treated as a scalar tensor) in binary ops.
 * @category Arithmetic
 */
export type TensorLike = Tensor | number

/** A number becomes a scalar tensor; a tensor is returned as it is. @internal */
export const lift = (x: TensorLike): Tensor => (typeof x === 'number' ? scalar(x) : x)

const binary =
  (
    op: string,
    f: (x: number, y: number) => number,
    vjps: (a: Tensor, b: Tensor, y: Tensor) => readonly [(g: Tensor) => Tensor, (g: Tensor) => Tensor],
  ) =>
  (x: TensorLike, z: TensorLike): Tensor => {
    const a = lift(x)
    const b = lift(z)
    const r = zip(op, buf(a), a.shape, buf(b), b.shape, f)
    let y: Tensor | undefined
    return (y = record(
      op,
      r.shape,
      r.data,
      [a, b],
      lazyPair(() => vjps(a, b, y!)),
    ))
  }

// VJP closures are built only if the backward pass asks for them.
const lazyPair = (
  make: () => readonly [(g: Tensor) => Tensor, (g: Tensor) => Tensor],
): [(g: Tensor) => Tensor, (g: Tensor) => Tensor] => {
  let pair: readonly [(g: Tensor) => Tensor, (g: Tensor) => Tensor] | undefined
  return [(g) => (pair ??= make())[0](g), (g) => (pair ??= make())[1](g)]
}

const unary =
  (op: string, f: (v: number) => number, vjp: (x: Tensor, y: Tensor, g: Tensor) => Tensor) =>
  (x: Tensor): Tensor => {
    let y: Tensor | undefined
    return (y = record(op, x.shape, map(buf(x), f, op), [x], [(g) => vjp(x, y!, g)]))
  }

/** A mask: 1 where `pred` holds elementwise, else 0. Not differentiable (a constant). */
const compare =
  (op: string, pred: (x: number, y: number) => boolean) =>
  (x: TensorLike, z: TensorLike): Tensor => {
    const a = lift(x)
    const b = lift(z)
    const r = zip(op, buf(a), a.shape, buf(b), b.shape, (u, v) => (pred(u, v) ? 1 : 0))
    return fromBuffer(r.shape, r.data)
  }

/**
 * Elementwise `a + b` with NumPy broadcasting.
 *
 * @remarks VJP: `(g, g)`, each summed back to its input's shape.
 * @example
 * ```ts
 * import { add, tensor } from '@purenn/tensor'
 * console.log(add(tensor([[1, 2], [3, 4]]), tensor([10, 20])).toString()) // tensor([[11, 22], [13, 24]])
 * ```
 * @category Arithmetic
 */
export const add: (a: TensorLike, b: TensorLike) => Tensor = binary(
  'add',
  (x, y) => x + y,
  () => [(g) => g, (g) => g],
)

/**
 * Elementwise `a - b` with broadcasting.
 *
 * @remarks VJP: `(g, -g)`.
 * @example
 * ```ts
 * import { sub, tensor } from '@purenn/tensor'
 * console.log(sub(tensor([5, 7]), 2).toString()) // tensor([3, 5])
 * ```
 * @category Arithmetic
 */
export const sub: (a: TensorLike, b: TensorLike) => Tensor = binary(
  'sub',
  (x, y) => x - y,
  () => [(g) => g, (g) => neg(g)],
)

/**
 * Elementwise `a · b` with broadcasting.
 *
 * @remarks VJP: `(g·b, g·a)`.
 * @example
 * ```ts
 * import { mul, tensor } from '@purenn/tensor'
 * console.log(mul(tensor([1, 2, 3]), 2).toString()) // tensor([2, 4, 6])
 * ```
 * @category Arithmetic
 */
export const mul: (a: TensorLike, b: TensorLike) => Tensor = binary(
  'mul',
  (x, y) => x * y,
  (a, b) => [(g) => mul(g, b), (g) => mul(g, a)],
)

/**
 * Elementwise `a / b` with broadcasting.
 *
 * @remarks VJP: `(g/b, −g·a/b²)`.
 * @example
 * ```ts
 * import { div, tensor } from '@purenn/tensor'
 * console.log(div(tensor([1, 2]), 4).toString()) // tensor([0.25, 0.5])
 * ```
 * @category Arithmetic
 */
export const div: (a: TensorLike, b: TensorLike) => Tensor = binary(
  'div',
  (x, y) => x / y,
  (_a, b, y) => [(g) => div(g, b), (g) => neg(div(mul(g, y), b))],
)

/**
 * Elementwise `a^b` with broadcasting.
 *
 * @remarks VJP: `(g·b·a^(b−1), g·a^b·ln a)`; the second is taken as 0 where `a ≤ 0`.
 * @example
 * ```ts
 * import { pow, tensor } from '@purenn/tensor'
 * console.log(pow(tensor([2, 3]), 2).toString()) // tensor([4, 9])
 * ```
 * @category Arithmetic
 */
export const pow: (a: TensorLike, b: TensorLike) => Tensor = binary(
  'pow',
  (x, y) => x ** y,
  (a, b, y) => [
    (g) => mul(g, mul(b, pow(a, sub(b, 1)))),
    (g) => mul(g, mul(y, log(where(greater(a, 0), a, 1)))),
  ],
)

/**
 * Elementwise maximum with broadcasting.
 *
 * @remarks VJP: the cotangent goes to `a` where `a ≥ b`, to `b` elsewhere: at a tie it all goes
 * to `a`, as TensorFlow's `Maximum` gradient.
 * @example
 * ```ts
 * import { maximum, tensor } from '@purenn/tensor'
 * console.log(maximum(tensor([1, 5]), 3).toString()) // tensor([3, 5])
 * ```
 * @category Arithmetic
 */
export const maximum: (a: TensorLike, b: TensorLike) => Tensor = binary(
  'maximum',
  (x, y) => (x >= y || Number.isNaN(x) ? x : y),
  (a, b) => [(g) => mul(g, greaterEqual(a, b)), (g) => mul(g, less(a, b))],
)

/**
 * Elementwise minimum with broadcasting.
 *
 * @remarks VJP: the cotangent goes to `a` where `a ≤ b`, to `b` elsewhere: at a tie it all goes
 * to `a`, as TensorFlow's `Minimum` gradient.
 * @example
 * ```ts
 * import { minimum, tensor } from '@purenn/tensor'
 * console.log(minimum(tensor([1, 5]), 3).toString()) // tensor([1, 3])
 * ```
 * @category Arithmetic
 */
export const minimum: (a: TensorLike, b: TensorLike) => Tensor = binary(
  'minimum',
  (x, y) => (x <= y || Number.isNaN(x) ? x : y),
  (a, b) => [(g) => mul(g, lessEqual(a, b)), (g) => mul(g, greater(a, b))],
)

/**
 * Elementwise negation `−x`.
 *
 * @example
 * ```ts
 * import { neg, tensor } from '@purenn/tensor'
 * console.log(neg(tensor([1, -2])).toString()) // tensor([-1, 2])
 * ```
 * @category Arithmetic
 */
export const neg = (x: TensorLike): Tensor => negate(lift(x))
const negate = unary(
  'neg',
  (v) => -v,
  (_x, _y, g) => neg(g),
)

/**
 * Elementwise `|x|`.
 *
 * @remarks VJP: `g·sign(x)`: at the kink x = 0 the derivative is 0, as TensorFlow's `Abs`.
 * @example
 * ```ts
 * import { abs, tensor } from '@purenn/tensor'
 * console.log(abs(tensor([-1.5, 2])).toString()) // tensor([1.5, 2])
 * ```
 * @category Arithmetic
 */
export const abs: (x: Tensor) => Tensor = unary('abs', Math.abs, (x, _y, g) => mul(g, sign(x)))

/**
 * Elementwise sign: −1, 0 or 1. Its gradient is zero.
 *
 * @example
 * ```ts
 * import { sign, tensor } from '@purenn/tensor'
 * console.log(sign(tensor([-3, 0, 2])).toString()) // tensor([-1, 0, 1])
 * ```
 * @category Arithmetic
 */
export const sign = (x: Tensor): Tensor => fromBuffer(x.shape, map(buf(x), Math.sign))

/**
 * Elementwise `eˣ`.
 *
 * @remarks VJP: `g·eˣ`.
 * @example
 * ```ts
 * import { exp, tensor } from '@purenn/tensor'
 * console.log(exp(tensor([0])).toString()) // tensor([1])
 * ```
 * @category Arithmetic
 */
export const exp: (x: Tensor) => Tensor = unary('exp', Math.exp, (_x, y, g) => mul(g, y))

/**
 * Elementwise natural logarithm.
 *
 * @remarks VJP: `g/x`.
 * @example
 * ```ts
 * import { log, tensor } from '@purenn/tensor'
 * console.log(log(tensor([1])).toString()) // tensor([0])
 * ```
 * @category Arithmetic
 */
export const log: (x: Tensor) => Tensor = unary('log', Math.log, (x, _y, g) => div(g, x))

/**
 * Elementwise `ln(1 + x)`, accurate for small `x`.
 *
 * @remarks VJP: `g/(1+x)`.
 * @example
 * ```ts
 * import { log1p, tensor } from '@purenn/tensor'
 * console.log(log1p(tensor([0])).toString()) // tensor([0])
 * ```
 * @category Arithmetic
 */
export const log1p: (x: Tensor) => Tensor = unary('log1p', Math.log1p, (x, _y, g) => div(g, add(x, 1)))

/**
 * Elementwise square root.
 *
 * @remarks VJP: `g/(2√x)` (infinite at x = 0, as TensorFlow's `Sqrt`).
 * @example
 * ```ts
 * import { sqrt, tensor } from '@purenn/tensor'
 * console.log(sqrt(tensor([4, 9])).toString()) // tensor([2, 3])
 * ```
 * @category Arithmetic
 */
export const sqrt: (x: Tensor) => Tensor = unary('sqrt', Math.sqrt, (_x, y, g) => div(g, mul(y, 2)))

/**
 * Elementwise reciprocal square root `1/√x`.
 *
 * @remarks VJP: `−g·y³/2` where `y = 1/√x`.
 * @example
 * ```ts
 * import { rsqrt, tensor } from '@purenn/tensor'
 * console.log(rsqrt(tensor([4])).toString()) // tensor([0.5])
 * ```
 * @category Arithmetic
 */
export const rsqrt: (x: Tensor) => Tensor = unary(
  'rsqrt',
  (v) => 1 / Math.sqrt(v),
  (_x, y, g) => mul(g, mul(mul(y, mul(y, y)), -0.5)),
)

/**
 * Elementwise `x²`, derived from {@link mul} (it needs no VJP of its own).
 *
 * @example
 * ```ts
 * import { square, tensor } from '@purenn/tensor'
 * console.log(square(tensor([-3])).toString()) // tensor([9])
 * ```
 * @category Arithmetic
 */
export const square = (x: Tensor): Tensor => mul(x, x)

/**
 * Elementwise clamp to `[lo, hi]`, derived from {@link maximum} and {@link minimum}.
 *
 * @remarks The gradient passes where `lo ≤ x ≤ hi` and is 0 outside: at either bound x = lo or
 * x = hi the derivative is 1, as TensorFlow's `clip_by_value`.
 * @example
 * ```ts
 * import { clip, tensor } from '@purenn/tensor'
 * console.log(clip(tensor([-2, 0.5, 2]), -1, 1).toString()) // tensor([-1, 0.5, 1])
 * ```
 * @category Arithmetic
 */
export const clip = (x: Tensor, lo: TensorLike, hi: TensorLike): Tensor => minimum(maximum(x, lo), hi)

/**
 * Picks `a` where `cond` is non-zero and `b` elsewhere, broadcasting all three.
 *
 * @remarks VJP: `(where(cond, g, 0), where(cond, 0, g))`; `cond` gets none.
 * @example
 * ```ts
 * import { where, tensor } from '@purenn/tensor'
 * console.log(where(tensor([1, 0]), tensor([1, 2]), tensor([9, 9])).toString()) // tensor([1, 9])
 * ```
 * @category Arithmetic
 */
export const where = (cond: Tensor, x: TensorLike, z: TensorLike): Tensor => {
  const a = lift(x)
  const b = lift(z)
  const r = select(buf(cond), cond.shape, buf(a), a.shape, buf(b), b.shape)
  return record(
    'where',
    r.shape,
    r.data,
    [cond, a, b],
    [(g) => mul(g, 0), (g) => where(cond, g, 0), (g) => where(cond, 0, g)],
  )
}

/**
 * 1 where `a == b`, else 0 (a float mask; not differentiable).
 *
 * @example
 * ```ts
 * import { equal, tensor } from '@purenn/tensor'
 * console.log(equal(tensor([1, 2]), 2).toString()) // tensor([0, 1])
 * ```
 * @category Comparison
 */
export const equal: (a: TensorLike, b: TensorLike) => Tensor = compare('equal', (x, y) => x === y)

/**
 * 1 where `a > b`, else 0.
 *
 * @example
 * ```ts
 * import { greater, tensor } from '@purenn/tensor'
 * console.log(greater(tensor([1, 3]), 2).toString()) // tensor([0, 1])
 * ```
 * @category Comparison
 */
export const greater: (a: TensorLike, b: TensorLike) => Tensor = compare('greater', (x, y) => x > y)

/**
 * 1 where `a ≥ b`, else 0.
 *
 * @example
 * ```ts
 * import { greaterEqual, tensor } from '@purenn/tensor'
 * console.log(greaterEqual(tensor([1, 2]), 2).toString()) // tensor([0, 1])
 * ```
 * @category Comparison
 */
export const greaterEqual: (a: TensorLike, b: TensorLike) => Tensor = compare(
  'greaterEqual',
  (x, y) => x >= y,
)

/**
 * 1 where `a < b`, else 0.
 *
 * @example
 * ```ts
 * import { less, tensor } from '@purenn/tensor'
 * console.log(less(tensor([1, 3]), 2).toString()) // tensor([1, 0])
 * ```
 * @category Comparison
 */
export const less: (a: TensorLike, b: TensorLike) => Tensor = compare('less', (x, y) => x < y)

/**
 * 1 where `a ≤ b`, else 0.
 *
 * @example
 * ```ts
 * import { lessEqual, tensor } from '@purenn/tensor'
 * console.log(lessEqual(tensor([2, 3]), 2).toString()) // tensor([1, 0])
 * ```
 * @category Comparison
 */
export const lessEqual: (a: TensorLike, b: TensorLike) => Tensor = compare('lessEqual', (x, y) => x <= y)
