import {
  add,
  clip,
  elu as eluOp,
  fusedSoftmax,
  gelu as geluOp,
  leakyRelu as leakyReluOp,
  mul,
  relu as reluOp,
  selu as seluOp,
  sigmoid as sigmoidOp,
  softplus as softplusOp,
  swish as swishOp,
  type Tensor,
  tanh as tanhOp,
} from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeAt, FiniteNumber } from './internal/config.js'
import type { Json } from './layer.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * The names of the built-in activations, as accepted by `dense({ activation })` and the
 * `activation(...)` layer. Keras' snake_case names in camelCase (`'leakyRelu'` is Keras 3's
 * `'leaky_relu'`).
 *
 * @remarks
 * A name stands for the activation with its default parameters: `'leakyRelu'` is
 * `activations.leakyRelu()` (α = 0.2) and `'elu'` is `activations.elu()` (α = 1).
 *
 * @example
 * ```ts
 * import { type ActivationName, getActivation } from '@purenn/layers'
 * const name: ActivationName = 'selu'
 * console.log(getActivation(name).name) // selu
 * ```
 * @category Activations
 */
export type ActivationName =
  | 'linear'
  | 'relu'
  | 'leakyRelu'
  | 'elu'
  | 'selu'
  | 'gelu'
  | 'swish'
  | 'sigmoid'
  | 'tanh'
  | 'softmax'
  | 'softplus'
  | 'mish'
  | 'relu6'
  | 'hardSigmoid'
  | 'hardSwish'

/**
 * An activation as a value: its name, its parameters as plain JSON and the elementwise (or,
 * for softmax, last-axis) function itself.
 *
 * @remarks
 * `fn` is built from differentiable tensor ops, so it works inside `valueAndGrad`.
 * `name` and `config` are what {@link activationToConfig} saves and
 * {@link activationFromConfig} rebuilds: `config` is `{}` for parameterless activations
 * and `{ alpha }` for `leakyRelu` and `elu`.
 *
 * @example
 * ```ts
 * import { activations } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * const a = activations.leakyRelu(0.1)
 * console.log(a.name, a.config, a.fn(tensor([-2, 3])).toString()) // leakyRelu { alpha: 0.1 } tensor([-0.2, 3])
 * ```
 * @category Activations
 */
export interface Activation {
  /** Which built-in activation this is. */
  readonly name: ActivationName
  /** Its parameters (`{ alpha }` for `leakyRelu` and `elu`, `{ approximate: true }` for the tanh GELU, else `{}`). */
  readonly config: { readonly [k: string]: Json }
  /** The function itself, differentiable through the tensor ops. */
  readonly fn: (x: Tensor) => Tensor
}

// ---------------------------------------------------------------------------------------
// Constructors

const make = (
  name: ActivationName,
  fn: (x: Tensor) => Tensor,
  config: { [k: string]: Json } = {},
): Activation => Object.freeze({ name, config: Object.freeze(config), fn })

const checkAlpha = (fn: string, alpha: number): number => {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha))
    throw new RangeError(`activations.${fn}: alpha must be a finite number, got ${String(alpha)}`)
  return alpha
}

const identity = (x: Tensor): Tensor => x

/** `√(2/π)`, the constant of the tanh approximation of GELU. */
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI)

const relu6Fn = (x: Tensor): Tensor => clip(x, 0, 6)
const hardSigmoidFn = (x: Tensor): Tensor => clip(add(mul(x, 1 / 6), 0.5), 0, 1)
const geluTanhFn = (x: Tensor): Tensor =>
  mul(mul(x, 0.5), add(tanhOp(mul(add(x, mul(mul(mul(x, x), x), 0.044715)), SQRT_2_OVER_PI)), 1))

const leakyRelu = (alpha = 0.2): Activation => {
  const a = checkAlpha('leakyRelu', alpha)
  return make('leakyRelu', (x) => leakyReluOp(x, a), { alpha: a })
}

