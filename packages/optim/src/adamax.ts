import type { Tree } from '@purenn/tensor'
import { perLeaf, zerosTree } from './internal/leaves.js'
import {
  adamaxScalars,
  adamaxSettings,
  nesterovAdamScalars,
  nesterovAdamSettings,
} from './internal/settings.js'
import type { GradientTransformation } from './transform.js'

/**
 * Options of {@link scaleByAdamax}.
 * @category Adaptive scaling
 */
export interface ScaleByAdamaxOptions {
  /** Decay of the first-moment estimate. Default 0.9 (Keras' `beta_1`). */
  readonly beta1?: number
  /** Decay of the exponentially weighted infinity norm. Default 0.999 (Keras' `beta_2`). */
  readonly beta2?: number
  /** Added to the infinity norm `u`. Default 1e-7 (Keras). */
  readonly epsilon?: number
}

/**
 * The state of {@link scaleByAdamax}.
 * @category Adaptive scaling
 */
export interface ScaleByAdamaxState {
  /** Number of updates done. */
  readonly count: number
  /** First-moment estimate `m` (Keras' `m`). */
  readonly mu: Tree
  /** Exponentially weighted infinity norm `u` (Keras' `u`). */
  readonly nu: Tree
}

/**
 * The Adamax scaling, Keras' form (Kingma & Ba 2015, section 7.1: Adam with the infinity
 * norm in place of the L2 norm).
 *
 * @remarks
 * With $t$ the step (1 at the first update):
 *
 * $$
 * \begin{aligned}
 * m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
 * u &\leftarrow \max(\beta_2 u, \lvert g \rvert) \\
 * \Delta &\leftarrow \frac{m}{(1 - \beta_1^t)(u + \varepsilon)}
 * \end{aligned}
 * $$
 *
 * Times $-\mathrm{lr}$ (the next link of the chain) this is Keras' `Adamax` update. (Optax's
 * `scale_by_adamax` puts $\varepsilon$ inside the max, $u \leftarrow \max(\beta_2 u, \lvert g \rvert + \varepsilon)$,
 * with $\varepsilon = 10^{-8}$ by default; the two agree to about $\varepsilon / \lvert g \rvert$.) No bias
 * correction is needed for `u`: a maximum is not biased toward 0 as an average is.
 *
 * @param options - `beta1`, `beta2`, `epsilon`
 * @returns the transformation
 * @example
 * ```ts
 * import { scaleByAdamax } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = scaleByAdamax({ epsilon: 0 })
 * const g = { w: tensor([0.5, -3]) }
 * const { updates, state } = tx.update(g, tx.init(g), g)
 * // the first step is sign(g): m = 0.1·g, u = |g|, 0.1·g/(0.1·|g|)
 * console.log(updates.w.toString(), state.count) // tensor([1, -1]) 1
 * ```
 * @category Adaptive scaling
 */
export const scaleByAdamax = (
  options: ScaleByAdamaxOptions = {},
): GradientTransformation<ScaleByAdamaxState> => {
  const settings = adamaxSettings('scaleByAdamax', options)
  const { b1, b2, eps } = settings
  return {
    init: (params) => ({ count: 0, mu: zerosTree(params), nu: zerosTree(params) }),
    update: (grads, state) => {
      const { t, c } = adamaxScalars(settings, state.count)
      const r = perLeaf(
        'scaleByAdamax',
        grads,
        { mu: state.mu, nu: state.nu },
        (gs, { mu, nu }, out, { mu: muOut, nu: nuOut }) => {
          for (let i = 0; i < gs.length; i++) {
            const gi = gs[i]!
            const m = Math.fround((muOut[i] = b1 * mu[i]! + (1 - b1) * gi))
            const u = Math.fround((nuOut[i] = Math.max(b2 * nu[i]!, Math.abs(gi))))
            out[i] = (c * m) / (u + eps)
          }
        },
      )
      return { updates: r.updates, state: { count: t, ...r.states } }
    },
  }
}

/**
 * Options of {@link scaleByNesterovAdam}.
 * @category Adaptive scaling
 */
