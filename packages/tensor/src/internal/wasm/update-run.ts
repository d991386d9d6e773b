/**
 * Running the optimizer passes of `update.ts` on the process's kernel memory (`heap.ts`)
 * without copying what the memory already holds. The passes of one training step feed each
 * other: Adam reads the moments the last step wrote, the learning-rate scaling reads Adam's
 * output, `applyUpdates` reads the scaled update and the weights the last step wrote.
 *
 * An operand that is a view of the kernels' heap (a tensor buffer there, when the heap has a
 * budget) is read in place, and a result that is a heap tensor buffer written in place.
 * Other results are written in a ring in the memory, copied out into the fresh buffers of
 * the tensors the pass returns, and remembered by the identity of those buffers, so that a
 * later pass given one of them reads it in place instead of copying it in again. Only the
 * gradients (new each step) are copied in.
 *
 * This is sound because tensors are immutable (DESIGN.md): a buffer that became a tensor's
 * data is never written again, so its first elements still equal the memory's copy. A
 * buffer is remembered only after it has been filled; nothing that recycles buffers may
 * hand out one that is remembered here without calling {@link forgetResident} first.
 *
 * The ring is one block of the heap of at most {@link RESIDENT_BYTES} (more when one pass
 * needs more): allocation moves forward; when a pass does not fit in what is left,
 * everything is forgotten and allocation starts again at its start (one step of full copies,
 * then steady again). Results that are heap buffers (owned buffers of a training loop:
 * `allocOwned`) are written in place and need no ring. One module, on the calling thread,
 * except the fused steps of large leaves, which the pool's workers run on their own
 * instances of it ({@link STEP_POOL_MIN}).
 */

import { kernelSet } from '../kernel-set.js'
import { type PoolArg, type PoolKernel, poolThreads, runChunks } from '../pool.js'
import { type WasmMemory, type WasmModule, wasmWorkerExports } from './api.js'
import { module } from './asm.js'
import { HEAP_MAX_PAGES, kernelHeap, type Stage, stage } from './heap.js'
import { adam, addUpdate, momentum, nadam, rms, type StepKernel, scale, stepKernels } from './update.js'

/** Bytes the ring uses before it starts again (64 MiB: the moments, updates and weights of a few million parameters). */
export const RESIDENT_BYTES = 64 << 20

interface Runtime {
  readonly fns: Record<string, (...args: number[]) => void>
  /** The compiled module (the pool's workers instantiate it on the same memory). */
  readonly module: WasmModule
  readonly memory: WasmMemory
  readonly shared: boolean
  /** Laps of the ring so far: a remembered copy is valid in its own lap only. */
  lap: number
  /** The ring's block (byte offset; -1: none yet) and size. */
  base: number
  size: number
  /** The next free byte of the ring, from `base`. */
  head: number
  capacity: number
}

interface Copy {
  readonly lap: number
  /** Byte offset. */
  readonly at: number
  /** Elements held. */
  readonly n: number
}

/** The memory's copies of buffers, by buffer. */
const copies = new WeakMap<object, Copy>()

let runtime: Runtime | null | undefined

const load = (): Runtime | null => {
  const h = kernelHeap()
  if (h === null) return null
  const bytes = module({ min: 1, max: HEAP_MAX_PAGES, shared: h.shared }, [
    adam(),
    scale(),
    addUpdate(),
    momentum(),
    rms(),
    nadam(),
    ...Object.values(stepKernels).map((k) => k()),
  ])
  if (!h.W.validate(bytes)) return null
  try {
    const compiled = new h.W.Module(bytes)
    const fns = new h.W.Instance(compiled, { env: { memory: h.memory } }).exports as Runtime['fns']
    const r: Runtime = {
      fns,
      module: compiled,
      memory: h.memory,
      shared: h.shared,
      lap: 0,
      base: -1,
      size: 0,
      head: 0,
      capacity: RESIDENT_BYTES,
    }
    // every op's Stage reads the ring's copies in place too (the next step's products read
    // the weights this step's optimizer wrote): valid until the ring starts its next lap,
    // which no op does while it runs
    h.resident = (x, n) => {
      const c = copies.get(x)
      return c !== undefined && c.lap === r.lap && c.n >= n ? r.base + c.at : undefined
    }
    return r
  } catch {
    return null
  }
}

