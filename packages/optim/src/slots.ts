import type { Tensor, Tree } from '@purenn/tensor'
import { neg, tree } from '@purenn/tensor'
import type { ScaleByNadamState } from './adam.js'
import type { AdamaxState, AdamState, NadamState, RmspropState, SgdState } from './alias.js'

// An optimizer state as the variables file formats keep (TF.js's weights manifest, Keras 3's
// `.keras`): the same shape as `@purenn/layers`' `OptimizerWeights`, written out here because
// optim and layers do not import each other.

/**
 * An optimizer's variables as TF.js and Keras store them: class, updates done, and one tree
 * per slot (Keras 3's names), shaped like the params. Structurally the same as
 * `OptimizerWeights` of `@purenn/layers`, which `saveTfjsModel` and `saveKerasModel` take.
 *
 * @example
 * ```ts
 * import { adam, adamWeights } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const params = { w: tensor([1, 2]) }
 * const w = adamWeights(adam().init(params))
 * console.log(w.className, w.iterations, Object.keys(w.slots)) // Adam 0 [ 'momentum', 'velocity' ]
 * ```
 * @category Optimizers
 */
export interface OptimizerVariables {
  readonly className: string
  readonly iterations: number
  readonly config?: { readonly [k: string]: unknown }
  readonly slots: { readonly [slot: string]: Tree }
  /** Scalar variables besides the count (Nadam's `u_product`). */
  readonly scalars?: { readonly [name: string]: number }
}

const sameShapes = (what: string, slot: string, got: Tree, like: Tree): void => {
  const a = tree.flatten(got)
  const b = tree.flatten(like)
  const show = (l: readonly (readonly [string, Tensor])[]) =>
    l.map(([p, t]) => `${p} [${t.shape.join(', ')}]`).join(', ')
  if (show(a) !== show(b))
    throw new Error(
      `${what}: slot '${slot}' holds ${show(a) || 'nothing'}; the optimizer's state holds ${show(b)}`,
    )
}

const countOf = (what: string, w: OptimizerVariables, className: string): number => {
  if (w.className !== className)
    throw new Error(`${what}: expected the variables of ${className}, got those of ${w.className}`)
  if (!Number.isSafeInteger(w.iterations) || w.iterations < 0)
    throw new Error(`${what}: iterations must be a non-negative integer, got ${w.iterations}`)
  return w.iterations
}

/**
 * The variables of an {@link adam} state in Keras' names: `momentum` (m), `velocity` (v) and
 * `iterations`; with `config`, Keras' optimizer config to write beside them.
 *
 * @param state - a state of `adam(...)` (not AMSGrad: its `velocity_hat` is not written)
 * @param config - Keras' config (`{ learning_rate: 0.001, beta_1: 0.9, ... }`), optional
 * @returns the variables
 * @example
 * ```ts
 * import { adam, adamWeights } from '@purenn/optim'
 * import { tensor, tree } from '@purenn/tensor'
 * const tx = adam()
 * const params = { w: tensor([1]) }
 * const { state } = tx.update({ w: tensor([2]) }, tx.init(params), params)
 * const w = adamWeights(state)
 * // m = 0.1·g, v = 0.001·g²
 * const [m, v] = [w.slots.momentum!, w.slots.velocity!].map((t) => tree.leaves(t)[0]!.toString())
 * console.log(w.iterations, m, v) // 1 tensor([0.2]) tensor([0.004])
 * ```
 * @category Optimizers
 */
export const adamWeights = (
  state: AdamState,
  config?: { readonly [k: string]: unknown },
): OptimizerVariables => {
  const s = state[1]
  if (s.nuMax !== undefined)
    throw new Error('adamWeights: an AMSGrad state: its running maximum has no place in the formats written')
  return {
    className: 'Adam',
    iterations: s.count,
    ...(config === undefined ? {} : { config }),
    slots: { momentum: s.mu, velocity: s.nu },
  }
}

/**
 * An {@link adam} state holding the given variables (read from a TF.js or `.keras` file), built
 * on a fresh state so that the chain's other links (clipping) keep theirs.
 *
 * @param fresh - `adam(...).init(params)`
 * @param w - Adam's variables: `momentum`, `velocity` and `iterations`
 * @returns the state, with the iteration count in both the Adam scaling and the learning-rate step
 * @example
 * ```ts
 * import { adam, restoreAdamState } from '@purenn/optim'
 * import { tensor, tree } from '@purenn/tensor'
 * const params = { w: tensor([1]) }
 * const state = restoreAdamState(adam().init(params), {
 *   className: 'Adam', iterations: 3, slots: { momentum: { w: tensor([0.5]) }, velocity: { w: tensor([0.25]) } },
 * })
 * console.log(state[1].count, state[2].count, tree.leaves(state[1].mu)[0]!.toString()) // 3 3 tensor([0.5])
 * ```
 * @category Optimizers
 */