const elu = (alpha = 1): Activation => {
  const a = checkAlpha('elu', alpha)
  return make('elu', (x) => eluOp(x, a), { alpha: a })
}

/**
 * The built-in activations, as values for `dense({ activation })` and the `activation` layer
 * (Keras' `keras.activations`). Most are constants; `leakyRelu(alpha)` and `elu(alpha)` are
 * functions of their parameter.
 *
 * @remarks
 * Which initializer goes with which activation (Glorot for none/tanh/sigmoid/softmax, He
 * for the ReLU family, LeCun for SELU) is in the guide "Initialization and activations".
 * Write a name (`activation: 'relu'`) when the defaults suit you and a value
 * (`activation: activations.leakyRelu(0.2)`) to set a parameter. The object is frozen.
 *
 * Beware the leaky-ReLU trap: the *function* `activations.leakyRelu()` defaults to
 * α = 0.2 (as `tf.nn.leaky_relu` and Keras 3's `leaky_relu`), while the *layer*
 * `leakyRelu()` defaults to α = 0.3 (as tf.keras 2.x's `LeakyReLU` layer). Pass α
 * explicitly, as the chapter does.
 *
 * @example
 * ```ts
 * import { activations, dense } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * const hidden = dense({ units: 100, activation: activations.leakyRelu(0.2) })
 * console.log(hidden.config.activation) // { name: 'leakyRelu', alpha: 0.2 }
 * console.log(activations.relu.fn(tensor([-1, 2])).toString()) // tensor([0, 2])
 * ```
 * @namespace
 * @category Activations
 */
