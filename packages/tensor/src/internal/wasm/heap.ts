/**
 * The kernels' memory and the heap in it: one WebAssembly memory per process (shared where
 * `SharedArrayBuffer` exists, so the pool's workers run the matmul kernels on it), which
 * every generated module imports as `env.memory`, and a small allocator of its bytes
 * written here, bookkeeping in JavaScript only.
 *
 * Blocks are 64-byte aligned and come in size classes: multiples of 64 bytes up to 64 KiB,
 * then eight classes per doubling (at most 12.5% slack). A freed block goes on its class's
 * free list and is handed out again before the heap grows; the memory never shrinks. Each
 * block has at least {@link SLACK} bytes past what was asked, so a kernel that reads or
 * writes a partial group of four floats past the end stays in its own block.
 *
 * Three kinds of blocks:
 * - scratch, for one op (operands that are not on the heap, partial sums): taken and freed
 *   by the op ({@link stage}), on the calling thread, before it returns;
 * - owned blocks ({@link ownedFloats}), whose lifetime a training loop manages: the params
 *   and optimizer state `fit`'s ledger frees, and every tensor buffer made while a step
 *   scope is open ({@link openStepScope}), freed when the step ends unless its result holds
 *   it; a tensor on one refuses to be read once it is freed (`tensor.ts`);
 * - tensor buffers ({@link heapFloats}, used by `alloc` in `tensor.ts`): a Float32Array view
 *   of a zeroed block, freed when the view is garbage collected (a FinalizationRegistry on
 *   the view). Only with a shared memory: growing a non-shared memory detaches every view of
 *   it, while views of a shared one stay valid. The views handed out are remembered (a
 *   WeakSet), so that `fromBuffer` can copy any other view of the heap (a subarray of a
 *   tensor's data would not keep its block alive).
 *
 * Collection runs when the event loop turns (a FinalizationRegistry's callbacks are tasks):
 * a synchronous loop that never yields frees nothing until it does, and the heap then fills
 * up to its budget ({@link setHeapBudget}), past which `alloc` hands out plain buffers again.
 * Results never depend on where a buffer is.
 */

import { type WasmApi, type WasmMemory, wasmApi } from './api.js'

const PAGE = 65536

/**
 * Pages of 64 KiB the memory may grow to: 1 GiB, so that every byte offset stays a positive
 * i32 (the batch-norm and elementwise kernels compare addresses as signed).
 */
export const HEAP_MAX_PAGES = 16384

/** Bytes past the end of every block, for kernels that touch a partial group past it. */
export const SLACK = 64

/** Bytes at the end of the memory nobody uses (a read past the last block stays in bounds). */
const TAIL = 256

/**
 * Default budget: 0, tensors stay on plain buffers unless `PURENN_HEAP_MIB` (or
 * {@link setHeapBudget}) asks for more. With a budget, `alloc` hands out heap blocks while
 * the heap is below it (a tensor that finds no freed block of its class and would need the
 * heap to grow past it, or that is larger than {@link HEAP_HUGE_BYTES}, gets a plain buffer).
 *
 * Why 0: V8 clears the targets of a FinalizationRegistry (and of WeakRefs) only in full
 * mark-compact collections, not in the young-generation scavenges that collect a step's
 * garbage, and runs the callbacks only when the event loop turns. A training step at batch
 * 32 leaves ~3.6 MB of tensor buffers behind, a full collection comes every second or so
 * (more rarely in a synchronous loop, which `fit`'s epoch is), so the heap fills up to its
 * budget within tens of steps and stays full: measured, 6-12% of buffers came from the heap
 * over 300 steps with a 128 MiB budget, and the peak RSS of an epoch grew by the budget
 * (739 MiB with 512 MiB, 308 MiB without). Reusing a step's buffers needs to know when they
 * die (the tape releasing intermediates), not the collector.
 */
export const HEAP_BUDGET = 0

/** Tensors larger than this (64 MiB) stay on plain buffers. */
export const HEAP_HUGE_BYTES = 64 << 20

