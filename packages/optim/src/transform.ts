import { ShapeError, type Tensor, type Tree, tree } from '@purenn/tensor'
import { addUpdateInto, alloc, buf, elementwiseKernel, runElementwise } from '@purenn/tensor/internal'
import { isZeros, wrap } from './internal/leaves.js'
import type { LearningRate } from './schedules.js'

/**
 * What {@link GradientTransformation.update} returns: the transformed updates (a tree of the
 * structure of the gradients, typed as the gradients) and the new state.
 * @typeParam S - the state
 * @typeParam U - the type of the updates: the type of the gradients
 * @category Transformations
 */
export interface Updated<S, U extends Tree = Tree> {
  /** The transformed updates, same structure and shapes as the gradients. */
  readonly updates: U
  /** The state to pass to the next call of `update`. */
  readonly state: S
}

/**
 * An optimizer, or one step of one: a pair of pure functions over parameter trees (Optax's
 * `GradientTransformation`).
 *
 * @remarks
 * - `init(params)` returns the initial state (moment estimates, a step count...).
 * - `update(grads, state, params)` maps the gradients (or the updates of the previous
 *   transformation in a {@link chain}) to new updates and returns the new state. It always
 *   receives the current params (used by weight decay); it never mutates anything.
 *
 * The state is a plain tree of tensors and numbers (for example Adam's
 * `{ count, mu, nu }`), so it can be saved and restored bit-exactly. A training step is
 * `{ updates, state } = tx.update(grads, state, params); params = applyUpdates(params, updates)`.
 *
 * @typeParam S - the state
 * @example
 * ```ts
 * import { applyUpdates, sgd } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = sgd({ learningRate: 0.1 })
 * let params = { w: tensor([1, 2]) }
 * let state = tx.init(params)
 * const grads = { w: tensor([10, -10]) }
 * const step = tx.update(grads, state, params)
 * params = applyUpdates(params, step.updates)
 * state = step.state
 * console.log(params.w.toString()) // tensor([0, 3])
 * ```
 * @category Transformations
 */
export interface GradientTransformation<S> {
  /**
   * The initial state for `params`.
   * @param params - the parameter tree to be optimized
   */
  init(params: Tree): S
  /**
   * Transforms `grads` into updates and advances the state.
   * @param grads - gradients, or updates from the previous transformation (same structure as `params`)
   * @param state - the state from `init` or from the previous `update`
   * @param params - the current parameters
   */
  update<G extends Tree>(grads: G, state: S, params: Tree): Updated<S, G>
  /**
   * The learning rate the transformation applies, when it is an optimizer that knows it (the
   * aliases `sgd`, `adam`, ... set it): what `fit` records in the history.
   */
  readonly learningRate?: LearningRate
  /**
   * The whole step at once, when the transformation knows how: bitwise what `update`
   * followed by {@link applyUpdates} gives (the updates first multiplied by
   * `options.learningRateFactor` when given, as {@link updateAndApply} does), but as one
   * pass over each parameter that writes the new state and the new weights directly, with
   * no update tensor in between. The optimizers `sgd`, `rmsprop`, `adam`, `adamw`, `nadam`,
   * `adamax` and `adagrad` have one; {@link chain} has one when its last member does,
   * `masked` when its inner transformation does. Call it through {@link updateAndApply},
   * which falls back to `update` and `applyUpdates` where it is absent.
   * @param grads - gradients, same structure and shapes as `params`
   * @param state - the state from `init` or from the previous step
   * @param params - the current parameters
   * @param options - `learningRateFactor`, a finite number (default 1)
   */
  applyStep?<P extends Tree>(grads: Tree, state: S, params: P, options?: StepOptions): Applied<S, P>
}

/**
 * What {@link GradientTransformation.applyStep} and {@link updateAndApply} return: the new
 * params and the new state.
 * @typeParam S - the state
 * @typeParam P - the type of the params
 * @category Transformations
 */
export interface Applied<S, P extends Tree = Tree> {
  /** The params after the step (the params given are untouched). */
  readonly params: P
  /** The state to pass to the next step. */
  readonly state: S
}

/**
 * Options of {@link updateAndApply} and {@link GradientTransformation.applyStep}.
 * @category Transformations
 */
export interface StepOptions {
  /**
   * A factor on the updates before they are applied (what `fit` takes from callbacks such
   * as `learningRateScheduler`): each update `u` becomes `u · factor` in float32, as
   * `mul(u, factor)` computes it. Default 1 (the updates as they are).
   */
  readonly learningRateFactor?: number
  /**
   * Put the new params and optimizer state of the built-in fused steps in the kernels'
   * memory, where the next step's WebAssembly kernels read them and this step's kernels write
   * them in place (no copy out, no fresh zeroed buffer per leaf), with a lifetime the caller
   * manages: it frees them once nothing reads them (`fit` frees each step's params and state
   * two steps later, unless a callback or checkpoint has seen them). Default false: plain
   * buffers, freed by the garbage collector. Results are bitwise the same either way.
   * @internal
   */
  readonly ownedBuffers?: boolean
}

/**
 * The state type of a {@link GradientTransformation}.
 * @category Transformations
 */
export type StateOf<T> = T extends GradientTransformation<infer S> ? S : never

/**
 * The state of a transformation that keeps none (clipping, identity, weight decay): `{}`.
 * @category Transformations
 */
export type EmptyState = Readonly<Record<string, never>>

/**
 * The state of a {@link chain}: the tuple of its members' states, in order.
 * @category Transformations
 */
export type ChainState<Ts extends readonly GradientTransformation<unknown>[]> = {
  readonly [K in keyof Ts]: StateOf<Ts[K]>
}