export const activations = Object.freeze({
  /**
   * The identity `f(x) = x`: what `dense` does when no activation is given.
   *
   * @remarks
   * Derivative 1 everywhere. A stack of linear layers is itself linear, so hidden layers need
   * a nonlinearity; `linear` is for regression outputs and for the dense layer that feeds a
   * batch-normalization layer followed by an `activation` layer.
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.linear.fn(tensor([-1.5, 2])).toString()) // tensor([-1.5, 2])
   * ```
   */
  linear: make('linear', identity),

  /**
   * Rectified linear unit $f(x) = \max(0, x)$.
   *
   * @remarks
   * Derivative 1 for $x > 0$, 0 for $x \le 0$ (0 at the kink, as TensorFlow/Keras). Non-saturating for positive
   * inputs and cheap, but a unit whose input stays negative gets no gradient ("dying
   * ReLU"). Pair it with He initialization (`'heNormal'`, variance 2/fan_in; He et al.,
   * 2015). Nair & Hinton (2010).
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.relu.fn(tensor([-1, 0, 2])).toString()) // tensor([0, 0, 2])
   * ```
   */
  relu: make('relu', reluOp),

  /**
   * Leaky ReLU $f(x) = x$ for $x > 0$, $\alpha x$ otherwise, with $\alpha = 0.2$ by default.
   *
   * @remarks
   * Derivative 1 for $x > 0$, $\alpha$ otherwise ($\alpha$ at the kink, as TensorFlow/Keras): units never
   * die. Maas et al. (2013). Pair with He
   * initialization.
   *
   * **Default trap.** This function defaults to α = 0.2, as `tf.nn.leaky_relu` (and Keras
   * 3's `keras.activations.leaky_relu`, where α is called `negative_slope`). The *layer*
   * `leakyRelu()` of this package defaults to α = 0.3, as tf.keras 2.x's `LeakyReLU` layer.
   * The name `'leakyRelu'` means this function with α = 0.2.
   *
   * @param alpha - slope for negative inputs; default 0.2
   * @returns the activation, with `config` `{ alpha }`
   * @throws RangeError when `alpha` is not a finite number
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.leakyRelu().fn(tensor([-1, 2])).toString()) // tensor([-0.2, 2])
   * console.log(activations.leakyRelu(0.3).fn(tensor([-1, 2])).toString()) // tensor([-0.3, 2])
   * ```
   */
  leakyRelu,

  /**
   * Exponential linear unit $f(x) = x$ for $x > 0$, $\alpha(e^x - 1)$ otherwise ($\alpha = 1$ by default).
   *
   * @remarks
   * Derivative $\alpha e^x$ for $x < 0$, 1 otherwise (1 at the kink, as TensorFlow/Keras): smooth
   * at 0 when $\alpha = 1$, negative outputs
   * push the mean activation toward 0, and it saturates only for very negative inputs (to $-\alpha$).
   * Clevert et al. (2015). Pair with He initialization.
   *
   * @param alpha - the value approached as x → −∞ is −α; default 1
   * @returns the activation, with `config` `{ alpha }`
   * @throws RangeError when `alpha` is not a finite number
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.elu().fn(tensor([-1, 2])).toString()) // tensor([-0.632121, 2])
   * ```
   */
  elu,

  /**
   * Scaled ELU $f(x) = \lambda x$ for $x > 0$, $\lambda\alpha(e^x - 1)$ otherwise, with
   * $\alpha \approx 1.6732632423543772$ and $\lambda \approx 1.0507009873554805$.
   *
   * @remarks
   * Derivative $\lambda\alpha e^x$ for $x < 0$, $\lambda$ otherwise: $\lambda \approx 1.0507$ at the kink $x = 0$, as
   * TensorFlow/Keras (the left limit $\lambda\alpha \approx 1.758$ is used only for $x < 0$).
   * With these constants a plain stack of dense layers self-normalizes: activations keep
   * mean 0 and variance 1 through the layers (Klambauer et al., 2017), provided the inputs
   * are standardized, the kernels use LeCun normal initialization (`'lecunNormal'`,
   * variance 1/fan_in; LeCun et al., 1998), the network is sequential and there is no
   * l1/l2 regularization nor ordinary dropout (Keras pairs it with `AlphaDropout`).
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.selu.fn(tensor([1, 0])).toString()) // tensor([1.0507, 0])
   * ```
   */
  selu: make('selu', seluOp),

  /**
   * Gaussian error linear unit, exact form $f(x) = x\,\Phi(x) = x\left(1 + \operatorname{erf}(x/\sqrt{2})\right)/2$.
   *
   * @remarks
   * Φ is the standard normal CDF; derivative `Φ(x) + x·φ(x)`. Hendrycks & Gimpel (2016).
   * Same as Keras' `activations.gelu` with its default `approximate=False` (tf.keras 2.x and
   * Keras 3; Keras 3's lower-level `keras.ops.gelu` defaults to the tanh approximation,
   * which is {@link activations}`.geluApproximate` here). Pair with He initialization.
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.gelu.fn(tensor([0, 1])).toString()) // tensor([0, 0.841345])
   * ```
   */
  gelu: make('gelu', geluOp),

  /**
   * Swish (also called SiLU) $f(x) = x\,\sigma(x)$.
   *
   * @remarks
   * Derivative $\sigma(x)\left(1 + x(1 - \sigma(x))\right)$; smooth, non-monotonic, unbounded above.
   * Ramachandran et al. (2017), found by automated search. Keras 3 also calls it `silu`.
   * Pair with He initialization.
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.swish.fn(tensor([0, 1])).toString()) // tensor([0, 0.731059])
   * ```
   */
  swish: make('swish', swishOp),

  /**
   * Logistic sigmoid $f(x) = \sigma(x) = 1/(1 + e^{-x})$.
   *
   * @remarks
   * Derivative $\sigma(x)(1 - \sigma(x))$, at most $1/4$: it saturates at 0 and 1, and gradients
   * vanish in deep stacks of sigmoid layers, which is what Glorot & Bengio (2010) studied.
   * Use it for binary outputs; pair with Glorot initialization.
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.sigmoid.fn(tensor([0, 2])).toString()) // tensor([0.5, 0.880797])
   * ```
   */
  sigmoid: make('sigmoid', sigmoidOp),

  /**
   * Hyperbolic tangent $f(x) = (e^x - e^{-x})/(e^x + e^{-x})$.
   *
   * @remarks
   * Derivative $1 - \tanh^2 x$; zero-centred, saturates at $\pm 1$. Pair with Glorot initialization
   * (Glorot & Bengio, 2010).
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.tanh.fn(tensor([0, 1])).toString()) // tensor([0, 0.761594])
   * ```
   */
  tanh: make('tanh', tanhOp),

  /**
   * Softmax over the last axis $f(x)_i = e^{x_i} / \sum_j e^{x_j}$ (computed after subtracting the max).
   *
   * @remarks
   * Each row becomes a probability distribution: the output activation of a multiclass
   * classifier (with `sparseCategoricalCrossentropy`). Jacobian `diag(y) − y·yᵀ`. As in
   * Keras, it runs over axis −1, as one fused op (`fusedSoftmax` of `@purenn/tensor`, on the
   * WebAssembly kernels when they are in use). Pair with Glorot initialization.
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.softmax.fn(tensor([[0, 0], [0, Math.log(3)]])).toString()) // tensor([[0.5, 0.5], [0.25, 0.75]])
   * ```
   */
  softmax: make('softmax', (x) => fusedSoftmax(x)),

  /**
   * Softplus $f(x) = \ln(1 + e^x)$, a smooth ReLU, computed without overflow.
   *
   * @remarks
   * Derivative $\sigma(x)$; always positive, so it suits outputs that must be positive (a
   * scale). Dugas et al. (2001).
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.softplus.fn(tensor([0, 100])).toString()) // tensor([0.693147, 100])
   * ```
   */
  softplus: make('softplus', softplusOp),

  /**
   * Mish $f(x) = x \tanh(\operatorname{softplus}(x)) = x \tanh(\ln(1 + e^x))$.
   *
   * @remarks
   * Smooth, non-monotonic, unbounded above and bounded below (minimum $\approx -0.3088$ at
   * $x \approx -1.1924$), like swish. Derivative $\tanh(s) + x\,\sigma(x)(1 - \tanh^2 s)$ with
   * $s = \operatorname{softplus}(x)$. Misra (2019), "Mish: A Self Regularized Non-Monotonic Activation
   * Function". Keras 3's `activations.mish`. Pair with He initialization.
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.mish.fn(tensor([0, 1])).toString()) // tensor([0, 0.865098])
   * ```
   */
  mish: make('mish', (x) => mul(x, tanhOp(softplusOp(x)))),

  /**
   * ReLU capped at 6: `f(x) = min(max(x, 0), 6)`.
   *
   * @remarks
   * Derivative 1 on (0, 6), 0 elsewhere. Krizhevsky (2010); used by MobileNets because the
   * cap keeps activations in a range low-precision arithmetic can hold. Keras 3's
   * `activations.relu6`. Pair with He initialization.
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.relu6.fn(tensor([-1, 3, 9])).toString()) // tensor([0, 3, 6])
   * ```
   */
  relu6: make('relu6', relu6Fn),

  /**
   * Hard sigmoid, Keras 3's piecewise-linear sigmoid: $f(x) = \operatorname{relu6}(x + 3)/6 =
   * \operatorname{clip}(x/6 + 1/2, 0, 1)$.
   *
   * @remarks
   * Derivative 1/6 on (−3, 3), 0 elsewhere. **Keras versions differ**: Keras 3 (and
   * PyTorch's `Hardsigmoid`) use slope 1/6; tf.keras 2.x's `hard_sigmoid` used
   * $\operatorname{clip}(0.2x + 0.5, 0, 1)$ (slope 0.2, saturating at $\pm 2.5$). purenn follows Keras 3.
   * Howard et al. (2019), "Searching for MobileNetV3".
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.hardSigmoid.fn(tensor([-4, 0, 1.5, 4])).toString()) // tensor([0, 0.5, 0.75, 1])
   * ```
   */
  hardSigmoid: make('hardSigmoid', hardSigmoidFn),

  /**
   * Hard swish (Keras 3's `hard_silu`/`hard_swish`): $f(x) = x \operatorname{relu6}(x + 3)/6$.
   *
   * @remarks
   * A piecewise-quadratic swish: 0 for $x \le -3$, $x$ for $x \ge 3$, $x(x + 3)/6$ between;
   * derivative $(2x + 3)/6$ on $(-3, 3)$. Howard et al. (2019), "Searching for MobileNetV3".
   * Pair with He initialization.
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * console.log(activations.hardSwish.fn(tensor([-4, 1, 4])).toString()) // tensor([0, 0.666667, 4])
   * ```
   */
  hardSwish: make('hardSwish', (x) => mul(x, hardSigmoidFn(x))),

  /**
   * GELU with the tanh approximation (Keras' `gelu(x, approximate=True)`):
   * $f(x) = \frac{x}{2}\left(1 + \tanh\left(\sqrt{2/\pi}\,(x + 0.044715\,x^3)\right)\right)$.
   *
   * @remarks
   * Within about 1e-3 of the exact {@link activations}`.gelu` ($x\,\Phi(x)$), and cheaper where
   * `erf` is slow; the form of BERT and GPT-2. Hendrycks & Gimpel (2016). Its name is
   * `'gelu'` with `config` `{ approximate: true }`, saved as
   * `{ name: 'gelu', approximate: true }`; the name `'gelu'` alone is the exact form.
   * @example
   * ```ts
   * import { activations } from '@purenn/layers'
   * import { tensor } from '@purenn/tensor'
   * const a = activations.geluApproximate
   * console.log(a.name, a.config, a.fn(tensor([0, 1])).toString()) // gelu { approximate: true } tensor([0, 0.841192])
   * ```
   */
  geluApproximate: make('gelu', geluTanhFn, { approximate: true }),
})