/**
 * Tensors of fewer elements stay on plain buffers: a heap view costs a registration with
 * the FinalizationRegistry and a WeakSet entry (~0.3 µs), against ~0.1 µs for a small plain
 * buffer, and a small operand is cheap to copy.
 */
export const HEAP_MIN = 256

interface Heap {
  readonly W: WasmApi
  readonly memory: WasmMemory
  readonly shared: boolean
  /** The memory's buffer the views below were made on. */
  buffer: ArrayBuffer | SharedArrayBuffer
  f32: Float32Array
  f64: Float64Array
  /** Every buffer object of the memory seen so far (one per size after growing). */
  readonly buffers: WeakSet<object>
  /** The views handed out as tensor buffers, each the whole of its block. */
  readonly issued: WeakSet<object>
  /** The views of {@link ownedFloats}: the ones {@link releaseFloats} may free. */
  readonly owned: WeakSet<object>
  /** The views of owned blocks {@link releaseFloats} has freed (a tensor on one must not be read). */
  readonly released: WeakSet<object>
  /** Free blocks by class (bytes). */
  readonly free: Map<number, number[]>
  /** First byte never handed out. */
  top: number
  /** Bytes of tensor blocks currently handed out within the budget ({@link heapFloats}). */
  tensorBytes: number
  /** Bytes of owned blocks currently handed out ({@link ownedFloats}, outside the budget). */
  ownedBytes: number
  budget: number
  /** {@link SCOPE_LIMIT}, or what {@link setScopeLimit} set. */
  scopeLimit: number
  /** Tensor buffers handed out, and refused for the budget, so far. */
  served: number
  refused: number
  /** Frees a collected view's block: its offset, size, and whether it was owned. */
  readonly registry: FinalizationRegistry<readonly [number, number, boolean]>
  /**
   * Where the memory already holds the first `n` floats of a buffer that is not on the heap
   * (the optimizer passes' ring of the results they copied out, `update-run.ts`, which sets
   * this when it loads), as a byte offset; undefined: nowhere, copy it.
   */
  resident: (x: object, n: number) => number | undefined
}

/** `PURENN_HEAP_MIB`, the budget in MiB (0: tensors never on the heap), when set. */
const envBudget = (): number | undefined => {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.PURENN_HEAP_MIB
  if (raw === undefined || raw.trim() === '') return undefined
  const mib = Number(raw)
  if (!Number.isFinite(mib) || mib < 0)
    throw new Error(`PURENN_HEAP_MIB must be a number of MiB >= 0, got '${raw}'`)
  return mib * 2 ** 20
}

/** undefined: not tried yet; null: no WebAssembly here. */
let heap: Heap | null | undefined

const load = (): Heap | null => {
  const W = wasmApi()
  if (W === undefined) return null
  const shared = typeof SharedArrayBuffer === 'function'
  const budget = envBudget() ?? HEAP_BUDGET
  try {
    const memory = new W.Memory(
      shared ? { initial: 16, maximum: HEAP_MAX_PAGES, shared } : { initial: 16, maximum: HEAP_MAX_PAGES },
    )
    const h: Heap = {
      W,
      memory,
      shared,
      buffer: memory.buffer,
      f32: new Float32Array(memory.buffer),
      f64: new Float64Array(memory.buffer),
      buffers: new WeakSet([memory.buffer]),
      issued: new WeakSet(),
      free: new Map(),
      top: 64,
      tensorBytes: 0,
      ownedBytes: 0,
      budget,
      scopeLimit: SCOPE_LIMIT,
      served: 0,
      refused: 0,
      owned: new WeakSet(),
      released: new WeakSet(),
      registry: new FinalizationRegistry(([at, size, owned]) => {
        if (owned) h.ownedBytes -= size
        else h.tensorBytes -= size
        release(h, at, size)
      }),
      resident: () => undefined,
    }
    return h
  } catch {
    return null
  }
}

