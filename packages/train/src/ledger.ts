import { isTensor } from '@purenn/tensor'
import { isOwnedFloats, releaseFloats } from '@purenn/tensor/internal'
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
   * would fall back on). Frees each buffer made by the loop's steps that none of them reads
   * and that was never {@link Ledger.share}d.
   */
  readonly commit: (held: readonly TrainingState[]) => void
  /** `s` is seen outside the loop (a callback, a checkpoint, an evaluation): none of its buffers is ever freed. */
  readonly share: (s: TrainingState) => void
}

/** The owned buffers (see `allocOwned`) of the tensors anywhere in `x`, into `out`. @internal */
export const ownedIn = (x: unknown, out: Set<object>): void => {
  if (isTensor(x)) {
    if (isOwnedFloats(x.data)) out.add(x.data)
  } else if (Array.isArray(x)) for (const v of x) ownedIn(v, out)
  else if (typeof x === 'object' && x !== null) for (const v of Object.values(x)) ownedIn(v, out)
}

/** The owned buffers of a state: its params, its layers' state and the optimizer's state. */
const buffersOf = (s: TrainingState, out: Set<object>): Set<object> => {
  ownedIn(s.model.params, out)
  ownedIn(s.model.state, out)
  ownedIn(s.optState, out)
  return out
}

/**
 * The ledger of a loop that starts from `initial` (whose buffers, the caller's, are never
 * freed). The rule: a buffer is freed when a step's commit finds it in none of the held
 * states, and only if it was made by this loop's steps (it first appeared in a committed
 * state) and never shared. A state the loop dropped without committing (a step discarded
 * because a callback stopped training) leaves its buffers to the garbage collector.
 *
 * @internal
 */
export const makeLedger = (initial: TrainingState): Ledger => {
  const shared = buffersOf(initial, new Set())
  let owned = new Set<object>()
  return {
    commit: (held) => {
      const live = new Set<object>()
      for (const s of held) buffersOf(s, live)
      for (const b of owned) if (!live.has(b)) releaseFloats(b as Float32Array)
      owned = new Set([...live].filter((b) => !shared.has(b)))
    },
    share: (s) => {
      for (const b of buffersOf(s, new Set())) {
        shared.add(b)
        owned.delete(b)
      }
    },
  }
}