/** What each name stands for: the activation with its default parameters. */
const byName: { readonly [N in ActivationName]: () => Activation } = {
  linear: () => activations.linear,
  relu: () => activations.relu,
  leakyRelu: () => activations.leakyRelu(),
  elu: () => activations.elu(),
  selu: () => activations.selu,
  gelu: () => activations.gelu,
  swish: () => activations.swish,
  sigmoid: () => activations.sigmoid,
  tanh: () => activations.tanh,
  softmax: () => activations.softmax,
  softplus: () => activations.softplus,
  mish: () => activations.mish,
  relu6: () => activations.relu6,
  hardSigmoid: () => activations.hardSigmoid,
  hardSwish: () => activations.hardSwish,
}

/** The parameters each activation takes in its config. */
const paramsOf: { readonly [N in ActivationName]: readonly string[] } = {
  linear: [],
  relu: [],
  leakyRelu: ['alpha'],
  elu: ['alpha'],
  selu: [],
  gelu: ['approximate'],
  swish: [],
  sigmoid: [],
  tanh: [],
  softmax: [],
  softplus: [],
  mish: [],
  relu6: [],
  hardSigmoid: [],
  hardSwish: [],
}

const names = Object.keys(byName) as ActivationName[]
const namesText = names.map((n) => `'${n}'`).join(' | ')