/** The process's kernel memory and heap; null where WebAssembly is missing. @internal */
export const kernelHeap = (): Heap | null => {
  if (heap === undefined) heap = load()
  return heap
}

/** The views of the memory, made again when it has grown (or, not shared, been detached). */
const refresh = (h: Heap): void => {
  const b = h.memory.buffer
  if (b === h.buffer) return
  h.buffer = b
  h.f32 = new Float32Array(b)
  h.f64 = new Float64Array(b)
  if (h.shared) h.buffers.add(b)
}

/** The class of a block of at least `bytes` bytes (its size). */
const sizeClass = (bytes: number): number => {
  if (bytes <= 65536) return (bytes + 63) & ~63
  const step = 2 ** (Math.floor(Math.log2(bytes)) - 3)
  return Math.ceil(bytes / step) * step
}

const release = (h: Heap, at: number, size: number): void => {
  const list = h.free.get(size)
  if (list === undefined) h.free.set(size, [at])
  else list.push(at)
}

/**
 * The offset of a block of `size` bytes (a class): a freed one (not zero) if there is one,
 * else a fresh one (zero) at the top; -1 when the memory cannot hold it.
 */
const take = (h: Heap, size: number): number => {
  const list = h.free.get(size)
  if (list !== undefined && list.length > 0) return list.pop()!
  const at = h.top
  const end = at + size + TAIL
  if (end > HEAP_MAX_PAGES * PAGE) return -1
  const have = h.memory.buffer.byteLength
  if (have < end) {
    // grow by a quarter at least: fewer grows (each makes new views), pages are committed when touched
    const want = Math.max(end - have, have >> 2)
    const pages = Math.min(HEAP_MAX_PAGES - have / PAGE, Math.ceil(want / PAGE))
    try {
      h.memory.grow(Math.max(pages, Math.ceil((end - have) / PAGE)))
    } catch {
      return -1
    }
  }
  h.top = at + size
  // a fresh block is zero: nothing is ever written past `top`
  return at
}

/**
 * A view of a block of `size` bytes for `n` floats, registered for collection unless
 * `unregistered` (a step scope's block: its scope frees or registers it when it closes): an
 * owned one (contents unspecified) when `owned`, else a zeroed one counted in the budget's
 * bytes.
 */
const issue = (
  h: Heap,
  n: number,
  size: number,
  owned: boolean,
  unregistered = false,
): Float32Array | undefined => {
  const list = h.free.get(size)
  const reused = list !== undefined && list.length > 0
  const at = take(h, size)
  if (at < 0) return undefined
  refresh(h)
  const v = new Float32Array(h.buffer, at, n)
  if (owned) {
    h.ownedBytes += size
    h.owned.add(v)
  } else {
    if (reused) v.fill(0)
    h.tensorBytes += size
  }
  h.served++
  h.issued.add(v)
  if (!unregistered) h.registry.register(v, [at, size, owned], v)
  return v
}

/** Registers `v`, an owned block, for collection (freed when the view is collected). */
const register = (h: Heap, v: Float32Array): void => {
  if (h.owned.has(v)) h.registry.register(v, [v.byteOffset, sizeClass(4 * v.length + SLACK), true], v)
}

/**
 * The heap, when a tensor buffer of `n` floats may live on it: the memory is shared (growing a
 * non-shared one would detach every view) and `n` is neither below {@link HEAP_MIN} nor its
 * bytes above {@link HEAP_HUGE_BYTES}.
 */
const heapFor = (n: number): Heap | undefined => {
  if (n < HEAP_MIN || 4 * n > HEAP_HUGE_BYTES) return undefined
  const h = heap === undefined ? kernelHeap() : heap
  return h === null || !h.shared ? undefined : h
}

/**
 * A zeroed float32 buffer of `n` elements on the heap, freed when the returned view is
 * collected (for the wasm kernels: the caller checks the kernel set); undefined (use a plain
 * buffer) when the memory is not shared, `n` is below {@link HEAP_MIN} or the bytes above {@link HEAP_HUGE_BYTES},
 * or the budget is spent. @internal
 */