/**
 * The ring's block holding at least `need` bytes from its start, taken from the heap (once,
 * or again larger) and never freed; false when the memory cannot hold it.
 */
const ringBlock = (r: Runtime, st: Stage, need: number): boolean => {
  if (r.base >= 0 && r.size >= need) return true
  const size = Math.max(need, Math.min(r.capacity, RESIDENT_BYTES))
  const at = st.keep(size)
  if (at < 0) return false
  // the old block (if any) is not given back: a heap block is never freed twice, and a
  // larger pass is rare (the ring grows once per model)
  r.base = at
  r.size = size
  r.lap++
  r.head = 0
  return true
}

/**
 * Sets the ring's size in bytes (default {@link RESIDENT_BYTES}) and forgets every copy: for
 * tests, which make the ring start again with small buffers. @internal
 */
export const setResidentBytes = (bytes: number): void => {
  if (runtime === undefined) runtime = load()
  if (runtime === null) return
  runtime.capacity = bytes
  runtime.lap++
  runtime.head = 0
}

/** Forgets the memory's copy of `x` (for code that would write into `x` again). @internal */
export const forgetResident = (x: object): void => {
  copies.delete(x)
}

/** True when the memory holds the first `n` elements of `x`. @internal */
export const isResident = (x: object, n: number): boolean => {
  const c = copies.get(x)
  return runtime != null && c !== undefined && c.lap === runtime.lap && c.n >= n
}

/**
 * One pass over elements [0, n4): `ins` read in place where the memory holds them, else
 * copied in; `outs` (undefined: not written) get fresh room, are copied out after `run`
 * and remembered. `run` receives the byte offsets of ins then outs. False, having done
 * nothing, where the kernels are not available or `n4` is 0.
 */
const pass = (
  n4: number,
  ins: readonly ArrayLike<number>[],
  outs: readonly (Float32Array | undefined)[],
  run: (r: Runtime, at: readonly number[]) => void,
): boolean => {
  if (n4 === 0 || kernelSet() !== 'wasm') return false
  if (runtime === undefined) runtime = load()
  const r = runtime
  const st = r === null ? undefined : stage()
  if (r === null || st === undefined) return false
  const bytes = 4 * n4
  const held = (x: ArrayLike<number>): number | undefined => {
    if (st.inPlace(x)) return (x as Float32Array).byteOffset
    const c = copies.get(x)
    return c !== undefined && c.lap === r.lap && c.n >= n4 ? r.base + c.at : undefined
  }
  const placed = (o: Float32Array | undefined) => o !== undefined && st.writesInPlace(o, n4)
  const outsInRing = outs.filter((o) => !placed(o)).length
  let need = bytes * (ins.filter((x) => held(x) === undefined).length + outsInRing)
  if (r.base < 0 || r.head + need > Math.min(r.capacity, r.size)) {
    // start the ring again: every copy is forgotten, so every input not on the heap is copied in
    r.lap++
    r.head = 0
    need = bytes * (ins.filter((x) => !st.inPlace(x)).length + outsInRing)
    r.capacity = Math.max(r.capacity, need)
    if (!ringBlock(r, st, need)) {
      st.finish()
      return false
    }
  }
  const at: number[] = []
  for (const x of ins) {
    let a = held(x)
    if (a === undefined) {
      a = r.base + r.head
      r.head += bytes
      st.copyIn(x, n4, a)
    }
    at.push(a)
  }
  const ringOuts: [Float32Array, number][] = []
  for (const o of outs) {
    if (o !== undefined && placed(o)) at.push(o.byteOffset)
    else {
      const a = r.base + r.head
      r.head += bytes
      at.push(a)
      if (o !== undefined) ringOuts.push([o, a])
    }
  }
  run(r, at)
  const f32 = st.f32()
  for (const [o, a] of ringOuts) {
    o.set(f32.subarray(a / 4, a / 4 + n4))
    copies.set(o, { lap: r.lap, at: a - r.base, n: n4 })
  }
  return st.finish()
}

type Floats = ArrayLike<number>