export const restoreAdamState = (fresh: AdamState, w: OptimizerVariables): AdamState => {
  const count = countOf('restoreAdamState', w, 'Adam')
  const mu = w.slots.momentum
  const nu = w.slots.velocity
  if (mu === undefined || nu === undefined)
    throw new Error(
      `restoreAdamState: expected the slots momentum and velocity, got ${Object.keys(w.slots).join(', ')}`,
    )
  sameShapes('restoreAdamState', 'momentum', mu, fresh[1].mu)
  sameShapes('restoreAdamState', 'velocity', nu, fresh[1].nu)
  return [fresh[0], { ...fresh[1], count, mu, nu }, { count }]
}

/**
 * The variables of an {@link sgd} state in Keras' names: `iterations`, and `momentum` (the
 * velocity `v`, which holds `−lr·g` sums as Keras' does) when the optimizer has momentum.
 *
 * @param state - a state of `sgd(...)`
 * @param config - Keras' config to write beside them, optional
 * @returns the variables
 * @example
 * ```ts
 * import { sgd, sgdWeights } from '@purenn/optim'
 * import { tensor, tree } from '@purenn/tensor'
 * const tx = sgd({ learningRate: 0.1, momentum: 0.9 })
 * const params = { w: tensor([1]) }
 * const { state } = tx.update({ w: tensor([1]) }, tx.init(params), params)
 * console.log(tree.leaves(sgdWeights(state).slots.momentum!)[0]!.toString()) // tensor([-0.1])
 * ```
 * @category Optimizers
 */
export const sgdWeights = (
  state: SgdState,
  config?: { readonly [k: string]: unknown },
): OptimizerVariables => ({
  className: 'SGD',
  iterations: state[1].count,
  ...(config === undefined ? {} : { config }),
  slots: state.length === 3 ? { momentum: state[2].trace } : {},
})

/**
 * An {@link sgd} state holding the given variables (see {@link sgdWeights}).
 *
 * @param fresh - `sgd(...).init(params)`
 * @param w - SGD's variables
 * @returns the state
 * @example
 * ```ts
 * import { restoreSgdState, sgd } from '@purenn/optim'
 * import { tensor, tree } from '@purenn/tensor'
 * const params = { w: tensor([1]) }
 * const state = restoreSgdState(sgd({ momentum: 0.9 }).init(params), {
 *   className: 'SGD', iterations: 2, slots: { momentum: { w: tensor([-0.19]) } },
 * })
 * console.log(state[1].count, state.length === 3 ? tree.leaves(state[2].trace)[0]!.toString() : '') // 2 tensor([-0.19])
 * ```
 * @category Optimizers
 */
export const restoreSgdState = (fresh: SgdState, w: OptimizerVariables): SgdState => {
  const count = countOf('restoreSgdState', w, 'SGD')
  if (fresh.length === 2) {
    if (w.slots.momentum !== undefined)
      throw new Error('restoreSgdState: the variables have a momentum slot; the optimizer has no momentum')
    return [fresh[0], { count }]
  }
  const trace = w.slots.momentum
  if (trace === undefined)
    throw new Error('restoreSgdState: the optimizer has momentum; the variables have no momentum slot')
  sameShapes('restoreSgdState', 'momentum', trace, fresh[2].trace)
  return [fresh[0], { count }, { trace }]
}

const slotOf = (what: string, w: OptimizerVariables, slot: string, like: Tree): Tree => {
  const t = w.slots[slot]
  if (t === undefined)
    throw new Error(`${what}: expected the slot ${slot}, got ${Object.keys(w.slots).join(', ') || 'none'}`)
  sameShapes(what, slot, t, like)
  return t
}

