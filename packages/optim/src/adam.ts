import type { Tree } from '@purenn/tensor'
import { adamInto, nadamInto } from '@purenn/tensor/internal'
import { fullTree, perLeaf, zerosTree } from './internal/leaves.js'
import {
  adagradSettings,
  adamScalars,
  adamSettings,
  nadamScalars,
  nadamSettings,
} from './internal/settings.js'
import type { GradientTransformation } from './transform.js'

/**
 * Options of {@link scaleByAdam}.
 * @category Adaptive scaling
 */
export interface ScaleByAdamOptions {
  /** Decay of the first-moment estimate. Default 0.9 (Keras' `beta_1`). */
  readonly beta1?: number
  /** Decay of the second-moment estimate. Default 0.999 (Keras' `beta_2`). */
  readonly beta2?: number
  /** Keras' "epsilon hat", added to `√v`. Default 1e-7 (Keras). */
  readonly epsilon?: number
  /** Use the running maximum of `v` (Reddi et al. 2018, AMSGrad). Default false. */
  readonly amsgrad?: boolean
  /**
   * Added to the bias-corrected `v̂` inside the square root (Optax's `eps_root`). Default 0.
   * A positive value keeps the gradient of the update finite where `v = 0`, which matters
   * when differentiating through the optimizer (meta-learning).
   */
  readonly epsRoot?: number
}

/**
 * The state of {@link scaleByAdam}.
 * @category Adaptive scaling
 */
export interface ScaleByAdamState {
  /** Number of updates done (`t − 1` during the next update). */
  readonly count: number
  /** First-moment estimate `m` (Keras' `momentums`). */
  readonly mu: Tree
  /** Second-moment estimate `v` (Keras' `velocities`). */
  readonly nu: Tree
  /** Running maximum of `v` (Keras' `velocity_hats`); only with AMSGrad. */
  readonly nuMax?: Tree
}

/**
 * The Adam scaling in Keras' "epsilon-hat" form (Kingma & Ba 2015, "Adam: A Method for
 * Stochastic Optimization", end of section 2).
 *
 * @remarks
 * With $t$ the step (1 at the first update), $\beta_1$ = `beta1`, $\beta_2$ = `beta2` and
 * $\varepsilon$ = `epsilon`:
 *
 * $$
 * \begin{aligned}
 * m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
 * v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
 * u &\leftarrow \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} \cdot \frac{m}{\sqrt{v} + \varepsilon}
 * \end{aligned}
 * $$
 *
 * Times $-\mathrm{lr}$ (the next link of the chain) this is Keras' update
 * $\alpha = \mathrm{lr} \sqrt{1 - \beta_2^t} / (1 - \beta_1^t)$, $w \leftarrow w - \alpha\, m / (\sqrt{v} + \varepsilon)$.
 * Note that $\varepsilon$ is added to the *uncorrected* $\sqrt{v}$ (Optax's `scale_by_adam`
 * adds it to $\sqrt{\hat{v}}$: `eps_hat` vs `eps`). AMSGrad:
 * $\hat{v}_\mathrm{max} \leftarrow \max(\hat{v}_\mathrm{max}, v)$ and $\sqrt{\hat{v}_\mathrm{max}}$ replaces $\sqrt{v}$.
 * One fused loop per leaf.
 *
 * `epsRoot` (Optax's `eps_root`) is added to the bias-corrected $\hat{v} = v / (1 - \beta_2^t)$
 * under the square root: $\sqrt{\hat{v} + \mathrm{epsRoot}}$ in Optax's form, that is
 * $\sqrt{v + \mathrm{epsRoot} \cdot (1 - \beta_2^t)}$ in the form above. With `epsilon: 0` this is exactly Optax's `scale_by_adam(eps=0, eps_root)`.
 *
 * @param options - `beta1`, `beta2`, `epsilon`, `amsgrad`
 * @returns the transformation
 * @example
 * ```ts
 * import { scaleByAdam } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = scaleByAdam({ epsilon: 0 })
 * const g = { w: tensor([0.5, -3]) }
 * const { updates, state } = tx.update(g, tx.init(g), g)
 * // the first Adam step is ±1 per element (sign of g) whatever its size
 * console.log(updates.w.toString(), state.count) // tensor([1, -1]) 1
 * ```
 * @category Adaptive scaling
 */
