// Keras 3's optimizer variables in `model.weights.h5` (`optimizer/vars/<i>`), per class, as
// Keras 3.15 writes them (checked with scripts/fixtures/keras-fixtures.py write-optimizer(s)):
// `iterations` (int64) and `learning_rate` first, then the slots, then scalar extras.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/** Where a class keeps its variables after `iterations` and `learning_rate`. */
export interface KerasOptimizerLayout {
  /** Slot names (Keras 3's), in Keras' order. */
  readonly slots: readonly string[]
  /**
   * `true`: all weights' first slot, then all weights' second slot (RMSprop adds each kind in
   * its own `add_optimizer_variables` call); `false`: each weight's slots together (Adam: m0,
   * v0, m1, v1, ...).
   */
  readonly perSlot: boolean
  /** Scalar variables after the slots, with their initial values (Nadam's `u_product`, 1). */
  readonly scalars: readonly (readonly [string, number])[]
}

/** Keras 3.15's default config of each class whose variables purenn reads and writes. */
export const kerasOptimizerDefaults: { readonly [className: string]: { readonly [k: string]: Json } } = {
  Adam: { name: 'adam', learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false },
  SGD: { name: 'sgd', learning_rate: 0.01, momentum: 0, nesterov: false },
  RMSprop: { name: 'rmsprop', learning_rate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false },
  Nadam: { name: 'nadam', learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 },
  Adamax: { name: 'adamax', learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 },
}

/** The classes whose variables are read and written, for messages. */
export const kerasOptimizerClasses = Object.keys(kerasOptimizerDefaults).join(', ')

/**
 * The layout of a class's variables for its config (Keras' defaults filled in), or a message
 * saying why purenn does not handle them.
 */
export const kerasOptimizerLayout = (
  className: string,
  given: { readonly [k: string]: unknown },
): KerasOptimizerLayout | string => {
  const defaults = kerasOptimizerDefaults[className]
  if (defaults === undefined) return `purenn reads and writes the variables of ${kerasOptimizerClasses}`
  const c = { ...defaults, ...given }
  const positive = (k: string) => typeof c[k] === 'number' && (c[k] as number) > 0
  switch (className) {
    case 'Adam':
      if (c.amsgrad === true) return 'Adam with amsgrad: its velocity_hat variables are not read or written'
      return { slots: ['momentum', 'velocity'], perSlot: false, scalars: [] }
    case 'SGD':
      return { slots: positive('momentum') ? ['momentum'] : [], perSlot: false, scalars: [] }
    case 'RMSprop':
      return {
        slots: [
          'velocity',
          ...(positive('momentum') ? ['momentum'] : []),
          ...(c.centered === true ? ['average_gradient'] : []),
        ],
        perSlot: true,
        scalars: [],
      }
    case 'Nadam':
      return { slots: ['momentum', 'velocity'], perSlot: false, scalars: [['u_product', 1]] }
    default:
      // Adamax
      return { slots: ['momentum', 'norm'], perSlot: false, scalars: [] }
  }
}

/** Index in `optimizer/vars` of slot `j` of trainable weight `i` (k trainable weights). */
export const slotIndex = (layout: KerasOptimizerLayout, k: number, i: number, j: number): number =>
  2 + (layout.perSlot ? j * k + i : i * layout.slots.length + j)
