import { add, div, exp, less, log, mul, sub, where } from './arith.js'
import { stopGradient } from './grad.js'
import { map } from './internal/kernels.js'
import { normalizeAxis } from './internal/shape.js'
import { erf } from './internal/special.js'
import { isLive, record } from './internal/tape.js'
import { max, sum } from './reduce.js'
import { alloc, buf, fromBuffer, type Tensor } from './tensor.js'

/**
 * An elementwise activation with derivative `df(x, y)`. `dfT`, the same derivative written
 * with recorded ops, is used when `x` is itself being differentiated (a second derivative);
 * activations whose derivative is piecewise constant (relu, leaky relu) need none.
 */
const unary =
  (
    op: string,
    f: (v: number) => number,
    df: (x: number, y: number) => number,
    dfT?: (x: Tensor, y: Tensor) => Tensor,
  ) =>
  (x: Tensor): Tensor => {
    const yd = map(buf(x), f, op)
    let y: Tensor | undefined
    return (y = record(
      op,
      x.shape,
      yd,
      [x],
      [
        (g) => {
          if (dfT !== undefined && isLive(x)) return mul(g, dfT(x, y!))
          const xd = buf(x)
          const d = alloc(yd.length)
          for (let i = 0; i < d.length; i++) d[i] = df(xd[i]!, yd[i]!)
          return mul(g, fromBuffer(x.shape, d))
        },
      ],
    ))
  }

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI)

/** The standard normal density φ(x), composed of recorded ops. */
const normalPdf = (x: Tensor): Tensor => mul(exp(mul(mul(x, x), -0.5)), INV_SQRT_2PI)

/** The standard normal CDF $\Phi(x) = \left(1 + \operatorname{erf}(x/\sqrt{2})\right)/2$; VJP $g\,\varphi(x)$. */
const normalCdf: (x: Tensor) => Tensor = unary(
  'normalCdf',
  (v) => 0.5 * (1 + erf(v / Math.SQRT2)),
  (v) => Math.exp(-0.5 * v * v) * INV_SQRT_2PI,
  (x) => normalPdf(x),
)

/**
 * Rectified linear unit `max(x, 0)`.
 *
 * @remarks VJP: `g` where `x > 0`, else 0. At the kink x = 0 the derivative is 0, as
 * TensorFlow's `ReluGrad` (Keras). Nair & Hinton (2010).
 * @example
 * ```ts
 * import { relu, tensor } from '@purenn/tensor'
 * console.log(relu(tensor([-1, 0, 2])).toString()) // tensor([0, 0, 2])
 * ```
 * @category Activations
 */
export const relu: (x: Tensor) => Tensor = unary(
  'relu',
  (v) => Math.max(v, 0),
  (v) => (v > 0 ? 1 : 0),
)

/**
 * Logistic sigmoid $\sigma(x) = 1 / (1 + e^{-x})$, computed without overflow for large $\lvert x \rvert$.
 *
 * @remarks VJP: $g\,\sigma(x)(1 - \sigma(x))$ (smooth: no kink).
 * @example
 * ```ts
 * import { sigmoid, tensor } from '@purenn/tensor'
 * console.log(sigmoid(tensor([0])).toString()) // tensor([0.5])
 * ```
 * @category Activations
 */
export const sigmoid: (x: Tensor) => Tensor = unary(
  'sigmoid',
  (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))),
  (_v, y) => y * (1 - y),
  (_x, y) => mul(y, sub(1, y)),
)

/**
 * Hyperbolic tangent.
 *
 * @remarks VJP: $g\,(1 - \tanh^2 x)$ (smooth: no kink).
 * @example
 * ```ts
 * import { tanh, tensor } from '@purenn/tensor'
 * console.log(tanh(tensor([0])).toString()) // tensor([0])
 * ```
 * @category Activations
 */
export const tanh: (x: Tensor) => Tensor = unary(
  'tanh',
  Math.tanh,
  (_v, y) => 1 - y * y,
  (_x, y) => sub(1, mul(y, y)),
)

/**
 * Softplus `ln(1 + eˣ)`, computed as `max(x,0) + ln(1 + e^−|x|)` so it never overflows.
 *
 * @remarks VJP: $g\,\sigma(x)$ (smooth: no kink).
 * @example
 * ```ts
 * import { softplus, tensor } from '@purenn/tensor'
 * console.log(softplus(tensor([0])).toString()) // tensor([0.693147])
 * ```
 * @category Activations
 */
export const softplus: (x: Tensor) => Tensor = unary(
  'softplus',
  (v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))),
  (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))),
  (x) => sigmoid(x),
)

/**
 * Exponential linear unit: $x$ for $x > 0$, $\alpha(e^x - 1)$ otherwise (default $\alpha = 1$).
 *
 * @remarks VJP: $g\,(y + \alpha) = g\,\alpha e^x$ for $x < 0$, $g$ otherwise. At the kink $x = 0$ the
 * derivative is 1 (the left branch is taken only for x < 0), as TensorFlow's `EluGrad` and
 * Keras' `elu`; for α = 1 the function is smooth there anyway. Clevert et al. (2015).
 * @example
 * ```ts
 * import { elu, tensor } from '@purenn/tensor'
 * console.log(elu(tensor([1, 0])).toString()) // tensor([1, 0])
 * ```
 * @category Activations
 */
