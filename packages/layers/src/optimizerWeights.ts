import type { Tree } from '@purenn/tensor'
import type { Json } from './layer.js'

// An optimizer's variables as file formats store them (TF.js weights manifests, Keras 3
// `.keras` files), in a form that knows neither format nor `@purenn/optim` (layers and optim do
// not import each other): `@purenn/optim` converts its states to and from this shape.

/**
 * An optimizer's variables, as TF.js and Keras store them next to a model: the class, the
 * number of updates done, and one tree per slot variable, shaped like the model's `params`.
 *
 * @remarks
 * Slots carry Keras 3's names: Adam's first and second moments are `momentum` and `velocity`
 * (TF.js calls them `m` and `v`), SGD's velocity is `momentum`. A slot tree has a leaf for each
 * trainable weight of the model (a leaf of a frozen layer is ignored when written).
 * `@purenn/optim` turns its states into this (`adamWeights`, `sgdWeights`) and back
 * (`restoreAdamState`, `restoreSgdState`).
 *
 * @example
 * ```ts
 * import type { OptimizerWeights } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * const w: OptimizerWeights = {
 *   className: 'Adam',
 *   iterations: 1,
 *   slots: { momentum: { dense: { kernel: tensor([0.1]) } }, velocity: { dense: { kernel: tensor([0.01]) } } },
 * }
 * console.log(Object.keys(w.slots)) // [ 'momentum', 'velocity' ]
 * ```
 * @category Models
 */
export interface OptimizerWeights {
  /** Keras' class name: `'Adam'`, `'SGD'`, ... */
  readonly className: string
  /** Updates done so far (Keras' `optimizer.iterations`, TF.js's `iter`). */
  readonly iterations: number
  /** Keras' optimizer config (`learning_rate`, `beta_1`, ...), written where the format has a place for it. */
  readonly config?: { readonly [k: string]: unknown }
  /** One tree per slot variable (Keras 3's names), shaped like the model's params. */
  readonly slots: { readonly [slot: string]: Tree }
  /** Scalar variables besides `iterations`, by Keras 3's name (Nadam's `u_product`). */
  readonly scalars?: { readonly [name: string]: number }
}

/** Keras 3 slot name -> TF.js 4.22 slot name, per optimizer class TF.js and purenn share. */
export const tfjsSlotNames: {
  readonly [className: string]: { readonly [kerasSlot: string]: string }
} = {
  Adam: { momentum: 'm', velocity: 'v' },
  SGD: {},
}

/** Keras 3 config of an optimizer -> TF.js's `optimizer_config.config` (camelCase, as TF.js writes it). */
export const tfjsOptimizerConfig = (w: OptimizerWeights): { readonly [k: string]: Json } => {
  const c = w.config ?? {}
  const pick = (k: string, d: number): Json => (typeof c[k] === 'number' ? c[k] : d)
  return w.className === 'Adam'
    ? {
        learningRate: pick('learning_rate', 0.001),
        beta1: pick('beta_1', 0.9),
        beta2: pick('beta_2', 0.999),
        epsilon: pick('epsilon', 1e-7),
      }
    : { learningRate: pick('learning_rate', 0.01) }
}
