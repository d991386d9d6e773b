import { finite, nonNegative, positive } from './internal/check.js'

/**
 * A learning-rate schedule: a pure function of the step count (0 at the first update), as
 * Keras' `LearningRateSchedule.__call__(step)` and Optax's schedules.
 * @category Schedules
 */
export type Schedule = (step: number) => number

/**
 * A learning rate: a constant or a {@link Schedule}.
 * @category Schedules
 */
export type LearningRate = number | Schedule

/**
 * Options of {@link exponentialDecay} (Keras' `ExponentialDecay`).
 * @category Schedules
 */
export interface ExponentialDecayOptions {
  /** The learning rate at step 0. */
  readonly initialLearningRate: number
  /** Number of steps over which the rate is multiplied by `decayRate`. */
  readonly decaySteps: number
  /** The factor applied every `decaySteps` steps. */
  readonly decayRate: number
  /** When true, decay in discrete intervals: `floor(step / decaySteps)`. Default false. */
  readonly staircase?: boolean
}

/**
 * Exponential decay: $\mathrm{initialLearningRate} \cdot \mathrm{decayRate}^{\mathrm{step} / \mathrm{decaySteps}}$ (Keras'
 * `ExponentialDecay`).
 *
 * @remarks
 * With `staircase: true` the exponent is $\lfloor \mathrm{step} / \mathrm{decaySteps} \rfloor$, so the rate drops by
 * `decayRate` every `decaySteps` steps. The chapter's "exponential scheduling"
 * $\eta(t) = \eta_0 \cdot 0.1^{t/s}$ is `decayRate: 0.1, decaySteps: s`.
 *
 * @returns the schedule
 * @example
 * ```ts
 * import { exponentialDecay } from '@purenn/optim'
 * const lr = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 })
 * console.log(lr(0), lr(10), lr(20)) // 0.1 0.05 0.025
 * const stairs = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true })
 * console.log(stairs(9), stairs(10)) // 0.1 0.05
 * ```
 * @category Schedules
 */
export const exponentialDecay = (o: ExponentialDecayOptions): Schedule => {
  const lr0 = finite('exponentialDecay', 'initialLearningRate', o.initialLearningRate)
  const steps = positive('exponentialDecay', 'decaySteps', o.decaySteps)
  const rate = nonNegative('exponentialDecay', 'decayRate', o.decayRate)
  const staircase = o.staircase ?? false
  return (step) => {
    const p = step / steps
    return lr0 * rate ** (staircase ? Math.floor(p) : p)
  }
}

/**
 * A piecewise-constant schedule (Keras' `PiecewiseConstantDecay`).
 *
 * @remarks
 * `values[0]` while `step ≤ boundaries[0]`, `values[i]` while
 * `boundaries[i−1] < step ≤ boundaries[i]`, and `values[n]` once `step > boundaries[n−1]`.
 * Boundaries must increase strictly and there must be one more value than boundaries.
 *
 * @param boundaries - the step counts at which the rate changes (strictly increasing)
 * @param values - the rates, one more than the boundaries
 * @returns the schedule
 * @throws RangeError when the lengths or the order are wrong.
 * @example
 * ```ts
 * import { piecewiseConstant } from '@purenn/optim'
 * const lr = piecewiseConstant([5, 15], [0.01, 0.005, 0.001])
 * console.log(lr(5), lr(6), lr(15), lr(16)) // 0.01 0.005 0.005 0.001
 * ```
 * @category Schedules
 */
export const piecewiseConstant = (boundaries: readonly number[], values: readonly number[]): Schedule => {
  if (values.length !== boundaries.length + 1)
    throw new RangeError(
      `piecewiseConstant: expected ${boundaries.length + 1} values for ${boundaries.length} boundaries, got ${values.length}`,
    )
  boundaries.forEach((b, i) => {
    finite('piecewiseConstant', `boundaries[${i}]`, b)
    if (i > 0 && !(b > boundaries[i - 1]!))
      throw new RangeError(
        `piecewiseConstant: boundaries must increase strictly, got ${boundaries.join(', ')}`,
      )
  })
  const bs = [...boundaries]
  const vs = [...values]
  return (step) => {
    let i = 0
    while (i < bs.length && step > bs[i]!) i++
    return vs[i]!
  }
}