/** Adam's step on [0, n4) (see `update.ts`), bitwise the plain loop; returns n4 (0: not done). */
export const residentAdamInto = (
  g: Floats,
  mu: Floats,
  nu: Floats,
  muOut: Float32Array,
  nuOut: Float32Array,
  out: Float32Array,
  b1: number,
  b2: number,
  c: number,
  eps: number,
): number => {
  const n4 = g.length & ~3
  return pass(n4, [g, mu, nu], [muOut, nuOut, out], (r, [pg, pm, pn, po1, po2, po3]) =>
    r.fns.adam!(pg!, pm!, pn!, po1!, po2!, po3!, n4, b1, b2, 1 - b1, 1 - b2, c, eps),
  )
    ? n4
    : 0
}

/** `out = f32(x·c)` on [0, n4), bitwise the plain loop; returns n4 (0: not done). */
export const residentScaleInto = (x: Floats, c: number, out: Float32Array): number => {
  const n4 = x.length & ~3
  return pass(n4, [x], [out], (r, [px, po]) => r.fns.scale!(px!, po!, n4, c)) ? n4 : 0
}

/** `out = u = ±0 ? w : f32(w + u)` on [0, n4), bitwise the plain loop; returns n4 (0: not done). */
export const residentAddUpdateInto = (w: Floats, u: Floats, out: Float32Array): number => {
  const n4 = w.length & ~3
  return pass(n4, [w, u], [out], (r, [pw, pu, po]) => r.fns.addUpdate!(pw!, pu!, po!, n4)) ? n4 : 0
}

/** Momentum's trace and, with `out`, the Nesterov update on [0, n4); returns n4 (0: not done). */
export const residentMomentumInto = (
  v: Floats,
  u: Floats,
  tr: Float32Array,
  out: Float32Array | undefined,
  mu: number,
): number => {
  const n4 = v.length & ~3
  return pass(n4, [v, u], [tr, out], (r, [pv, pu, pt, po]) =>
    r.fns.momentum!(pv!, pu!, pt!, po!, n4, mu, out === undefined ? 0 : 1),
  )
    ? n4
    : 0
}

/** RMSprop's step on [0, n4) (`mu`, `muOut` given: centered); returns n4 (0: not done). */
export const residentRmsInto = (
  g: Floats,
  nu: Floats,
  mu: Floats | undefined,
  nuOut: Float32Array,
  muOut: Float32Array | undefined,
  out: Float32Array,
  rho: number,
  eps: number,
): number => {
  const n4 = g.length & ~3
  const centered = mu !== undefined && muOut !== undefined
  // not centered: `mu` is not read (its pointer is any) and `muOut` not written (room given all the same)
  return pass(n4, centered ? [g, nu, mu] : [g, nu], [nuOut, centered ? muOut : undefined, out], (r, at) => {
    const [pg, pn] = at as [number, number]
    const [pm, pNu, pMu, pOut] = (centered ? at.slice(2) : [pn, ...at.slice(2)]) as [
      number,
      number,
      number,
      number,
    ]
    r.fns.rms!(pg, pn, pm, pNu, pMu, pOut, n4, rho, 1 - rho, eps, centered ? 1 : 0)
  })
    ? n4
    : 0
}

/** Nadam's step on [0, n4) (see `update.ts`), bitwise the plain loop; returns n4 (0: not done). */
export const residentNadamInto = (
  g: Floats,
  mu: Floats,
  nu: Floats,
  muOut: Float32Array,
  nuOut: Float32Array,
  out: Float32Array,
  b1: number,
  b2: number,
  cm: number,
  cg: number,
  cv: number,
  eps: number,
): number => {
  const n4 = g.length & ~3
  return pass(n4, [g, mu, nu], [muOut, nuOut, out], (r, [pg, pm, pn, po1, po2, po3]) =>
    r.fns.nadam!(pg!, pm!, pn!, po1!, po2!, po3!, n4, b1, b2, 1 - b1, 1 - b2, cm, cg, cv, eps),
  )
    ? n4
    : 0
}

