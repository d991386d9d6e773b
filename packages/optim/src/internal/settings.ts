/**
 * The options of the scalings, checked and with their defaults, and the scalars each step
 * computes from them: written once, so that a transformation's `update` and the fused step
 * of the optimizer built on it (internal/steps.ts) use the very same numbers.
 */

import type { ScaleByAdagradOptions, ScaleByAdamOptions, ScaleByNadamOptions } from '../adam.js'
import type { ScaleByAdamaxOptions, ScaleByNesterovAdamOptions } from '../adamax.js'
import type { TraceMomentumOptions } from '../momentum.js'
import type { ScaleByRmsOptions } from '../rms.js'
import { nonNegative, unitInterval } from './check.js'

/** `scaleByAdam`'s options, checked. */
export const adamSettings = (op: string, o: ScaleByAdamOptions) => ({
  b1: unitInterval(op, 'beta1', o.beta1 ?? 0.9),
  b2: unitInterval(op, 'beta2', o.beta2 ?? 0.999),
  eps: nonNegative(op, 'epsilon', o.epsilon ?? 1e-7),
  amsgrad: o.amsgrad ?? false,
  epsRoot: nonNegative(op, 'epsRoot', o.epsRoot ?? 0),
})
export type AdamSettings = ReturnType<typeof adamSettings>

/** Adam's step `t` and scalars after `count` updates: `c = √(1 − b2^t) / (1 − b1^t)`, `er = epsRoot·(1 − b2^t)`. */
export const adamScalars = ({ b1, b2, epsRoot }: AdamSettings, count: number) => {
  const t = count + 1
  return { t, c: Math.sqrt(1 - b2 ** t) / (1 - b1 ** t), er: epsRoot * (1 - b2 ** t) }
}

/** `scaleByNadam`'s options, checked. */
export const nadamSettings = (op: string, o: ScaleByNadamOptions) => ({
  b1: unitInterval(op, 'beta1', o.beta1 ?? 0.9),
  b2: unitInterval(op, 'beta2', o.beta2 ?? 0.999),
  eps: nonNegative(op, 'epsilon', o.epsilon ?? 1e-7),
})
export type NadamSettings = ReturnType<typeof nadamSettings>

/** Keras' Nadam scalars after `count` updates with the momentum product `muProduct`. */
export const nadamScalars = ({ b1, b2 }: NadamSettings, count: number, muProduct: number) => {
  const schedule = (t: number): number => b1 * (1 - 0.5 * 0.96 ** t)
  const t = count + 1
  const ut = schedule(t)
  const ut1 = schedule(t + 1)
  const prod = muProduct * ut
  return { t, prod, cm: ut1 / (1 - prod * ut1), cg: (1 - ut) / (1 - prod), cv: 1 / (1 - b2 ** t) }
}

/** `scaleByNesterovAdam`'s options, checked. */
export const nesterovAdamSettings = (op: string, o: ScaleByNesterovAdamOptions) => ({
  b1: unitInterval(op, 'beta1', o.beta1 ?? 0.9),
  b2: unitInterval(op, 'beta2', o.beta2 ?? 0.999),
  eps: nonNegative(op, 'epsilon', o.epsilon ?? 1e-8),
  epsRoot: nonNegative(op, 'epsRoot', o.epsRoot ?? 0),
})
export type NesterovAdamSettings = ReturnType<typeof nesterovAdamSettings>

/** Optax's Nadam scalars after `count` updates. */
export const nesterovAdamScalars = ({ b1, b2 }: NesterovAdamSettings, count: number) => {
  const t = count + 1
  return { t, cm: b1 / (1 - b1 ** (t + 1)), cg: (1 - b1) / (1 - b1 ** t), cv: 1 / (1 - b2 ** t) }
}

/** `scaleByAdamax`'s options, checked. */
export const adamaxSettings = (op: string, o: ScaleByAdamaxOptions) => ({
  b1: unitInterval(op, 'beta1', o.beta1 ?? 0.9),
  b2: unitInterval(op, 'beta2', o.beta2 ?? 0.999),
  eps: nonNegative(op, 'epsilon', o.epsilon ?? 1e-7),
})
export type AdamaxSettings = ReturnType<typeof adamaxSettings>

/** Adamax's step `t` and `c = 1 / (1 − b1^t)` after `count` updates. */
export const adamaxScalars = ({ b1 }: AdamaxSettings, count: number) => {
  const t = count + 1
  return { t, c: 1 / (1 - b1 ** t) }
}

/** `scaleByRms`'s options, checked. */
export const rmsSettings = (op: string, o: ScaleByRmsOptions) => ({
  rho: unitInterval(op, 'rho', o.rho ?? 0.9),
  eps: nonNegative(op, 'epsilon', o.epsilon ?? 1e-7),
  centered: o.centered ?? false,
})
export type RmsSettings = ReturnType<typeof rmsSettings>

/** `scaleByAdagrad`'s options, checked. */
export const adagradSettings = (op: string, o: ScaleByAdagradOptions) => ({
  init: nonNegative(op, 'initialAccumulatorValue', o.initialAccumulatorValue ?? 0.1),
  eps: nonNegative(op, 'epsilon', o.epsilon ?? 1e-7),
})
export type AdagradSettings = ReturnType<typeof adagradSettings>

/** `traceMomentum`'s options, checked. */
export const momentumSettings = (op: string, o: TraceMomentumOptions) => ({
  mu: unitInterval(op, 'decay', o.decay),
  nesterov: o.nesterov ?? false,
})
export type MomentumSettings = ReturnType<typeof momentumSettings>
