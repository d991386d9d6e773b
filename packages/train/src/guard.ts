import type { Callback } from './callbacks.js'

/**
 * Options of {@link divergenceGuard}.
 * @category Callbacks
 */
export interface DivergenceGuardOptions {
  /** How many times its running minimum the smoothed loss may reach. Default 4. */
  readonly factor?: number
  /** For how many consecutive steps it may stay there before training stops. Default 50. */
  readonly patience?: number
  /** Weight of the past in the smoothed loss: `s ← β·s + (1 − β)·loss`. Default 0.9. */
  readonly smoothing?: number
}

/**
 * The state of {@link divergenceGuard}: the smoothed loss, its running minimum, and how many
 * steps in a row it has been above `factor` times that minimum.
 * @category Callbacks
 */
export interface DivergenceGuardState {
  /** The smoothed loss so far (undefined before the first step). */
  readonly smoothed: number | undefined
  /** Its running minimum. */
  readonly best: number
  /** Consecutive steps with `smoothed > factor · best`. */
  readonly above: number
}

/**
 * Stops training when the loss diverges: when its exponential moving average stays above
 * `factor` times its running minimum for `patience` consecutive steps (a learning rate far
 * too large sends the loss up and keeps it there, without ever making it NaN).
 *
 * @remarks
 * `s₁ = loss₁`, `sₜ = β·sₜ₋₁ + (1 − β)·lossₜ`, `m = minₜ sₜ`; the count of steps with
 * `sₜ > factor·m` resets on any step below. It is a fault, like a NaN loss: `fit` returns
 * the last model whose loss was finite, sets `history.fault`, and `pnpm train` (which turns
 * this guard on) exits with a non-zero status. Off by default in `fit`.
 * @param opts - `{ factor?, patience?, smoothing? }`
 * @returns a callback for `fit`'s `callbacks`
 * @example
 * ```ts
 * import { divergenceGuard } from '@purenn/train'
 * const guard = divergenceGuard({ factor: 2, patience: 2, smoothing: 0 })
 * let s = guard.init()
 * const verdicts = [1, 3, 3].map((loss, i) => {
 *   const v = guard.onBatchEnd!(s, { epoch: 0, step: i + 1, steps: 3, loss })
 *   s = v.state
 *   return v.stop === true
 * })
 * console.log(verdicts) // [ false, false, true ]
 * ```
 * @category Callbacks
 */
export const divergenceGuard = (opts: DivergenceGuardOptions = {}): Callback<DivergenceGuardState> => {
  const factor = opts.factor ?? 4
  const patience = opts.patience ?? 50
  const beta = opts.smoothing ?? 0.9
  if (!(factor > 1)) throw new Error(`divergenceGuard: factor must be > 1, got ${factor}`)
  if (!Number.isInteger(patience) || patience < 1)
    throw new Error(`divergenceGuard: patience must be a positive integer, got ${patience}`)
  if (!(beta >= 0 && beta < 1)) throw new Error(`divergenceGuard: smoothing must be in [0, 1), got ${beta}`)
  return {
    name: 'divergenceGuard',
    init: () => ({ smoothed: undefined, best: Number.POSITIVE_INFINITY, above: 0 }),
    onBatchEnd: (s, b) => {
      if (!Number.isFinite(b.loss)) return { state: s } // terminateOnNaN's business
      const smoothed = s.smoothed === undefined ? b.loss : beta * s.smoothed + (1 - beta) * b.loss
      const best = Math.min(s.best, smoothed)
      const above = smoothed > factor * best ? s.above + 1 : 0
      const state = { smoothed, best, above }
      return above >= patience
        ? {
            state,
            stop: true,
            fault: true,
            message: `Epoch ${b.epoch + 1}, step ${b.step}/${b.steps}: the loss diverged (smoothed ${smoothed.toPrecision(4)}, more than ${factor}x its minimum ${best.toPrecision(4)} for ${patience} steps), terminating training; try a smaller learning rate or gradient clipping`,
          }
        : { state }
    },
  }
}