export const elu = (x: Tensor, alpha = 1): Tensor =>
  unary(
    'elu',
    (v) => (v > 0 ? v : alpha * Math.expm1(v)),
    (v, y) => (v < 0 ? y + alpha : 1),
    (x, y) => where(less(x, 0), add(y, alpha), 1),
  )(x)

const SELU_ALPHA = 1.6732632423543772
const SELU_SCALE = 1.0507009873554805

/**
 * Scaled ELU: $\lambda x$ for $x > 0$, $\lambda\alpha(e^x - 1)$ otherwise, with Klambauer et al.'s (2017)
 * constants $\alpha \approx 1.6733$ and $\lambda \approx 1.0507$ (self-normalizing networks).
 *
 * @remarks VJP: $g\,(y + \lambda\alpha) = g\,\lambda\alpha e^x$ for $x < 0$, $g\lambda$ otherwise. At the kink $x = 0$ the
 * derivative is $\lambda \approx 1.0507$ (the left branch, whose limit is $\lambda\alpha \approx 1.758$, is taken only for
 * x < 0), as TensorFlow's `SeluGrad` and Keras' `selu`.
 *
 * @example
 * ```ts
 * import { selu, tensor } from '@purenn/tensor'
 * console.log(selu(tensor([1])).toString()) // tensor([1.0507])
 * ```
 * @category Activations
 */
export const selu: (x: Tensor) => Tensor = unary(
  'selu',
  (v) => (v > 0 ? SELU_SCALE * v : SELU_SCALE * SELU_ALPHA * Math.expm1(v)),
  (v, y) => (v < 0 ? y + SELU_SCALE * SELU_ALPHA : SELU_SCALE),
  (x, y) => where(less(x, 0), add(y, SELU_SCALE * SELU_ALPHA), SELU_SCALE),
)

/**
 * Gaussian error linear unit, exact form $x\,\Phi(x) = x\left(1 + \operatorname{erf}(x/\sqrt{2})\right)/2$ (Hendrycks &
 * Gimpel, 2016), as Keras' `gelu(approximate=False)`.
 *
 * @remarks VJP: `g·(Φ(x) + x·φ(x))` with φ the standard normal density (smooth: no kink).
 * @example
 * ```ts
 * import { gelu, tensor } from '@purenn/tensor'
 * console.log(gelu(tensor([0, 1])).toString()) // tensor([0, 0.841345])
 * ```
 * @category Activations
 */
export const gelu: (x: Tensor) => Tensor = unary(
  'gelu',
  (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
  (v) => 0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI),
  (x) => add(normalCdf(x), mul(x, normalPdf(x))),
)

/**
 * Leaky ReLU: $x$ for $x > 0$, $\alpha x$ otherwise.
 *
 * @remarks VJP: $g$ for $x > 0$, $g\alpha$ otherwise: at the kink $x = 0$ the derivative is $\alpha$, as
 * TensorFlow's `LeakyReluGrad`. The function's default α is 0.2, as `tf.nn.leaky_relu`; the Keras *layer*
 * `LeakyReLU` defaults to 0.3 (see `leakyRelu` in `@purenn/layers`).
 * @example
 * ```ts
 * import { leakyRelu, tensor } from '@purenn/tensor'
 * console.log(leakyRelu(tensor([-1, 2])).toString()) // tensor([-0.2, 2])
 * ```
 * @category Activations
 */
export const leakyRelu = (x: Tensor, alpha = 0.2): Tensor =>
  unary(
    'leakyRelu',
    (v) => (v > 0 ? v : alpha * v),
    (v) => (v > 0 ? 1 : alpha),
  )(x)

/**
 * Swish / SiLU $x\,\sigma(x)$ (Ramachandran et al., 2017), derived from {@link sigmoid}.
 *
 * @example
 * ```ts
 * import { swish, tensor } from '@purenn/tensor'
 * console.log(swish(tensor([0])).toString()) // tensor([0])
 * ```
 * @category Activations
 */
export const swish = (x: Tensor): Tensor => mul(x, sigmoid(x))

/**
 * Softmax along `axis` (default −1): $e^{x_i} / \sum_j e^{x_j}$, computed after subtracting the max so
 * that inputs like ±1e4 stay finite.
 *
 * @remarks VJP: $y \odot \left(g - \sum g \odot y\right)$ along the axis.
 * @example
 * ```ts
 * import { softmax, tensor } from '@purenn/tensor'
 * console.log(softmax(tensor([0, 0])).toString()) // tensor([0.5, 0.5])
 * ```
 * @category Activations
 */
export const softmax = (x: Tensor, axis = -1): Tensor => {
  normalizeAxis('softmax', axis, x.shape.length, x.shape)
  const e = exp(sub(x, stopGradient(max(x, axis, true))))
  return div(e, sum(e, axis, true))
}

/**
 * Log-softmax along `axis` (default −1): $x - \max - \ln \sum e^{x - \max}$, stable for $\pm 10^4$.
 *
 * @example
 * ```ts
 * import { logSoftmax, tensor } from '@purenn/tensor'
 * console.log(logSoftmax(tensor([0, 0])).toString()) // tensor([-0.693147, -0.693147])
 * ```
 * @category Activations
 */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => {
  normalizeAxis('logSoftmax', axis, x.shape.length, x.shape)
  const shifted = sub(x, stopGradient(max(x, axis, true)))
  return sub(shifted, log(sum(exp(shifted), axis, true)))
}