/**
 * Options of {@link cosineDecay} (Keras' `CosineDecay`).
 * @category Schedules
 */
export interface CosineDecayOptions {
  /** The learning rate at step 0 (the start of the warmup when there is one). */
  readonly initialLearningRate: number
  /** Number of steps of the cosine decay (after the warmup). */
  readonly decaySteps: number
  /** The final rate as a fraction of the rate the decay starts from. Default 0. */
  readonly alpha?: number
  /** Number of steps of linear warmup from `initialLearningRate` to `warmupTarget`. Default 0. */
  readonly warmupSteps?: number
  /** The rate reached at the end of the warmup; no warmup when omitted (Keras' default `None`). */
  readonly warmupTarget?: number
}

/**
 * Cosine decay with optional linear warmup (Keras' `CosineDecay`; Loshchilov & Hutter 2017,
 * "SGDR", without restarts).
 *
 * @remarks
 * Without warmup: with $s = \min(\mathrm{step}, \mathrm{decaySteps})$,
 *
 * $$
 * \mathrm{lr} = \mathrm{initialLearningRate} \cdot \left((1 - \alpha) \cdot \tfrac{1}{2}\left(1 + \cos\frac{\pi s}{\mathrm{decaySteps}}\right) + \alpha\right)
 * $$
 *
 * with $\alpha$ = `alpha`.
 *
 * With `warmupTarget` and `warmupSteps`: for `step < warmupSteps` the rate goes linearly
 * from `initialLearningRate` to `warmupTarget`
 * ($\mathrm{initialLearningRate} + (\mathrm{warmupTarget} - \mathrm{initialLearningRate}) \cdot \mathrm{step} / \mathrm{warmupSteps}$), then
 * decays as above from `warmupTarget` over `decaySteps` more steps (step counted from the
 * end of the warmup), and stays at `alpha · warmupTarget` afterwards.
 *
 * @returns the schedule
 * @example
 * ```ts
 * import { cosineDecay } from '@purenn/optim'
 * const lr = cosineDecay({ initialLearningRate: 1, decaySteps: 100, alpha: 0.1 })
 * console.log(lr(0), lr(50), lr(100), lr(1000)) // 1 0.55 0.1 0.1
 * const warm = cosineDecay({ initialLearningRate: 0, warmupTarget: 1, warmupSteps: 10, decaySteps: 100 })
 * console.log(warm(5), warm(10)) // 0.5 1
 * ```
 * @category Schedules
 */
export const cosineDecay = (o: CosineDecayOptions): Schedule => {
  const lr0 = finite('cosineDecay', 'initialLearningRate', o.initialLearningRate)
  const steps = positive('cosineDecay', 'decaySteps', o.decaySteps)
  const alpha = finite('cosineDecay', 'alpha', o.alpha ?? 0)
  const decay = (s: number, from: number): number =>
    from * ((1 - alpha) * 0.5 * (1 + Math.cos((Math.PI * s) / steps)) + alpha)
  if (o.warmupTarget === undefined) return (step) => decay(Math.min(step, steps), lr0)
  const target = finite('cosineDecay', 'warmupTarget', o.warmupTarget)
  const warmup = nonNegative('cosineDecay', 'warmupSteps', o.warmupSteps ?? 0)
  return (step) => {
    const s = Math.min(step, steps + warmup)
    return s < warmup ? lr0 + ((target - lr0) * s) / warmup : decay(s - warmup, target)
  }
}

/**
 * Options of {@link oneCycle}.
 * @category Schedules
 */
export interface OneCycleOptions {
  /** Total number of steps of training (epochs × steps per epoch). */
  readonly totalSteps: number
  /** The peak rate, reached halfway through the two linear phases. */
  readonly maxLearningRate: number
  /** The rate at step 0 and at the end of the second phase. Default `maxLearningRate / 10`. */
  readonly startLearningRate?: number
  /** Length of the final annihilation phase. Default `floor(totalSteps / 10) + 1`. */
  readonly lastSteps?: number
  /** The rate at the end of training. Default `startLearningRate / 1000`. */
  readonly lastLearningRate?: number
}