/**
 * The variables of an {@link rmsprop} state in Keras' names: `velocity` (ν), with momentum
 * `momentum` (Keras' running sum of `lr·g/√(ν + ε)`, the negated trace of purenn's chain), when
 * centered `average_gradient` (m), and `iterations`.
 *
 * @param state - a state of `rmsprop(...)`
 * @param config - Keras' config to write beside them (`momentum` and `centered` must match the
 *   slots), optional
 * @returns the variables
 * @example
 * ```ts
 * import { rmsprop, rmspropWeights } from '@purenn/optim'
 * import { tensor, tree } from '@purenn/tensor'
 * const tx = rmsprop({ learningRate: 0.1, momentum: 0.9, rho: 0.75, epsilon: 0 })
 * const params = { w: tensor([1]) }
 * const { state } = tx.update({ w: tensor([2]) }, tx.init(params), params)
 * const w = rmspropWeights(state)
 * // ν = 0.25·4 = 1; Keras' momentum = lr·g/√ν = 0.2
 * console.log(w.iterations, Object.keys(w.slots), tree.leaves(w.slots.momentum!)[0]!.toString()) // 1 [ 'velocity', 'momentum' ] tensor([0.2])
 * ```
 * @category Optimizers
 */
export const rmspropWeights = (
  state: RmspropState,
  config?: { readonly [k: string]: unknown },
): OptimizerVariables => ({
  className: 'RMSprop',
  iterations: state[2].count,
  ...(config === undefined ? {} : { config }),
  slots: {
    velocity: state[1].nu,
    ...(state.length === 4 ? { momentum: tree.map(state[3].trace, (t) => neg(t)) } : {}),
    ...(state[1].mu === undefined ? {} : { average_gradient: state[1].mu }),
  },
})

/**
 * An {@link rmsprop} state holding the given variables (see {@link rmspropWeights}); the slots
 * must be those of the optimizer (momentum with `momentum > 0`, average_gradient when centered).
 *
 * @param fresh - `rmsprop(...).init(params)`
 * @param w - RMSprop's variables
 * @returns the state
 * @example
 * ```ts
 * import { restoreRmspropState, rmsprop } from '@purenn/optim'
 * import { tensor, tree } from '@purenn/tensor'
 * const params = { w: tensor([1]) }
 * const state = restoreRmspropState(rmsprop().init(params), {
 *   className: 'RMSprop', iterations: 4, slots: { velocity: { w: tensor([0.5]) } },
 * })
 * console.log(state[2].count, tree.leaves(state[1].nu)[0]!.toString()) // 4 tensor([0.5])
 * ```
 * @category Optimizers
 */
export const restoreRmspropState = (fresh: RmspropState, w: OptimizerVariables): RmspropState => {
  const what = 'restoreRmspropState'
  const count = countOf(what, w, 'RMSprop')
  const want = [
    'velocity',
    ...(fresh.length === 4 ? ['momentum'] : []),
    ...(fresh[1].mu === undefined ? [] : ['average_gradient']),
  ]
  const got = Object.keys(w.slots)
  if ([...got].sort().join() !== [...want].sort().join())
    throw new Error(
      `${what}: the variables have the slots ${got.join(', ') || 'none'}; this RMSprop (momentum ${fresh.length === 4 ? '> 0' : '0'}, ${fresh[1].mu === undefined ? 'not ' : ''}centered) has ${want.join(', ')}`,
    )
  const nu = slotOf(what, w, 'velocity', fresh[1].nu)
  const rms =
    fresh[1].mu === undefined ? { nu } : { nu, mu: slotOf(what, w, 'average_gradient', fresh[1].mu) }
  if (fresh.length === 4) {
    const trace = tree.map(slotOf(what, w, 'momentum', fresh[3].trace), (t) => neg(t))
    return [fresh[0], rms, { count }, { trace }]
  }
  return [fresh[0], rms, { count }]
}

/**
 * The variables of a {@link nadam} state (Keras' form) in Keras' names: `momentum` (m),
 * `velocity` (v), `iterations` and the scalar `u_product` (the product of the momentum
 * schedule).
 *
 * @param state - a state of `nadam(...)` with `form: 'keras'` (the default); Optax's form has
 *   no Keras equivalent and is refused
 * @param config - Keras' config to write beside them, optional
 * @returns the variables
 * @example
 * ```ts
 * import { nadam, nadamWeights } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = nadam()
 * const params = { w: tensor([1]) }
 * const { state } = tx.update({ w: tensor([2]) }, tx.init(params), params)
 * const w = nadamWeights(state)
 * // u_product = 0.9·(1 − 0.5·0.96)
 * console.log(w.iterations, Object.keys(w.slots), w.scalars?.u_product?.toFixed(3)) // 1 [ 'momentum', 'velocity' ] 0.468
 * ```
 * @category Optimizers
 */
