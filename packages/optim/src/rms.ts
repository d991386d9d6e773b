import type { Tree } from '@purenn/tensor'
import { rmsInto } from '@purenn/tensor/internal'
import { perLeaf, zerosTree } from './internal/leaves.js'
import { rmsSettings } from './internal/settings.js'
import type { GradientTransformation } from './transform.js'

/**
 * Options of {@link scaleByRms}.
 * @category Adaptive scaling
 */
export interface ScaleByRmsOptions {
  /** Decay of the moving average of squared gradients. Default 0.9 (Keras' `rho`). */
  readonly rho?: number
  /** Added inside the square root. Default 1e-7 (Keras). */
  readonly epsilon?: number
  /** Divide by an estimate of the variance instead of the second moment. Default false. */
  readonly centered?: boolean
}

/**
 * The state of {@link scaleByRms}.
 * @category Adaptive scaling
 */
export interface ScaleByRmsState {
  /** Moving average of the squared gradients (Keras' `velocity`). */
  readonly nu: Tree
  /** Moving average of the gradients (Keras' `average_gradient`); only when centered. */
  readonly mu?: Tree
}

/**
 * Divides the gradients by the root of a moving average of their squares: the RMSprop
 * scaling (Hinton, Srivastava & Swersky 2012, Neural Networks for Machine Learning,
 * lecture 6e; Graves 2013 for the centered form).
 *
 * @remarks
 * $\nu \leftarrow \rho \nu + (1 - \rho)\, g^2$ and $u \leftarrow g / \sqrt{\nu + \varepsilon}$, with $\varepsilon$ inside the square root as in
 * Keras 3 (tf.keras 2.x put it outside, $g / (\sqrt{\nu} + \varepsilon)$, when `momentum = 0`). Centered:
 * $m \leftarrow \rho m + (1 - \rho)\, g$ and $u \leftarrow g / \sqrt{\nu - m^2 + \varepsilon}$. The learning rate and momentum come after
 * it in the chain ({@link rmsprop}). One fused loop per leaf.
 *
 * @param options - `rho`, `epsilon`, `centered`
 * @returns the transformation
 * @example
 * ```ts
 * import { scaleByRms } from '@purenn/optim'
 * import { tensor, tree } from '@purenn/tensor'
 * const tx = scaleByRms({ rho: 0.75, epsilon: 0 })
 * const g = { w: tensor([2]) }
 * const { updates, state } = tx.update(g, tx.init(g), g)
 * // ν = 0.25 · 4 = 1, u = 2 / √1
 * console.log(updates.w.toString(), String(tree.leaves(state.nu)[0])) // tensor([2]) tensor([1])
 * ```
 * @category Adaptive scaling
 */
export const scaleByRms = (options: ScaleByRmsOptions = {}): GradientTransformation<ScaleByRmsState> => {
  const { rho, eps, centered } = rmsSettings('scaleByRms', options)
  return {
    init: (params) =>
      centered ? { nu: zerosTree(params), mu: zerosTree(params) } : { nu: zerosTree(params) },
    update: (grads, state) => {
      if (centered) {
        const r = perLeaf(
          'scaleByRms',
          grads,
          { nu: state.nu, mu: state.mu ?? {} },
          (gs, { nu, mu }, out, { nu: nuOut, mu: muOut }) => {
            // large leaves: the WebAssembly kernel (bitwise this loop) first
            const start = rmsInto(gs, nu, mu, nuOut, muOut, out, rho, eps)
            for (let i = start; i < gs.length; i++) {
              const gi = gs[i]!
              const v = Math.fround((nuOut[i] = rho * nu[i]! + (1 - rho) * gi * gi))
              const m = Math.fround((muOut[i] = rho * mu[i]! + (1 - rho) * gi))
              out[i] = gi / Math.sqrt(v - m * m + eps)
            }
          },
        )
        return { updates: r.updates, state: r.states }
      }
      const r = perLeaf('scaleByRms', grads, { nu: state.nu }, (gs, { nu }, out, { nu: nuOut }) => {
        const start = rmsInto(gs, nu, undefined, nuOut, undefined, out, rho, eps)
        for (let i = start; i < gs.length; i++) {
          const gi = gs[i]!
          const v = Math.fround((nuOut[i] = rho * nu[i]! + (1 - rho) * gi * gi))
          out[i] = gi / Math.sqrt(v + eps)
        }
      })
      return { updates: r.updates, state: r.states }
    },
  }
}