/**
 * The activation a name (or nothing) stands for; an activation value is returned as is.
 *
 * @remarks
 * `undefined` gives `linear`, as Keras' `activations.get(None)`. Names give the default
 * parameters: `'leakyRelu'` is α = 0.2 and `'elu'` α = 1.
 *
 * @param a - a name, an {@link Activation}, or `undefined`
 * @returns the activation
 * @throws Error when `a` is a string that names no activation (possible only from untyped code)
 * @example
 * ```ts
 * import { activations, getActivation } from '@purenn/layers'
 * console.log(getActivation('relu') === activations.relu, getActivation(undefined).name) // true linear
 * console.log(getActivation('leakyRelu').config) // { alpha: 0.2 }
 * ```
 * @category Activations
 */
export const getActivation = (a: ActivationName | Activation | undefined): Activation => {
  if (a === undefined) return activations.linear
  if (typeof a !== 'string') return a
  const build = Object.hasOwn(byName, a) ? byName[a] : undefined
  if (build === undefined)
    throw new Error(`getActivation: unknown activation '${String(a)}', expected one of ${namesText}`)
  return build()
}

// ---------------------------------------------------------------------------------------
// Config (plain JSON) and its decoding

/**
 * The plain-JSON config of an activation: its name (`'relu'`) when it has no parameters,
 * else the name with its parameters (`{ name: 'leakyRelu', alpha: 0.2 }`).
 *
 * @remarks Inverse of {@link activationFromConfig}.
 * @param a - the activation
 * @returns the JSON to save
 * @example
 * ```ts
 * import { activationToConfig, activations } from '@purenn/layers'
 * console.log(activationToConfig(activations.relu), activationToConfig(activations.elu(0.5))) // relu { name: 'elu', alpha: 0.5 }
 * ```
 * @category Activations
 */
