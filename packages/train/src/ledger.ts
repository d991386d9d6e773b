import { isTensor, type Tensor } from '@purenn/tensor'
import { alloc, fromBuffer, isOwnedFloats, releaseFloats } from '@purenn/tensor/internal'
import type { TrainingState } from './step.js'

/**
 * What a training loop that owns its states tells about them, so that the buffers its steps
 * made in the kernels' memory (`makeTrainer`'s `ownedBuffers`) are freed as soon as they
 * die, instead of when the garbage collector finds them: JAX's buffer donation, decided by
 * the loop rather than by the caller of each step.
 *
 * @internal
 */
export interface Ledger {
  /**
   * After a step: `held` are every state the loop still holds (the current one, the one it
   * would fall back on). Frees each buffer made by the loop's steps that none of them reads.
   * Frees nothing while a held state has something other than tensors, arrays, plain
   * objects and primitives in it (a `Map`, a class instance, a raw typed array, a function):
   * what such a value holds cannot be seen.
   */
  readonly commit: (held: readonly TrainingState[]) => void
}

/**
 * Adds the owned buffers (see `allocOwned`) of the tensors anywhere in `x` to `out`; false
 * when `x` has a value whose insides it cannot see (anything but tensors, arrays, plain
 * objects and primitives), which may hold tensors too. @internal
 */
export const ownedIn = (x: unknown, out: Set<object>): boolean => {
  if (x === null || (typeof x !== 'object' && typeof x !== 'function')) return true
  if (isTensor(x)) {
    if (isOwnedFloats(x.data)) out.add(x.data)
    return true
  }
  if (Array.isArray(x)) return x.every((v) => ownedIn(v, out))
  const proto = Object.getPrototypeOf(x)
  if (typeof x === 'function' || (proto !== Object.prototype && proto !== null)) return false
  return Object.values(x).every((v) => ownedIn(v, out))
}

/**
 * Adds the owned buffers of a state (params, layers' state, optimizer state) to `out`; false
 * as {@link ownedIn}. @internal
 */
export const buffersOf = (s: TrainingState, out: Set<object>): boolean =>
  ownedIn(s.model.params, out) && ownedIn(s.model.state, out) && ownedIn(s.optState, out)

/**
 * The ledger of a loop that starts from `initial`, whose buffers (the caller's) are never
 * freed. The rule: a buffer is freed when a commit finds it in none of the held states, and
 * only if it first appeared in a committed state of this loop. A state the loop dropped
 * without committing (a step discarded because a callback stopped training) leaves its
 * buffers to the garbage collector. States the loop shows to others are {@link detached}
 * first, so nobody else ever holds an owned buffer.
 *
 * @internal
 */
export const makeLedger = (initial: TrainingState): Ledger => {
  const theirs = new Set<object>()
  buffersOf(initial, theirs)
  let owned = new Set<object>()
  return {
    commit: (held) => {
      const live = new Set<object>()
      if (!held.every((s) => buffersOf(s, live))) {
        // something held may hold any of them: free nothing, remember them all
        for (const b of live) if (!theirs.has(b)) owned.add(b)
        return
      }
      for (const b of owned) if (!live.has(b)) releaseFloats(b as Float32Array)
      owned = new Set([...live].filter((b) => !theirs.has(b)))
    },
  }
}

/** A plain copy of `t` when its buffer is an owned one, else `t`. @internal */
export const plainTensor = (t: Tensor): Tensor => {
  if (!isOwnedFloats(t.data)) return t
  const data = alloc(t.size)
  data.set(t.data as Float32Array)
  return fromBuffer(t.shape, data)
}

/** `x` with every tensor on an owned buffer replaced by a plain copy (the rest as it is). */
const plainTree = (x: unknown): unknown => {
  if (isTensor(x)) return plainTensor(x)
  if (Array.isArray(x)) return x.map(plainTree)
  if (typeof x !== 'object' || x === null) return x
  // the objects ownedIn walks into: plain ones and those without a prototype (kept so)
  const proto = Object.getPrototypeOf(x)
  if (proto !== Object.prototype && proto !== null) return x
  const out = Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plainTree(v)]))
  return proto === null ? Object.assign(Object.create(null), out) : out
}

/**
 * The state with plain copies of its tensors that are on owned buffers: what a loop shows
 * to callbacks, evaluations and checkpoints (they may keep it for good), and returns; `s`
 * itself when it has none. One copy of the params and optimizer state, once per epoch (or
 * per checkpoint).
 *
 * @internal
 */
export const detached = (s: TrainingState): TrainingState => {
  const found = new Set<object>()
  buffersOf(s, found)
  if (found.size === 0) return s
  return {
    model: {
      ...s.model,
      params: plainTree(s.model.params) as TrainingState['model']['params'],
      state: plainTree(s.model.state) as TrainingState['model']['state'],
    },
    optState: plainTree(s.optState),
    step: s.step,
  }
}