/**
 * The 1cycle schedule (Smith 2018, "A disciplined approach to neural network
 * hyper-parameters"), as in the chapter's `OneCycleScheduler`.
 *
 * @remarks
 * With $T$ = `totalSteps`, $L$ = `lastSteps`, $h = \lfloor (T - L) / 2 \rfloor$, $\eta_0$ = `startLearningRate`,
 * $\eta_1$ = `maxLearningRate`, $\eta_L$ = `lastLearningRate` and $s = \min(\mathrm{step}, T)$:
 *
 * $$
 * \eta(s) = \begin{cases}
 * \eta_0 + (\eta_1 - \eta_0)\, s / h & s < h \text{ (up from } \eta_0 \text{ to } \eta_1\text{)} \\
 * \eta_1 + (\eta_0 - \eta_1)\, (s - h) / h & h \le s < 2h \text{ (down from } \eta_1 \text{ to } \eta_0\text{)} \\
 * \eta_0 + (\eta_L - \eta_0)\, (s - 2h) / (T - 2h) & 2h \le s \text{ (annihilation, down to } \eta_L\text{)}
 * \end{cases}
 * $$
 *
 * and the rate stays at $\eta_L$ after $T$.
 *
 * The momentum cycling Smith also recommends is not part of this schedule.
 *
 * @returns the schedule
 * @example
 * ```ts
 * import { oneCycle } from '@purenn/optim'
 * const lr = oneCycle({ totalSteps: 100, maxLearningRate: 0.1 })
 * // lastSteps 11, h = 44: up over steps 0..44, down over 44..88, annihilation over 88..100
 * console.log(lr(0), lr(44), lr(88), lr(100).toExponential(2)) // 0.01 0.1 0.01 1.00e-5
 * ```
 * @category Schedules
 */
export const oneCycle = (o: OneCycleOptions): Schedule => {
  const total = positive('oneCycle', 'totalSteps', o.totalSteps)
  const max = finite('oneCycle', 'maxLearningRate', o.maxLearningRate)
  const start = finite('oneCycle', 'startLearningRate', o.startLearningRate ?? max / 10)
  const lastSteps = positive('oneCycle', 'lastSteps', o.lastSteps ?? Math.floor(total / 10) + 1)
  const last = finite('oneCycle', 'lastLearningRate', o.lastLearningRate ?? start / 1000)
  if (lastSteps > total)
    throw new RangeError(`oneCycle: lastSteps (${lastSteps}) exceeds totalSteps (${total})`)
  const half = Math.floor((total - lastSteps) / 2)
  const lerp = (s: number, s1: number, s2: number, a: number, b: number): number =>
    a + ((b - a) * (s - s1)) / (s2 - s1)
  return (step) => {
    const s = Math.min(step, total)
    if (s < half) return lerp(s, 0, half, start, max)
    if (s < 2 * half) return lerp(s, half, 2 * half, max, start)
    return lerp(s, 2 * half, total, start, last)
  }
}

/**
 * Options of {@link inverseTimeDecay} (Keras' `InverseTimeDecay`).
 * @category Schedules
 */
export interface InverseTimeDecayOptions {
  /** The learning rate at step 0. */
  readonly initialLearningRate: number
  /** The number of steps `s` of the formula. */
  readonly decaySteps: number
  /** The rate `k` of the formula. */
  readonly decayRate: number
  /** When true, decay in discrete intervals: `floor(step / decaySteps)`. Default false. */
  readonly staircase?: boolean
}