export const nadamWeights = (
  state: NadamState,
  config?: { readonly [k: string]: unknown },
): OptimizerVariables => {
  const s = state[1]
  if (!('muProduct' in s))
    throw new Error(
      "nadamWeights: a nadam({ form: 'optax' }) state: Keras' Nadam keeps a momentum schedule it lacks",
    )
  return {
    className: 'Nadam',
    iterations: s.count,
    ...(config === undefined ? {} : { config }),
    slots: { momentum: s.mu, velocity: s.nu },
    scalars: { u_product: s.muProduct },
  }
}

/**
 * A {@link nadam} state (Keras' form) holding the given variables (see {@link nadamWeights}).
 *
 * @param fresh - `nadam(...).init(params)`
 * @param w - Nadam's variables, with the scalar `u_product` (1 is assumed after 0 updates)
 * @returns the state
 * @example
 * ```ts
 * import { nadam, restoreNadamState } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const params = { w: tensor([1]) }
 * const state = restoreNadamState(nadam().init(params), {
 *   className: 'Nadam', iterations: 1, scalars: { u_product: 0.468 },
 *   slots: { momentum: { w: tensor([0.2]) }, velocity: { w: tensor([0.004]) } },
 * })
 * console.log(state[1].count, state[2].count) // 1 1
 * ```
 * @category Optimizers
 */
export const restoreNadamState = (fresh: NadamState, w: OptimizerVariables): NadamState => {
  const what = 'restoreNadamState'
  const count = countOf(what, w, 'Nadam')
  const s = fresh[1]
  if (!('muProduct' in s))
    throw new Error(
      `${what}: a nadam({ form: 'optax' }) state: Keras' Nadam variables restore Keras' form only`,
    )
  const muProduct = w.scalars?.u_product ?? (count === 0 ? 1 : undefined)
  if (muProduct === undefined || !Number.isFinite(muProduct))
    throw new Error(`${what}: the scalar u_product is missing or not finite after ${count} updates`)
  const state: ScaleByNadamState = {
    count,
    muProduct,
    mu: slotOf(what, w, 'momentum', s.mu),
    nu: slotOf(what, w, 'velocity', s.nu),
  }
  return [fresh[0], state, { count }]
}

/**
 * The variables of an {@link adamax} state in Keras' names: `momentum` (m), `norm` (the
 * decayed infinity norm u) and `iterations`.
 *
 * @param state - a state of `adamax(...)`
 * @param config - Keras' config to write beside them, optional
 * @returns the variables
 * @example
 * ```ts
 * import { adamax, adamaxWeights } from '@purenn/optim'
 * import { tensor, tree } from '@purenn/tensor'
 * const tx = adamax()
 * const params = { w: tensor([1]) }
 * const { state } = tx.update({ w: tensor([-2]) }, tx.init(params), params)
 * const w = adamaxWeights(state)
 * console.log(w.iterations, tree.leaves(w.slots.norm!)[0]!.toString()) // 1 tensor([2])
 * ```
 * @category Optimizers
 */
export const adamaxWeights = (
  state: AdamaxState,
  config?: { readonly [k: string]: unknown },
): OptimizerVariables => ({
  className: 'Adamax',
  iterations: state[1].count,
  ...(config === undefined ? {} : { config }),
  slots: { momentum: state[1].mu, norm: state[1].nu },
})

/**
 * An {@link adamax} state holding the given variables (see {@link adamaxWeights}).
 *
 * @param fresh - `adamax(...).init(params)`
 * @param w - Adamax's variables
 * @returns the state
 * @example
 * ```ts
 * import { adamax, restoreAdamaxState } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const params = { w: tensor([1]) }
 * const state = restoreAdamaxState(adamax().init(params), {
 *   className: 'Adamax', iterations: 2, slots: { momentum: { w: tensor([0.1]) }, norm: { w: tensor([2]) } },
 * })
 * console.log(state[1].count, state[2].count) // 2 2
 * ```
 * @category Optimizers
 */
export const restoreAdamaxState = (fresh: AdamaxState, w: OptimizerVariables): AdamaxState => {
  const what = 'restoreAdamaxState'
  const count = countOf(what, w, 'Adamax')
  const mu = slotOf(what, w, 'momentum', fresh[1].mu)
  const nu = slotOf(what, w, 'norm', fresh[1].nu)
  return [fresh[0], { ...fresh[1], count, mu, nu }, { count }]
}