/**
 * Fused steps on at least this many elements run on the pool (where there is one, on a shared
 * memory), in chunks of {@link STEP_CHUNK}: Adam's step on 65,536 floats takes ~250 µs on one
 * thread, against 10-120 µs to hand an op to the workers (see pool.ts).
 */
export const STEP_POOL_MIN = 1 << 16

/** Elements per chunk of a pooled fused step (fixed: an elementwise pass gives the same bits for any split). */
export const STEP_CHUNK = 1 << 14

/** The names of the fused steps, in the order the pool's kernel refers to them by index. */
const stepNames = Object.keys(stepKernels) as StepKernel[]

/**
 * The arguments of a pooled fused step: the kernel's index in `stepNames`, how many pointers
 * follow, the pointers (byte offsets), the elements `n4`, then the kernel's scalars.
 */
type StepArgs = readonly number[]

/**
 * Chunk `chunk` of a fused step: elements [chunk·STEP_CHUNK, +STEP_CHUNK) ∩ [0, n4), every
 * pointer moved to it. Self-contained (the pool ships its source text; `names` is
 * `stepNames`, `size` is `STEP_CHUNK`).
 */
const stepChunk = (
  fns: Record<string, (...args: number[]) => void>,
  names: readonly string[],
  size: number,
  args: StepArgs,
  chunk: number,
): void => {
  const k = args[0]!
  const np = args[1]!
  const n4 = args[2 + np]!
  const i0 = chunk * size
  const len = Math.min(size, n4 - i0)
  const call: number[] = []
  for (let j = 0; j < np; j++) call.push(args[2 + j]! + 4 * i0)
  call.push(len)
  for (let j = 3 + np; j < args.length; j++) call.push(args[j]!)
  fns[`step_${names[k]!}`]!(...call)
}

/** A chunk in a worker, on the worker's own instance of the module ({@link wasmWorkerExports}). */
const wasmStepChunk = (args: StepArgs, chunk: number, context: readonly [WasmMemory, WasmModule]): void =>
  stepChunk(
    workerExports<Record<string, (...a: number[]) => void>>('__purennSteps', context),
    stepNamesShipped,
    stepChunkSize,
    args,
    chunk,
  )
// what the shipped chunk reads, provided in the workers by the parts of those names (the pool
// evaluates parts as constants there; an import would not survive shipping)
declare const workerExports: typeof wasmWorkerExports
declare const stepNamesShipped: readonly string[]
declare const stepChunkSize: number

const wasmStepKernel: PoolKernel<readonly PoolArg[]> = {
  name: 'wasmStep',
  parts: [
    ['workerExports', wasmWorkerExports],
    ['stepNamesShipped', JSON.stringify(stepNames)],
    ['stepChunkSize', String(STEP_CHUNK)],
    ['stepChunk', stepChunk],
    ['wasmStepChunk', wasmStepChunk],
  ],
  entry: (args, chunk) => stepChunk(runtime!.fns, stepNames, STEP_CHUNK, args as StepArgs, chunk),
  context: () => [runtime!.memory, runtime!.module],
}

/**
 * A whole optimizer step on [0, n4) in one pass (`stepKernels` of `update.ts`): `ins` are
 * `g`, `w` and the old state, `outs` the new state and the new weights, in the order of the
 * kernel's signature, `consts` its scalars (f64; fit's factor `f` a float32). Bitwise the plain loops of
 * `@purenn/optim`'s fused steps, so bitwise the chain's passes, on any number of threads
 * (from {@link STEP_POOL_MIN} elements the pool runs chunks of it); returns n4 (0: not done).
 */
export const residentStepInto = (
  kernel: StepKernel,
  ins: readonly Floats[],
  outs: readonly Float32Array[],
  consts: readonly number[],
): number => {
  const n4 = ins[0]!.length & ~3
  return pass(n4, ins, outs, (r, at) => {
    if (n4 < STEP_POOL_MIN || poolThreads() < 2 || !r.shared) r.fns[`step_${kernel}`]!(...at, n4, ...consts)
    else
      runChunks(
        `optimizer step (${kernel})`,
        wasmStepKernel,
        [stepNames.indexOf(kernel), at.length, ...at, n4, ...consts],
        Math.ceil(n4 / STEP_CHUNK),
      )
  })
    ? n4
    : 0
}