export const heapFloats = (n: number): Float32Array | undefined => {
  const h = heapFor(n)
  if (h === undefined) return undefined
  const size = sizeClass(4 * n + SLACK)
  const list = h.free.get(size)
  const reused = list !== undefined && list.length > 0
  if (h.tensorBytes + size > h.budget || (!reused && h.top + size > h.budget)) {
    h.refused++
    return undefined
  }
  return issue(h, n, size, false)
}

/**
 * A float32 buffer of `n` elements on the heap whose lifetime its caller manages, outside
 * the budget: its contents are unspecified (the caller writes all `n`), and it is freed by
 * {@link releaseFloats} once nothing reads it, or when the view is collected if it never is.
 * For the buffers of a training loop that knows when a step's results die (`fit` frees the
 * params and optimizer state two steps old: see `@purenn/train`'s ledger). Undefined (use a
 * plain buffer) where {@link heapFloats} would give none for its size, or the memory is
 * full. @internal
 */
export const ownedFloats = (n: number): Float32Array | undefined => {
  const h = heapFor(n)
  return h === undefined ? undefined : issue(h, n, sizeClass(4 * n + SLACK), true)
}

/**
 * Owned bytes (the loop's params and state, and the open scopes' blocks) past which a step
 * scope hands out no more blocks and `alloc` gives plain buffers: 512 MiB, half the memory,
 * so that a step with very large intermediates never fills the memory the ops' scratch
 * needs (an op that finds no room runs its js loop, with other bits; see the kernels guide).
 */
export const SCOPE_LIMIT = 512 << 20

/**
 * The owned buffers `alloc` hands out while a step scope is open ({@link openStepScope});
 * undefined when none is. The allocator's state, like the free lists: it decides where a
 * buffer lives and when its block is reused, never what a result is.
 */
let scoped: Float32Array[] | undefined

/**
 * A buffer of `n` floats for `alloc` while a step scope is open, zeroed unless `zeroed` is
 * false (the caller writes every element): an owned block the scope frees when it closes,
 * unless the step's result holds it. Undefined when no scope is open, or where
 * {@link ownedFloats} gives none. @internal
 */
export const scopedFloats = (n: number, zeroed = true): Float32Array | undefined => {
  if (scoped === undefined) return undefined
  const h = heapFor(n)
  if (h === undefined) return undefined
  const size = sizeClass(4 * n + SLACK)
  if (h.ownedBytes + size > h.scopeLimit) return undefined
  const v = issue(h, n, size, true, true)
  if (v === undefined) return undefined
  if (zeroed) v.fill(0)
  scoped.push(v)
  return v
}

/** An open step scope: {@link openStepScope}. @internal */
export interface StepScope {
  /**
   * Closes the scope, restoring the one it was opened in. `keep`: the buffers the step's
   * result reads (found by walking it); every other buffer made in the scope is freed at
   * once. Undefined: the result could not be walked (it holds a value whose insides cannot
   * be seen), so nothing is freed and the blocks go back when their views are collected.
   * What is kept stays owned: the loop that holds the result frees it (`fit`'s ledger).
   */
  readonly close: (keep: ReadonlySet<object> | undefined) => void
}

/**
 * Opens a step scope: until it is closed, the tensor buffers `alloc` makes (every op's
 * result, on the wasm kernels with a shared memory) are owned blocks of the heap, which the
 * next ops read in place and which are freed when the step ends, instead of plain buffers
 * the garbage collector finds later. For a training loop that runs one synchronous step at
 * a time and knows what the step returns (`fit`'s trainer); the contract is that of a pure
 * step: a tensor made during it and kept anywhere but in its result (a cache, a closure
 * outside the step) is read after its block was reused. @internal
 */
