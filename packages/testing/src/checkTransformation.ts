import { applyUpdates, chain, type GradientTransformation, identity, masked } from '@purenn/optim'
import { type Tensor, type Tree, tree } from '@purenn/tensor'
import fc from 'fast-check'
import { type Float32Constraints, type ParamsConstraints, paramsArb, tensorArb } from './arbitraries.js'
import {
  changedSince,
  signature,
  snapshot,
  tensorsIn,
  treeDifference,
  valueDifference,
} from './internal/trees.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * Options of {@link checkTransformation}.
 * @category Optimizers
 */
export interface CheckTransformationOptions {
  /** Runs of each property. Default 20. */
  readonly numRuns?: number
  /** The fast-check seed. Default 0. */
  readonly seed?: number
  /** Updates per run (the state is threaded through them). Default 3. */
  readonly steps?: number
  /** The parameter trees drawn. Default {@link paramsArb}'s defaults. */
  readonly params?: ParamsConstraints
  /** The gradients' values. Default multiples of 2⁻¹² in [−3, 3]. */
  readonly grads?: Float32Constraints
}

/**
 * What {@link checkTransformation} checked.
 * @category Optimizers
 */
export interface TransformationReport {
  /** The names of the laws that held. */
  readonly checked: readonly string[]
}

// ---------------------------------------------------------------------------------------
// Helpers

type Obj = { readonly [key: string]: Tree }

const gradsLike = (params: Tree, steps: number, values: Float32Constraints | undefined) =>
  fc.tuple(
    ...Array.from({ length: steps }, () =>
      fc
        .tuple(...tree.leaves(params).map((l) => tensorArb(l.shape, values)))
        .map((ls) => tree.unflatten(params, ls as Tensor[])),
    ),
  )

/** Runs `steps` updates from `init`, applying the updates to the params as a training loop does. */
const trajectory = <S>(tx: GradientTransformation<S>, params: Tree, grads: readonly Tree[]) => {
  let state = tx.init(params)
  let p = params
  const out: { updates: Tree; state: S; params: Tree }[] = []
  for (const g of grads) {
    const r = tx.update(g, state, p)
    state = r.state
    p = applyUpdates(p, r.updates)
    out.push({ updates: r.updates, state, params: p })
  }
  return out
}

// ---------------------------------------------------------------------------------------
// The check

/**
 * Checks the algebraic laws of an Optax-style gradient transformation with fast-check, on
 * random parameter trees and random gradients, over a few threaded steps.
 *
 * @remarks
 * - **purity**: `init` and `update` write into none of their inputs, and the same call twice
 *   gives bitwise the same updates and state;
 * - **shapes**: the updates have the params' structure and shapes, and the state keeps the
 *   structure and shapes `init` gave it, step after step (so it can be checkpointed);
 * - **identity**: `chain(identity(), tx)` and `chain(tx, identity())` give bitwise the same
 *   updates as `tx`;
 * - **masking**: with a random mask over the top-level keys, `masked(tx, mask)` leaves the
 *   unselected params bitwise unchanged by `applyUpdates`, and gives the selected ones
 *   bitwise the updates `tx` gives on the tree of selected params alone;
 * - **fused step** (only when `tx` has an `applyStep`): `tx.applyStep` and
 *   `masked(tx, mask).applyStep` give bitwise the params and state of `update` then
 *   `applyUpdates`, step after step.
 *
 * Throws the first failure with fast-check's counterexample (shrunk tree and gradients). Plain
 * function: usable from vitest, jest or `node:test`.
 *
 * @param tx - the transformation under test (an optimizer is one: `adam()`)
 * @param options - runs, seed, steps, the trees and gradients to draw
 * @returns the laws that held
 * @throws Error naming the law and where the results differ
 * @example
 * ```ts
 * import { adam, chain, clipByGlobalNorm } from '@purenn/optim'
 * import { checkTransformation } from '@purenn/testing'
 * const r = checkTransformation(chain(clipByGlobalNorm(1), adam()), { numRuns: 5 })
 * console.log(r.checked.join(', ')) // purity, shapes, identity, masking, fused step
 * ```
 * @category Optimizers
 */
