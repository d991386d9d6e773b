import type { Tensor, Tree } from '@purenn/tensor'
import { tree } from '@purenn/tensor'
import type { AdamState, SgdState } from './alias.js'

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