/**
 * Inverse time decay, the chapter's *power scheduling* with power 1:
 * $\mathrm{initialLearningRate} / (1 + \mathrm{decayRate} \cdot \mathrm{step} / \mathrm{decaySteps})$ (Keras' `InverseTimeDecay`).
 *
 * @remarks
 * The chapter's power scheduling $\eta(t) = \eta_0 / (1 + t/s)^c$ with $c = 1$ is
 * `decayRate: 1, decaySteps: s`: the rate halves after $s$ steps, is a third after $2s$, and
 * so on, dropping quickly first and more and more slowly. With `staircase: true` the ratio
 * `step / decaySteps` is floored. (For `c ≠ 1` write the schedule directly:
 * `(step) => lr0 / (1 + step / s) ** c` is a {@link Schedule} too.)
 *
 * @returns the schedule
 * @throws RangeError when `decaySteps` is not positive or a value is not finite
 * @example
 * ```ts
 * import { inverseTimeDecay } from '@purenn/optim'
 * const lr = inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 1 })
 * console.log(lr(0), lr(10), lr(20).toFixed(4)) // 0.1 0.05 0.0333
 * ```
 * @category Schedules
 */
export const inverseTimeDecay = (o: InverseTimeDecayOptions): Schedule => {
  const lr0 = finite('inverseTimeDecay', 'initialLearningRate', o.initialLearningRate)
  const steps = positive('inverseTimeDecay', 'decaySteps', o.decaySteps)
  const rate = nonNegative('inverseTimeDecay', 'decayRate', o.decayRate)
  const staircase = o.staircase ?? false
  return (step) => {
    const p = step / steps
    return lr0 / (1 + rate * (staircase ? Math.floor(p) : p))
  }
}

/**
 * Options of {@link polynomialDecay} (Keras' `PolynomialDecay`).
 * @category Schedules
 */
export interface PolynomialDecayOptions {
  /** The learning rate at step 0. */
  readonly initialLearningRate: number
  /** The number of steps to go from the initial to the end learning rate. */
  readonly decaySteps: number
  /** The learning rate reached after `decaySteps` steps. Default 0.0001 (Keras). */
  readonly endLearningRate?: number
  /** The power of the polynomial. Default 1 (a straight line). */
  readonly power?: number
  /** Start again after `decaySteps`, with a longer period (see the remarks). Default false. */
  readonly cycle?: boolean
}

/**
 * Polynomial decay from `initialLearningRate` to `endLearningRate` over `decaySteps` steps
 * (Keras' `PolynomialDecay`).
 *
 * @remarks
 * $(\mathrm{lr}_0 - \mathrm{lr}_\mathrm{end}) (1 - s/D)^\mathrm{power} + \mathrm{lr}_\mathrm{end}$ with $\mathrm{lr}_0$ = `initialLearningRate` and
 * $s = \min(\mathrm{step}, D)$: after $D$ = `decaySteps` steps the rate stays at $\mathrm{lr}_\mathrm{end}$ (`endLearningRate`). With `cycle: true`,
 * $D$ becomes $\mathrm{decaySteps} \cdot \lceil \mathrm{step} / \mathrm{decaySteps} \rceil$ (1 at step 0), so the rate jumps back up at each multiple of
 * `decaySteps` and decays again over a longer period, as Keras does.
 *
 * @returns the schedule
 * @throws RangeError when `decaySteps` is not positive or a value is not finite
 * @example
 * ```ts
 * import { polynomialDecay } from '@purenn/optim'
 * const lr = polynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 0.01 })
 * console.log(lr(0), lr(5).toFixed(3), lr(10), lr(50)) // 0.1 0.055 0.01 0.01
 * ```
 * @category Schedules
 */
export const polynomialDecay = (o: PolynomialDecayOptions): Schedule => {
  const lr0 = finite('polynomialDecay', 'initialLearningRate', o.initialLearningRate)
  const steps = positive('polynomialDecay', 'decaySteps', o.decaySteps)
  const end = finite('polynomialDecay', 'endLearningRate', o.endLearningRate ?? 0.0001)
  const power = finite('polynomialDecay', 'power', o.power ?? 1)
  const cycle = o.cycle ?? false
  return (step) => {
    const d = cycle ? steps * (step === 0 ? 1 : Math.ceil(step / steps)) : steps
    const s = cycle ? step : Math.min(step, steps)
    return (lr0 - end) * (1 - s / d) ** power + end
  }
}