/**
 * The transformation that returns the gradients unchanged (Optax's `identity`).
 *
 * @remarks `chain(identity(), t)` behaves exactly as `t`.
 * @returns a stateless transformation
 * @example
 * ```ts
 * import { identity } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const g = { w: tensor([1, 2]) }
 * const { updates } = identity().update(g, {}, g)
 * console.log(updates === g) // true
 * ```
 * @category Transformations
 */
export const identity = (): GradientTransformation<EmptyState> => ({
  init: () => ({}),
  update: (grads, state) => ({ updates: grads, state }),
})

/**
 * Composes transformations left to right: the updates of each are the gradients of the next
 * (Optax's `chain`).
 *
 * @remarks
 * The state is the tuple of the members' states, typed position by position. Every member
 * receives the same `params`. An optimizer is a chain, for example Adam with clipping is
 * `chain(clipByNorm(1), scaleByAdam(), scaleByLearningRate(0.001))`.
 *
 * When the last member has a fused step ({@link GradientTransformation.applyStep}) the
 * chain has one too: the other members' updates, then that step. So `chain(clipByValue(1),
 * adam())` still takes one pass per parameter for Adam; `chain(adam(), freeze(mask))` has no
 * fused step (something follows the optimizer) and {@link updateAndApply} runs `update`.
 *
 * @param txs - the transformations, applied in order
 * @returns their composition
 * @example
 * ```ts
 * import { chain, clipByValue, scaleByLearningRate } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = chain(clipByValue(1), scaleByLearningRate(0.5))
 * const g = { w: tensor([4, -0.5]) }
 * const { updates, state } = tx.update(g, tx.init(g), g)
 * console.log(updates.w.toString(), state[1].count) // tensor([-0.5, 0.25]) 1
 * ```
 * @category Transformations
 */
export function chain<const Ts extends readonly GradientTransformation<unknown>[]>(
  ...txs: Ts
): GradientTransformation<ChainState<Ts>> {
  const last = txs.at(-1)
  /** The updates of the members before `end` and their new states. */
  const run = <G extends Tree>(grads: G, states: readonly unknown[], params: Tree, end: number) => {
    const next: unknown[] = []
    let updates = grads
    for (let i = 0; i < end; i++) {
      const r = txs[i]!.update(updates, states[i], params)
      updates = r.updates
      next.push(r.state)
    }
    return { updates, next }
  }
  const tx: GradientTransformation<ChainState<Ts>> = {
    init: (params) => txs.map((tx) => tx.init(params)) as unknown as ChainState<Ts>,
    update: (grads, state, params) => {
      const { updates, next } = run(grads, state as readonly unknown[], params, txs.length)
      return { updates, state: next as unknown as ChainState<Ts> }
    },
  }
  if (last?.applyStep === undefined) return tx
  // the last member's fused step after the others' updates: bitwise the whole chain's update then applyUpdates
  return {
    ...tx,
    applyStep: (grads, state, params, options) => {
      const states = state as readonly unknown[]
      const { updates, next } = run(grads, states, params, txs.length - 1)
      const r = last.applyStep!(updates, states[txs.length - 1], params, options)
      return { params: r.params, state: [...next, r.state] as unknown as ChainState<Ts> }
    },
  }
}

/**
 * Adds the updates to the params: $w \leftarrow w + u$ for every leaf (Optax's `apply_updates`).
 *
 * @remarks
 * Updates already carry their sign (the learning-rate step scales by `−lr`). Where an update
 * element is zero the weight is returned bit for bit (even `−0`), so frozen and masked
 * weights never change; a leaf whose update is zero everywhere is returned as it is (the
 * same tensor: nothing to allocate or copy for frozen layers). Shapes must match exactly
 * (no broadcasting).
 *
 * @param params - the current parameters
 * @param updates - updates of the same structure and shapes
 * @returns new parameters (`params` is untouched; leaves with an all-zero update are shared)
 * @throws ShapeError when the structures or shapes differ.
 * @example
 * ```ts
 * import { applyUpdates } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const p = applyUpdates({ w: tensor([1, 2]) }, { w: tensor([0.5, -1]) })
 * console.log(p.w.toString()) // tensor([1.5, 1])
 * ```
 * @category Transformations
 */
export const applyUpdates = <P extends Tree>(params: P, updates: Tree): P =>
  tree.map2(params, updates, (w: Tensor, u: Tensor, path: string): Tensor => {
    if (w.size !== u.size || w.shape.length !== u.shape.length || w.shape.some((d, i) => d !== u.shape[i]))
      throw new ShapeError(
        `applyUpdates: shape of the update at "${path}" [${u.shape.join(',')}] differs from the param [${w.shape.join(',')}]`,
      )
    if (isZeros(u)) return w
    const out = alloc(w.size)
    // large leaves with the 'wasm' kernel set: the WebAssembly pass (bitwise this loop) first
    const done = addUpdateInto(buf(w), buf(u), out)
    if (done === 0) runElementwise(addUpdate, [buf(w), buf(u), out], w.size)
    else addUpdate.loop([buf(w), buf(u), out], done, w.size)
    return wrap(out, w.shape)
  })

/** `out = w + u`, keeping `w` bit for bit where `u` is ±0 (on the worker pool when large). */
const addUpdate = elementwiseKernel(
  'applyUpdates',
  ([w, u, out]: readonly [Float32Array, Float32Array, Float32Array], i0: number, i1: number): void => {
    for (let i = i0; i < i1; i++) {
      const d = u[i]!
      out[i] = d === 0 ? w[i]! : w[i]! + d
    }
  },
)