export const openStepScope = (): StepScope => {
  const outer = scoped
  const mine: Float32Array[] = []
  scoped = mine
  let open = true
  return {
    close: (keep) => {
      if (!open) return
      open = false
      scoped = outer
      const h = heap
      if (h == null) return
      // what is kept is registered now: a loop that drops it without freeing it leaves it to
      // the collector, as any owned block
      for (const b of mine)
        if (keep === undefined || keep.has(b)) register(h, b)
        else releaseFloats(b)
      mine.length = 0
    },
  }
}

/**
 * Runs `make` with no step scope open: for a value made once and kept across steps (a
 * cache), whose buffers must not be freed when the step that made it ends. @internal
 */
export const unscoped = <T>(make: () => T): T => {
  const outer = scoped
  scoped = undefined
  try {
    return make()
  } finally {
    scoped = outer
  }
}

/**
 * True when `x` is a buffer of {@link ownedFloats} not yet released. @internal
 */
export const isOwnedFloats = (x: object): boolean => heap?.owned.has(x) === true

/**
 * Frees the block of `x`, a buffer of {@link ownedFloats}, at once: the caller promises
 * that nothing reads `x` again (its block is handed out to the next buffers). False, doing
 * nothing, for any other buffer or one already released. @internal
 */
export const releaseFloats = (x: Float32Array): boolean => {
  const h = heap
  if (h == null || !h.owned.delete(x)) return false
  h.released.add(x)
  h.issued.delete(x)
  h.registry.unregister(x)
  const size = sizeClass(4 * x.length + SLACK)
  h.ownedBytes -= size
  release(h, x.byteOffset, size)
  return true
}

/**
 * True when `x` is a buffer of {@link ownedFloats} that {@link releaseFloats} has freed: its
 * block may hold another tensor's values now. @internal
 */
export const wasReleased = (x: object): boolean => heap?.released.has(x) === true

/**
 * True when `x` views the heap's memory but is not a whole buffer handed out by
 * {@link heapFloats}: a tensor must not keep it (its block may be freed while it lives). @internal
 */
export const isHeapSlice = (x: Float32Array): boolean => {
  const h = heap
  return h?.shared === true && h.buffers.has(x.buffer) && !h.issued.has(x)
}

/**
 * Sets the bytes of tensor buffers the heap may hold (default {@link HEAP_BUDGET}); returns
 * the previous budget. For tests and for processes that want a smaller cap. @internal
 */
export const setHeapBudget = (bytes: number): number => {
  const h = kernelHeap()
  if (h === null) return 0
  const prev = h.budget
  h.budget = bytes
  return prev
}

/**
 * Sets the owned bytes past which step scopes hand out no more blocks (default
 * {@link SCOPE_LIMIT}); returns the previous limit. For tests. @internal
 */
export const setScopeLimit = (bytes: number): number => {
  const h = kernelHeap()
  if (h === null) return 0
  const prev = h.scopeLimit
  h.scopeLimit = bytes
  return prev
}

/**
 * Bytes of tensor buffers (within the budget) and of owned buffers not yet freed, the heap's
 * top, the memory's size, and how many tensor buffers the heap has handed out and refused
 * (budget spent) so far. @internal
 */
export const heapStats = (): {
  tensorBytes: number
  ownedBytes: number
  top: number
  memoryBytes: number
  served: number
  refused: number
} => {
  const h = kernelHeap()
  return h === null
    ? { tensorBytes: 0, ownedBytes: 0, top: 0, memoryBytes: 0, served: 0, refused: 0 }
    : {
        tensorBytes: h.tensorBytes,
        ownedBytes: h.ownedBytes,
        top: h.top,
        memoryBytes: h.memory.buffer.byteLength,
        served: h.served,
        refused: h.refused,
      }
}

/**
 * One op's places in the memory. `read(x, n)`: the byte offset of x's first `n` floats,
 * x's own place when it is on the heap, else the memory's copy of x when it has one (the
 * weights and moments the optimizer wrote: {@link Heap.resident}), else a scratch copy. `write(o, n)`: where the kernel
 * writes `o`'s first `n` floats, o's own block when it is a tensor buffer of the heap (at
 * least `n` floats), else scratch copied into `o` by `finish`. `raw(bytes)`: scratch.
 * `finish()` copies the results out and frees the scratch; `ok` is false when something
 * did not fit (then `finish` writes nothing and the caller runs its js loop).
 */