export const activationToConfig = (a: Activation): Json =>
  Object.keys(a.config).length === 0 ? a.name : { name: a.name, ...a.config }

const ActivationNameC = t.keyof(
  Object.fromEntries(names.map((n) => [n, null])) as { [N in ActivationName]: null },
  `one of ${namesText}`,
)
const Named = t.type({ name: t.unknown }, 'an activation name or { name, ...params }')

/**
 * Rebuilds an activation from its plain-JSON config (data from outside: a saved model), with
 * io-ts. Accepts a name (`'relu'`, `'leakyRelu'`: default parameters) or an object
 * `{ name, ...params }` as written by {@link activationToConfig}.
 *
 * @remarks
 * Never throws: a bad config gives a `Left` whose message names the field, e.g.
 * `activation.alpha: expected a finite number, got "big"`. Fields an activation does not
 * take are rejected (`activation.alpha: 'relu' takes no parameters, got a field 'alpha'`).
 *
 * @param u - the JSON value
 * @param path - the name of the field being decoded, used in error messages; default `'activation'`
 * @returns `Right(activation)` or `Left(message)`
 * @example
 * ```ts
 * import { activationFromConfig } from '@purenn/layers'
 * const ok = activationFromConfig({ name: 'leakyRelu', alpha: 0.3 })
 * console.log(ok._tag === 'Right' && ok.right.config.alpha) // 0.3
 * const bad = activationFromConfig({ name: 'leakyRelu', alpha: 'big' })
 * console.log(bad._tag === 'Left' && bad.left) // activation.alpha: expected a finite number, got "big"
 * ```
 * @category Activations
 */
export const activationFromConfig = (u: unknown, path = 'activation'): E.Either<string, Activation> => {
  if (typeof u === 'string')
    return E.map((n: ActivationName) => byName[n]())(decodeAt(ActivationNameC, u, path))
  const named = decodeAt(Named, u, path)
  if (E.isLeft(named)) return named
  const name = decodeAt(ActivationNameC, named.right.name, `${path}.name`)
  if (E.isLeft(name)) return name
  const fields = named.right as { readonly [k: string]: unknown }
  const allowed = paramsOf[name.right]
  for (const k of Object.keys(fields)) {
    if (k === 'name' || allowed.includes(k)) continue
    const takes = allowed.length === 0 ? 'no parameters' : `only ${allowed.join(', ')}`
    return E.left(`${path}.${k}: '${name.right}' takes ${takes}, got a field '${k}'`)
  }
  if (name.right === 'leakyRelu' || name.right === 'elu') {
    const build = name.right === 'leakyRelu' ? activations.leakyRelu : activations.elu
    if (fields.alpha === undefined) return E.right(build())
    return E.map((alpha: number) => build(alpha))(decodeAt(FiniteNumber, fields.alpha, `${path}.alpha`))
  }
  if (name.right === 'gelu' && fields.approximate !== undefined) {
    const approx = decodeAt(t.boolean, fields.approximate, `${path}.approximate`)
    if (E.isLeft(approx)) return approx
    return E.right(approx.right ? activations.geluApproximate : activations.gelu)
  }
  return E.right(byName[name.right]())
}