export interface ScaleByNesterovAdamOptions {
  /** Decay of the first-moment estimate. Default 0.9 (Optax's `b1`). */
  readonly beta1?: number
  /** Decay of the second-moment estimate. Default 0.999 (Optax's `b2`). */
  readonly beta2?: number
  /** Added to `√(v̂ + epsRoot)`. Default 1e-8 (Optax's `eps`). */
  readonly epsilon?: number
  /** Added to `v̂` inside the square root. Default 0 (Optax's `eps_root`). */
  readonly epsRoot?: number
}

/**
 * The state of {@link scaleByNesterovAdam}.
 * @category Adaptive scaling
 */
export interface ScaleByNesterovAdamState {
  /** Number of updates done. */
  readonly count: number
  /** First-moment estimate `m`. */
  readonly mu: Tree
  /** Second-moment estimate `v`. */
  readonly nu: Tree
}

/**
 * Optax's Nadam scaling: `scale_by_adam(..., nesterov=True)`, the simplified Nesterov
 * momentum of Dozat (2016) without Keras' momentum schedule.
 *
 * @remarks
 * With $t$ the step (1 at the first update):
 *
 * $$
 * \begin{aligned}
 * m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
 * v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
 * \hat{m} &= \frac{\beta_1 m}{1 - \beta_1^{t+1}} + \frac{(1 - \beta_1)\, g}{1 - \beta_1^t} \\
 * \hat{v} &= \frac{v}{1 - \beta_2^t} \\
 * \Delta &\leftarrow \frac{\hat{m}}{\sqrt{\hat{v} + \mathrm{epsRoot}} + \varepsilon}
 * \end{aligned}
 * $$
 *
 * **Keras' Nadam is different** ({@link scaleByNadam}): Keras (after Dozat's paper) warms
 * the momentum up with the schedule $\mu_t = \beta_1 (1 - \tfrac{1}{2} \cdot 0.96^t)$ and corrects with the product
 * of the `μ_i`, where Optax uses the constant `β1` and `1 − β1^t`; and Keras' default ε is
 * 1e-7, Optax's 1e-8. Early steps differ by several percent (at step 1 Keras' `μ_1 ≈ 0.468`,
 * Optax's `β1 = 0.9`); the two converge as `0.96^t → 0`. `nadam({ form: 'optax' })` uses
 * this scaling.
 *
 * @param options - `beta1`, `beta2`, `epsilon`, `epsRoot`
 * @returns the transformation
 * @example
 * ```ts
 * import { scaleByNesterovAdam } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = scaleByNesterovAdam({ epsilon: 0 })
 * const g = { w: tensor([2]) }
 * const { updates } = tx.update(g, tx.init(g), g)
 * // m̂ = 0.9·0.2/(1 − 0.81) + 0.1·2/0.1 = 2.947368, v̂ = 4
 * console.log(updates.w.toString()) // tensor([1.47368])
 * ```
 * @category Adaptive scaling
 */
export const scaleByNesterovAdam = (
  options: ScaleByNesterovAdamOptions = {},
): GradientTransformation<ScaleByNesterovAdamState> => {
  const settings = nesterovAdamSettings('scaleByNesterovAdam', options)
  const { b1, b2, eps, epsRoot } = settings
  return {
    init: (params) => ({ count: 0, mu: zerosTree(params), nu: zerosTree(params) }),
    update: (grads, state) => {
      const { t, cm, cg, cv } = nesterovAdamScalars(settings, state.count)
      const r = perLeaf(
        'scaleByNesterovAdam',
        grads,
        { mu: state.mu, nu: state.nu },
        (gs, { mu, nu }, out, { mu: muOut, nu: nuOut }) => {
          for (let i = 0; i < gs.length; i++) {
            const gi = gs[i]!
            const m = Math.fround((muOut[i] = b1 * mu[i]! + (1 - b1) * gi))
            const v = Math.fround((nuOut[i] = b2 * nu[i]! + (1 - b2) * gi * gi))
            out[i] = (cm * m + cg * gi) / (Math.sqrt(v * cv + epsRoot) + eps)
          }
        },
      )
      return { updates: r.updates, state: { count: t, ...r.states } }
    },
  }
}
