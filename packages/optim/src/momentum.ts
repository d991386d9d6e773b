import { type Tensor, type Tree, tree } from '@purenn/tensor'
import { alloc, buf, elementwiseKernel, momentumInto, runElementwise } from '@purenn/tensor/internal'
import { aligned, wrap, zerosTree } from './internal/leaves.js'
import { momentumSettings } from './internal/settings.js'
import type { GradientTransformation } from './transform.js'

/**
 * Options of {@link traceMomentum}.
 * @category Momentum
 */
export interface TraceMomentumOptions {
  /** The momentum coefficient `μ` (Keras' `momentum`), in [0, 1). */
  readonly decay: number
  /** Nesterov accelerated gradient. Default false. */
  readonly nesterov?: boolean
}

/**
 * The state of {@link traceMomentum}: the velocity `v` of every leaf.
 * @category Momentum
 */
export interface TraceMomentumState {
  /** The accumulated updates, same structure as the params (zeros at first). */
  readonly trace: Tree
}

/**
 * Momentum: accumulates the incoming updates into a velocity (Optax's `trace`; Polyak 1964,
 * Nesterov 1983, Sutskever et al. 2013).
 *
 * @remarks
 * With $\mu$ = `decay`: $v \leftarrow \mu v + u$, then $u \leftarrow v$, or $u \leftarrow \mu v + u$ (with the new $v$) for Nesterov.
 *
 * In Keras' SGD the learning rate is *inside* the velocity: $v \leftarrow \mu v - \mathrm{lr}\, g$,
 * $w \leftarrow w + v$, and Nesterov $w \leftarrow w + \mu v - \mathrm{lr}\, g$. Placing {@link scaleByLearningRate} before this
 * transformation ($u = -\mathrm{lr}\, g$) gives exactly that, also when a schedule changes `lr`, which is
 * what {@link sgd} does. Optax's `sgd` traces the raw gradient and scales afterwards
 * ($v \leftarrow \mu v + g$, $w \leftarrow w - \mathrm{lr}\, v$): the same with a constant rate, different with a schedule.
 *
 * One fused loop per leaf; without Nesterov the new velocity is also the update (one buffer).
 *
 * @param options - `decay` (μ) and `nesterov`
 * @returns the transformation
 * @example
 * ```ts
 * import { chain, scaleByLearningRate, traceMomentum } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const tx = chain(scaleByLearningRate(1), traceMomentum({ decay: 0.5 }))
 * const g = { w: tensor([1]) }
 * const s1 = tx.update(g, tx.init(g), g)
 * const s2 = tx.update(g, s1.state, g)
 * console.log(s1.updates.w.toString(), s2.updates.w.toString()) // tensor([-1]) tensor([-1.5])
 * ```
 * @category Momentum
 */
export const traceMomentum = (options: TraceMomentumOptions): GradientTransformation<TraceMomentumState> => {
  const { mu, nesterov } = momentumSettings('traceMomentum', options)
  return {
    init: (params) => ({ trace: zerosTree(params) }),
    update: (grads, state) => {
      const us = tree.leaves(grads)
      const vs = aligned('traceMomentum', grads, state.trace, 'state.trace')
      const outs: Tensor[] = []
      const traces: Tensor[] = []
      us.forEach((u, k) => {
        const n = u.size
        const tr = alloc(n)
        if (nesterov) {
          const out = alloc(n)
          // large leaves with the 'wasm' kernel set: the WebAssembly pass (bitwise the loop) first
          const done = momentumInto(buf(vs[k]!), buf(u), tr, out, mu)
          if (done === 0) runElementwise(nesterovLoop, [buf(vs[k]!), buf(u), tr, out, mu], n)
          else nesterovLoop.loop([buf(vs[k]!), buf(u), tr, out, mu], done, n)
          traces.push(wrap(tr, u.shape))
          outs.push(wrap(out, u.shape))
        } else {
          const done = momentumInto(buf(vs[k]!), buf(u), tr, undefined, mu)
          if (done === 0) runElementwise(momentumLoop, [buf(vs[k]!), buf(u), tr, mu], n)
          else momentumLoop.loop([buf(vs[k]!), buf(u), tr, mu], done, n)
          const tt = wrap(tr, u.shape)
          traces.push(tt)
          outs.push(tt)
        }
      })
      return { updates: tree.unflatten(grads, outs), state: { trace: tree.unflatten(grads, traces) } }
    },
  }
}

/** `trace = μ·trace + u` (on the worker pool when large). */
const momentumLoop = elementwiseKernel(
  'traceMomentum',
  (
    [v, u, tr, mu]: readonly [Float32Array, Float32Array, Float32Array, number],
    i0: number,
    i1: number,
  ): void => {
    for (let i = i0; i < i1; i++) tr[i] = mu * v[i]! + u[i]!
  },
)

/** `trace = μ·trace + u` and the Nesterov update `μ·trace + u` (on the worker pool when large). */
const nesterovLoop = elementwiseKernel(
  'traceMomentumNesterov',
  (
    [v, u, tr, out, mu]: readonly [Float32Array, Float32Array, Float32Array, Float32Array, number],
    i0: number,
    i1: number,
  ): void => {
    for (let i = i0; i < i1; i++) {
      const ui = u[i]!
      const t = (tr[i] = mu * v[i]! + ui)
      out[i] = mu * Math.fround(t) + ui
    }
  },
)