export const scaleByAdam = (options: ScaleByAdamOptions = {}): GradientTransformation<ScaleByAdamState> => {
  const settings = adamSettings('scaleByAdam', options)
  const { b1, b2, eps, amsgrad } = settings
  return {
    init: (params) =>
      amsgrad
        ? { count: 0, mu: zerosTree(params), nu: zerosTree(params), nuMax: zerosTree(params) }
        : { count: 0, mu: zerosTree(params), nu: zerosTree(params) },
    update: (grads, state) => {
      const { t, c, er } = adamScalars(settings, state.count)
      if (amsgrad) {
        const r = perLeaf(
          'scaleByAdam',
          grads,
          { mu: state.mu, nu: state.nu, nuMax: state.nuMax ?? {} },
          (gs, { mu, nu, nuMax: mx }, out, { mu: muOut, nu: nuOut, nuMax: mxOut }) => {
            for (let i = 0; i < gs.length; i++) {
              const gi = gs[i]!
              const m = Math.fround((muOut[i] = b1 * mu[i]! + (1 - b1) * gi))
              const v = Math.fround((nuOut[i] = b2 * nu[i]! + (1 - b2) * gi * gi))
              const vm = (mxOut[i] = Math.max(mx[i]!, v))
              out[i] = (c * m) / (Math.sqrt(vm + er) + eps)
            }
          },
        )
        return { updates: r.updates, state: { count: t, ...r.states } }
      }
      const r = perLeaf(
        'scaleByAdam',
        grads,
        { mu: state.mu, nu: state.nu },
        (gs, { mu, nu }, out, { mu: muOut, nu: nuOut }) => {
          // large leaves: the WebAssembly kernel does the same operations (bitwise) first; it has
          // no epsRoot, so with one the loop below does every element
          const start = er === 0 ? adamInto(gs, mu, nu, muOut, nuOut, out, b1, b2, c, eps) : 0
          for (let i = start; i < gs.length; i++) {
            const gi = gs[i]!
            const m = Math.fround((muOut[i] = b1 * mu[i]! + (1 - b1) * gi))
            const v = Math.fround((nuOut[i] = b2 * nu[i]! + (1 - b2) * gi * gi))
            out[i] = (c * m) / (Math.sqrt(v + er) + eps)
          }
        },
      )
      return { updates: r.updates, state: { count: t, ...r.states } }
    },
  }
}

/**
 * Options of {@link scaleByNadam}.
 * @category Adaptive scaling
 */
export interface ScaleByNadamOptions {
  /** Decay of the first-moment estimate. Default 0.9 (Keras' `beta_1`). */
  readonly beta1?: number
  /** Decay of the second-moment estimate. Default 0.999 (Keras' `beta_2`). */
  readonly beta2?: number
  /** Added to `√v̂`. Default 1e-7 (Keras). */
  readonly epsilon?: number
}

/**
 * The state of {@link scaleByNadam}.
 * @category Adaptive scaling
 */
export interface ScaleByNadamState {
  /** Number of updates done. */
  readonly count: number
  /** The product `Π_{i≤count} μ_i` of the momentum schedule (Keras' `u_product`, 1 at first). */
  readonly muProduct: number
  /** First-moment estimate `m`. */
  readonly mu: Tree
  /** Second-moment estimate `v`. */
  readonly nu: Tree
}

/**
 * The Nadam scaling: Adam with Nesterov momentum, in Keras' form (Dozat 2016,
 * "Incorporating Nesterov Momentum into Adam").
 *
 * @remarks
 * With $t$ the step (1 at the first update) and Dozat's momentum schedule
 * $\mu_t = \beta_1 \left(1 - \tfrac{1}{2} \cdot 0.96^t\right)$, $P_t = \prod_{i \le t} \mu_i$:
 *
 * $$
 * \begin{aligned}
 * m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
 * v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
 * \hat{m} &= \frac{\mu_{t+1}\, m}{1 - P_t \mu_{t+1}} + \frac{(1 - \mu_t)\, g}{1 - P_t} \\
 * \hat{v} &= \frac{v}{1 - \beta_2^t} \\
 * u &\leftarrow \frac{\hat{m}}{\sqrt{\hat{v}} + \varepsilon}
 * \end{aligned}
 * $$
 *
 * Times $-\mathrm{lr}$ this is Keras' (2.x and 3) `Nadam` update.
 *
 * @param options - `beta1`, `beta2`, `epsilon`
 * @returns the transformation
 * @example
 * ```ts
 * import { scaleByNadam } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = scaleByNadam()
 * const g = { w: tensor([2]) }
 * const { updates, state } = tx.update(g, tx.init(g), g)
 * console.log(updates.w.toString(), state.muProduct.toFixed(4)) // tensor([1.06279]) 0.4680
 * ```
 * @category Adaptive scaling
 */