export const checkTransformation = <S>(
  tx: GradientTransformation<S>,
  options: CheckTransformationOptions = {},
): TransformationReport => {
  const steps = options.steps ?? 3
  if (!Number.isSafeInteger(steps) || steps < 1)
    throw new RangeError(`checkTransformation: steps must be a positive integer, got ${steps}`)
  const run = { seed: options.seed ?? 0, numRuns: options.numRuns ?? 20, includeErrorInReport: true }
  const fail = (what: string): never => {
    throw new Error(`checkTransformation: ${what}`)
  }
  const caseArb = paramsArb(options.params).chain((params) =>
    fc.tuple(
      fc.constant(params),
      gradsLike(params, steps, options.grads),
      fc.array(fc.boolean(), {
        minLength: Object.keys(params).length,
        maxLength: Object.keys(params).length,
      }),
    ),
  )

  // ---- purity and shapes
  fc.assert(
    fc.property(caseArb, ([params, grads]) => {
      const pSnap = snapshot(params)
      const s0 = tx.init(params)
      const s0b = tx.init(params)
      const di = valueDifference(s0, s0b)
      if (di !== undefined) fail(`init twice on the same params gave different states: ${di}`)
      const sig = signature(s0)
      let state = s0
      let p: Tree = params
      grads.forEach((g, step) => {
        const snaps = [snapshot(g), snapshot(p), tensorsIn(state).map((t) => Float32Array.from(t.data))]
        const r1 = tx.update(g, state, p)
        const r2 = tx.update(g, state, p)
        const d = treeDifference(r1.updates, r2.updates) ?? valueDifference(r1.state, r2.state)
        if (d !== undefined) fail(`update is not pure: the same call twice at step ${step} differs: ${d}`)
        const changed =
          changedSince(g, snaps[0]!) ??
          changedSince(p, snaps[1]!) ??
          changedSince(tensorsIn(state) as Tree, snaps[2]!)
        if (changed !== undefined) fail(`update wrote into its inputs at step ${step} (at ${changed})`)
        if (signature(r1.updates) !== signature(g))
          fail(`updates at step ${step} are ${signature(r1.updates)}, the gradients ${signature(g)}`)
        if (signature(r1.state) !== sig)
          fail(`the state after step ${step} is ${signature(r1.state)}, init gave ${sig}`)
        state = r1.state
        p = applyUpdates(p, r1.updates)
      })
      const changed = changedSince(params, pSnap)
      if (changed !== undefined) fail(`init or update wrote into the params (at ${changed})`)
    }),
    run,
  )

  // ---- chain(identity(), tx) ≡ tx ≡ chain(tx, identity())
  fc.assert(
    fc.property(caseArb, ([params, grads]) => {
      const base = trajectory(tx, params, grads)
      for (const [name, other] of [
        ['chain(identity(), tx)', chain(identity(), tx)],
        ['chain(tx, identity())', chain(tx, identity())],
      ] as const) {
        const t = trajectory(other as GradientTransformation<unknown>, params, grads)
        base.forEach((b, step) => {
          const d = treeDifference(b.updates, t[step]!.updates)
          if (d !== undefined) fail(`${name} differs from tx at step ${step}: ${d}`)
        })
      }
    }),
    run,
  )

  // ---- masking
  fc.assert(
    fc.property(caseArb, ([params, grads, bits]) => {
      const keys = Object.keys(params)
      const mask = Object.fromEntries(keys.map((k, i) => [k, bits[i]!]))
      const selected = keys.filter((k) => mask[k])
      const pick = (t: Tree): Obj => Object.fromEntries(selected.map((k) => [k, (t as Obj)[k]!]))
      const m = trajectory(masked(tx, mask), params, grads)
      const alone = selected.length > 0 ? trajectory(tx, pick(params), grads.map(pick)) : []
      m.forEach((r, step) => {
        for (const k of keys) {
          if (mask[k]) {
            const d = treeDifference((r.updates as Obj)[k]!, (alone[step]!.updates as Obj)[k]!)
            if (d !== undefined)
              fail(`masked(tx): the selected "${k}" got other updates than tx alone at step ${step}: ${d}`)
          } else {
            const d = treeDifference((r.params as Obj)[k]!, (params as Obj)[k]!)
            if (d !== undefined) fail(`masked(tx): the frozen "${k}" moved by step ${step}: ${d}`)
          }
        }
      })
    }),
    run,
  )

  // ---- the fused step, when there is one: bitwise update then applyUpdates, alone and masked
  if (tx.applyStep === undefined) return { checked: ['purity', 'shapes', 'identity', 'masking'] }
  fc.assert(
    fc.property(caseArb, ([params, grads, bits]) => {
      const keys = Object.keys(params)
      const mask = Object.fromEntries(keys.map((k, i) => [k, bits[i]!]))
      for (const [name, t] of [
        ['tx', tx as GradientTransformation<unknown>],
        ['masked(tx)', masked(tx, mask) as GradientTransformation<unknown>],
      ] as const) {
        let state = t.init(params)
        let fusedState = state
        let p: Tree = params
        let fusedP: Tree = params
        grads.forEach((g, step) => {
          const r = t.update(g, state, p)
          const f = t.applyStep!(g, fusedState, fusedP)
          state = r.state
          p = applyUpdates(p, r.updates)
          fusedState = f.state
          fusedP = f.params
          const d = treeDifference(p, fusedP) ?? valueDifference(state, fusedState)
          if (d !== undefined)
            fail(`${name}.applyStep differs from update then applyUpdates at step ${step}: ${d}`)
        })
      }
    }),
    run,
  )
  return { checked: ['purity', 'shapes', 'identity', 'masking', 'fused step'] }
}