export interface Stage {
  readonly heap: Heap
  ok: boolean
  read(x: ArrayLike<number>, n: number, at?: number): number
  write(o: Float32Array, n: number): number
  raw(bytes: number): number
  /** True when `x` is read in place by {@link Stage.read}. */
  inPlace(x: ArrayLike<number>): boolean
  /** True when {@link Stage.write} writes `o`'s first `n` floats in place. */
  writesInPlace(o: Float32Array, n: number): boolean
  /** Copies `n` floats of x from `start` (default 0) to byte `at` (a place the caller holds). */
  copyIn(x: ArrayLike<number>, n: number, at: number, start?: number): void
  /** A block of `bytes` that is never freed (the caller keeps it for the process); -1 when it does not fit. */
  keep(bytes: number): number
  f32(): Float32Array
  f64(): Float64Array
  finish(): boolean
}

/** A {@link Stage} on the process's memory; undefined where WebAssembly is missing. @internal */
export const stage = (): Stage | undefined => {
  const h = heap === undefined ? kernelHeap() : heap
  if (h === null) return undefined
  const scratch: number[] = []
  const outs: [Float32Array, number, number][] = []
  const s: Stage = {
    heap: h,
    ok: true,
    raw: (bytes) => {
      const size = sizeClass(bytes + SLACK)
      const at = take(h, size)
      if (at < 0) {
        s.ok = false
        return 0
      }
      scratch.push(at, size)
      return at
    },
    inPlace: (x) => h.shared && ArrayBuffer.isView(x) && h.buffers.has((x as Float32Array).buffer),
    writesInPlace: (o, n) => h.shared && o.length >= n && h.issued.has(o),
    copyIn: (x, n, at, start = 0) => {
      refresh(h)
      if (x instanceof Float32Array)
        h.f32.set(start === 0 && x.length === n ? x : x.subarray(start, start + n), at / 4)
      else for (let i = 0; i < n; i++) h.f32[at / 4 + i] = x[start + i]!
    },
    keep: (bytes) => take(h, sizeClass(bytes + SLACK)),
    read: (x, n, start = 0) => {
      if (s.inPlace(x)) return (x as Float32Array).byteOffset + 4 * start
      const held = h.resident(x, start + n)
      if (held !== undefined) return held + 4 * start
      const at = s.raw(4 * n)
      if (s.ok) s.copyIn(x, n, at, start)
      return at
    },
    write: (o, n) => {
      if (s.writesInPlace(o, n)) return o.byteOffset
      const at = s.raw(4 * n)
      outs.push([o, at, n])
      return at
    },
    f32: () => {
      refresh(h)
      return h.f32
    },
    f64: () => {
      refresh(h)
      return h.f64
    },
    finish: () => {
      if (s.ok) {
        refresh(h)
        for (const [o, at, n] of outs) o.set(h.f32.subarray(at / 4, at / 4 + n))
      }
      for (let i = 0; i < scratch.length; i += 2) release(h, scratch[i]!, scratch[i + 1]!)
      return s.ok
    },
  }
  return s
}

/**
 * Runs `run` with `kernels` (the runtime or exports an op needs) on a fresh {@link Stage},
 * then {@link Stage.finish}es it: false, having run nothing, where `kernels` is missing
 * (`null` or `undefined`) or there is no memory; else what `finish` says (false when
 * something did not fit: the caller then runs its js loop). @internal
 */
export const staged = <K>(kernels: K | null | undefined, run: (kernels: K, st: Stage) => void): boolean => {
  const st = kernels == null ? undefined : stage()
  if (kernels == null || st === undefined) return false
  run(kernels, st)
  return st.finish()
}