export const scaleByNadam = (
  options: ScaleByNadamOptions = {},
): GradientTransformation<ScaleByNadamState> => {
  const settings = nadamSettings('scaleByNadam', options)
  const { b1, b2, eps } = settings
  return {
    init: (params) => ({ count: 0, muProduct: 1, mu: zerosTree(params), nu: zerosTree(params) }),
    update: (grads, state) => {
      const { t, prod, cm, cg, cv } = nadamScalars(settings, state.count, state.muProduct)
      const r = perLeaf(
        'scaleByNadam',
        grads,
        { mu: state.mu, nu: state.nu },
        (gs, { mu, nu }, out, { mu: muOut, nu: nuOut }) => {
          // large leaves: the WebAssembly kernel (bitwise this loop) first
          const start = nadamInto(gs, mu, nu, muOut, nuOut, out, b1, b2, cm, cg, cv, eps)
          for (let i = start; i < gs.length; i++) {
            const gi = gs[i]!
            const m = Math.fround((muOut[i] = b1 * mu[i]! + (1 - b1) * gi))
            const v = Math.fround((nuOut[i] = b2 * nu[i]! + (1 - b2) * gi * gi))
            out[i] = (cm * m + cg * gi) / (Math.sqrt(v * cv) + eps)
          }
        },
      )
      return { updates: r.updates, state: { count: t, muProduct: prod, ...r.states } }
    },
  }
}

/**
 * Options of {@link scaleByAdagrad}.
 * @category Adaptive scaling
 */
export interface ScaleByAdagradOptions {
  /** The starting value of the accumulator. Default 0.1 (Keras' `initial_accumulator_value`). */
  readonly initialAccumulatorValue?: number
  /** Added inside the square root. Default 1e-7 (Keras). */
  readonly epsilon?: number
}

/**
 * The state of {@link scaleByAdagrad}.
 * @category Adaptive scaling
 */
export interface ScaleByAdagradState {
  /** The sum of squared gradients so far, plus the initial value (Keras' `accumulators`). */
  readonly sumOfSquares: Tree
}

/**
 * The AdaGrad scaling (Duchi, Hazan & Singer 2011, "Adaptive Subgradient Methods for Online
 * Learning and Stochastic Optimization").
 *
 * @remarks
 * $s \leftarrow s + g^2$ (starting from `initialAccumulatorValue`), $u \leftarrow g / \sqrt{s + \varepsilon}$,
 * with $\varepsilon$ inside the square root as in Keras 3 (tf.keras 2.x used $g / (\sqrt{s} + \varepsilon)$).
 *
 * @param options - `initialAccumulatorValue`, `epsilon`
 * @returns the transformation
 * @example
 * ```ts
 * import { scaleByAdagrad } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = scaleByAdagrad({ initialAccumulatorValue: 0, epsilon: 0 })
 * const g = { w: tensor([3]) }
 * const s1 = tx.update(g, tx.init(g), g)
 * const s2 = tx.update(g, s1.state, g)
 * console.log(s1.updates.w.toString(), s2.updates.w.toString()) // tensor([1]) tensor([0.707107])
 * ```
 * @category Adaptive scaling
 */
export const scaleByAdagrad = (
  options: ScaleByAdagradOptions = {},
): GradientTransformation<ScaleByAdagradState> => {
  const { init, eps } = adagradSettings('scaleByAdagrad', options)
  return {
    init: (params) => ({ sumOfSquares: fullTree(params, init) }),
    update: (grads, state) => {
      const r = perLeaf(
        'scaleByAdagrad',
        grads,
        { sumOfSquares: state.sumOfSquares },
        (gs, { sumOfSquares: acc }, out, { sumOfSquares: accOut }) => {
          for (let i = 0; i < gs.length; i++) {
            const gi = gs[i]!
            const s = Math.fround((accOut[i] = acc[i]! + gi * gi))
            out[i] = gi / Math.sqrt(s + eps)
          }
        },
      )
      return { updates: r.updates, state: r.states }
    },
  }
}
