/**
 * The persistent pool of worker_threads that heavy kernels run on (docs/contributing/design.md,
 * "Parallelism"). The public API stays synchronous:
 *
 * 1. the calling thread posts the op (kernel name, shared buffers, sizes, chunk range) to
 *    every worker through its MessagePort, bumps a generation counter in a shared control
 *    block and wakes the workers with `Atomics.notify`;
 * 2. every thread, the caller included, claims chunks from a shared ticket counter
 *    (work stealing) and runs the kernel on each; chunks write disjoint parts of the
 *    output, and the split into chunks is fixed by the caller from the sizes only, so the
 *    result does not depend on the thread count nor on which thread ran which chunk;
 * 3. the caller waits with `Atomics.wait` (in slices, checking that the workers are alive)
 *    until all chunks are done.
 *
 * When the caller had to wait for the workers well beyond its own share of an op (a worker
 * descheduled on a machine shared with other jobs), the ops of the next 200 ms run on the
 * calling thread alone; the split into chunks is the same, so are the results.
 *
 * The ticket counter is a 64-bit integer that only grows: an op owns tickets
 * [base, base + chunks), so a worker that wakes late with an old op in hand finds the
 * counter past that op's range and claims nothing. A worker that dies while an op is
 * pending makes the op throw; the pool is then dropped whole (its control block and
 * scratch buffers too, so a dying worker cannot touch the next op) and rebuilt on the
 * next op.
 *
 * The threads are Node's worker_threads, or Web Workers in a cross-origin isolated page (where
 * SharedArrayBuffer exists); elsewhere (a plain page, Node before 20.16) every kernel runs on
 * the calling thread, with the same results (see ./platform.ts).
 *
 * Workers run code shipped as text: a kernel is a list of self-contained functions (no
 * imports, no free variables but each other) whose `.toString()` is evaluated once per
 * worker. That works the same from TypeScript sources (vitest, tsx) and from `dist/`.
 *
 * Mutable state here is the pool itself and the thread-count setting: process
 * configuration, with no observable effect on results.
 */

import { type PoolWorker, platform } from './platform.js'
import type { WasmMemory, WasmModule } from './wasm/api.js'

/**
 * A value a pooled kernel receives: shared buffers and numbers, or a shared WebAssembly
 * memory and the module of the generated kernels.
 */
export type PoolArg = Float32Array | Int32Array | number | WasmMemory | WasmModule

/**
 * A kernel the pool can run. `parts` are self-contained functions, evaluated in the
 * workers as `const name = <source>` in order; the last part computes one chunk
 * (`(args, chunk, context)`, `context` the values of {@link PoolKernel.context}).
 * On the calling thread `entry` itself is called, so both run the same code.
 */
export interface PoolKernel<A extends readonly PoolArg[]> {
  readonly name: string
  // biome-ignore lint/complexity/noBannedTypes: only the source text of these functions is used
  readonly parts: readonly (readonly [name: string, fn: Function | string])[]
  readonly entry: (args: A, chunk: number) => void
  /**
   * Values each worker receives once, with the kernel's code, and passes to every chunk as
   * a third argument (e.g. a compiled WebAssembly module and its shared memory: posting a
   * module with every op costs a millisecond of cloning on each side, longer than a chunk).
   * A function, so that the values are made only when the kernel first runs on the pool.
   */
  readonly context?: () => readonly PoolArg[]
}

// Control block layout (Int32Array over a SharedArrayBuffer).
const GEN = 0 // generation: bumped once per op, workers wait on it
const DONE = 1 // chunks finished in the current op
const CRASH = 2 // test hook: index of a worker that must exit when it claims its next chunk
// (STALL + index: a worker that must spin forever instead)
const BY_WORKERS = 3 // chunks run by workers since the pool started (for tests and benchmarks)
const QUIET = 4 // 1 while ops run on the calling thread alone: workers then sleep without polling
const DEAD = 5 // DEAD + 3w: 1 when worker w has exited, DEAD + 3w + 1: its exit code,
// DEAD + 3w + 2: 1 once worker w has started its loop
/** Most chunks one op may have. */
const MAX_CHUNKS = 1 << 16
/**
 * How long a worker polls for the next op before it sleeps (ms). Ops of a training step
 * come tens of µs apart; a sleeping worker takes ~10-30 µs to wake and pick up an op, a
 * polling one well under 1 µs (measured with bench/run.ts, threshold table). A worker that
 * ran every chunk of an op alone does not poll: the calling thread, which claims chunks as
 * soon as it has posted, did not run meanwhile, so the two share a core, where polling
 * would only keep the calling thread off it (bench/op-overhead.ts: a woken worker that
 * polled on the caller's core cost each op SPIN_MS more).
 */
const SPIN_MS = 0.25
/**
 * How long the calling thread polls for the workers' last chunks before it sleeps (ms): a
 * chunk takes µs to tens of µs, a sleeping thread 10-60 µs to wake up.
 */
const WAIT_SPIN_MS = 0.05
/** How long the caller sleeps between liveness checks while waiting for workers (ms). */
const WAIT_SLICE_MS = 20
/** Test hook offset in the CRASH slot: `STALL + w` makes worker w loop forever. */
const STALL = 1000

/**
 * The code each worker runs. Plain JavaScript (CommonJS, `eval: true`), built once; the
 * kernels arrive later as text with the first op that uses them.
 */
const WORKER_SOURCE = `'use strict'
const { workerData, receiveMessageOnPort } = require('node:worker_threads')
const { control, tickets, port, id } = workerData
const ctrl = new Int32Array(control)
const ticket = new BigInt64Array(tickets)
const GEN = ${GEN}, DONE = ${DONE}, CRASH = ${CRASH}, BY_WORKERS = ${BY_WORKERS}, QUIET = ${QUIET}, DEAD = ${DEAD}, STALL = ${STALL}
process.on('exit', (code) => {
  Atomics.store(ctrl, DEAD + 3 * id + 1, code)
  Atomics.store(ctrl, DEAD + 3 * id, 1)
  Atomics.notify(ctrl, DONE)
})
const kernels = new Map()
const contexts = new Map()
// Transpilers that keep function names (esbuild's keepNames) wrap them in __name(...).
const __name = (fn) => fn
const install = (name, parts, context) => {
  const body = parts.map(([n, src]) => 'const ' + n + ' = ' + src + '\\n').join('') +
    'return ' + parts[parts.length - 1][0]
  kernels.set(name, new Function('__name', body)(__name))
  contexts.set(name, context)
}
// Runs the chunks of the job that this worker can claim; returns how many it ran.
const run = (job) => {
  const crash = Atomics.load(ctrl, CRASH)
  if (crash >= 0 && crash !== id && crash !== STALL + id) return 0
  const fn = kernels.get(job.kernel)
  const context = contexts.get(job.kernel)
  const end = job.base + BigInt(job.chunks)
  for (let mine = 0; ; mine++) {
    let t = Atomics.load(ticket, 0)
    while (t >= job.base && t < end && Atomics.compareExchange(ticket, 0, t, t + 1n) !== t) t = Atomics.load(ticket, 0)
    if (t < job.base || t >= end) return mine
    if (crash === id) process.exit(1)
    if (crash === STALL + id) for (;;) {}
    try {
      fn(job.args, Number(t - job.base), context)
    } catch (e) {
      port.postMessage({ error: String((e && e.stack) || e) })
      throw e
    }
    Atomics.add(ctrl, BY_WORKERS, 1)
    if (Atomics.add(ctrl, DONE, 1) + 1 === job.chunks) Atomics.notify(ctrl, DONE)
  }
}
// Poll the generation for a while before sleeping: ops often come back to back, and a
// futex wake-up costs more than the poll. True when nothing came (then sleep), at once
// while the calling thread runs ops alone (QUIET).
const spin = () => {
  const t0 = performance.now()
  for (;;) {
    for (let i = 0; i < 256; i++) if (Atomics.load(ctrl, GEN) !== seen) return false
    if (performance.now() - t0 > ${SPIN_MS} || Atomics.load(ctrl, QUIET) === 1) return true
  }
}
let seen = 0
const loop = () => {
  Atomics.store(ctrl, DEAD + 3 * id + 2, 1)
  let job
  // true after an op this worker ran alone: sleep without polling (see SPIN_MS)
  let alone = false
  for (;;) {
    const gen = Atomics.load(ctrl, GEN)
    if (gen === seen) {
      if (alone || spin()) Atomics.wait(ctrl, GEN, seen)
      alone = false
      continue
    }
    seen = gen
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      if (m.message.parts !== undefined) install(m.message.kernel, m.message.parts, m.message.context)
      job = m.message
    }
    if (job === undefined) continue
    alone = run(job) === job.chunks
    job = undefined // run returns once all its chunks are claimed: let its buffers go
  }
}
// Start from the event loop, so that the worker's loop start time is set (see isStopped).
setImmediate(loop)
`

/**
 * The code each Web Worker runs (browsers). A Web Worker cannot take messages while it
 * blocks, so it runs each op from its message handler instead of a waiting loop; the op
 * itself is claimed from the same ticket counter, so stale ops claim nothing. An error
 * flags the worker as dead in the control block, which the blocked caller sees.
 */
const BROWSER_WORKER_SOURCE = `'use strict'
const GEN = ${GEN}, DONE = ${DONE}, CRASH = ${CRASH}, BY_WORKERS = ${BY_WORKERS}, DEAD = ${DEAD}
let ctrl, ticket, id
const kernels = new Map()
const contexts = new Map()
const __name = (fn) => fn
const install = (name, parts, context) => {
  const body = parts.map(([n, src]) => 'const ' + n + ' = ' + src + '\\n').join('') +
    'return ' + parts[parts.length - 1][0]
  kernels.set(name, new Function('__name', body)(__name))
  contexts.set(name, context)
}
const run = (job) => {
  const crash = Atomics.load(ctrl, CRASH)
  if (crash >= 0 && crash !== id) return
  const fn = kernels.get(job.kernel)
  const context = contexts.get(job.kernel)
  const end = job.base + BigInt(job.chunks)
  for (;;) {
    const t = Atomics.load(ticket, 0)
    if (t < job.base || t >= end) return
    if (Atomics.compareExchange(ticket, 0, t, t + 1n) !== t) continue
    if (crash === id) throw new Error('crash requested by a test')
    fn(job.args, Number(t - job.base), context)
    Atomics.add(ctrl, BY_WORKERS, 1)
    if (Atomics.add(ctrl, DONE, 1) + 1 === job.chunks) Atomics.notify(ctrl, DONE)
  }
}
self.onmessage = (e) => {
  const m = e.data
  if (m.control !== undefined) {
    ctrl = new Int32Array(m.control)
    ticket = new BigInt64Array(m.tickets)
    id = m.id
    Atomics.store(ctrl, DEAD + 3 * id + 2, 1)
    return
  }
  try {
    if (m.parts !== undefined) install(m.kernel, m.parts, m.context)
    run(m)
  } catch (err) {
    console.error('purenn worker ' + id + ': ' + String((err && err.stack) || err))
    self.postMessage({ error: String((err && err.stack) || err) })
    Atomics.store(ctrl, DEAD + 3 * id + 1, 1)
    Atomics.store(ctrl, DEAD + 3 * id, 1)
    Atomics.notify(ctrl, DONE)
    self.close()
  }
}
`

interface Slot {
  worker: PoolWorker
  /** Kernels already sent to this worker. */
  installed: Set<string>
}

interface Pool {
  readonly size: number
  readonly ctrl: Int32Array
  readonly ticket: BigInt64Array
  readonly slots: Slot[]
  readonly scratch: (Float32Array | undefined)[]
}

let configured: number | undefined
let pool: Pool | undefined
/**
 * Until when (performance.now() ms) ops run on the calling thread alone, because the
 * workers lagged: on a machine shared with other jobs a worker may be descheduled while it
 * holds a chunk, and the caller then waits for the scheduler (milliseconds, against chunks
 * of tens of µs: measured at load average 11 on 2 cores, two threads ran a product 6x
 * slower than one). Who runs a chunk never changes a result, so this only trades speed.
 */
let inlineUntil = 0
/** A wait for the workers longer than this (ms), and than twice the caller's own share, is a lag. */
const LAG_MS = 0.5
/** How long ops stay on the calling thread after a lag (ms). */
const INLINE_MS = 200

/** Ops run on the calling thread for the next {@link INLINE_MS}; workers sleep without polling. */
const lagged = (p: Pool): void => {
  inlineUntil = performance.now() + INLINE_MS
  Atomics.store(p.ctrl, QUIET, 1)
}

/**
 * `PURENN_THREADS` read strictly: decimal digits only (no `1e1`, `0x2`), from 1 to 256 as
 * `setThreads` takes; unset or empty means all cores (at most 256).
 */
export const parseThreadsEnv = (raw: string | undefined): number => {
  if (raw === undefined || raw.trim() === '') return Math.min(256, platform.hardwareThreads())
  const n = /^\d{1,4}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN
  if (!(n >= 1 && n <= 256))
    throw new Error(
      `PURENN_THREADS must be a decimal integer from 1 to 256 (threads incl. the calling one), got '${raw}'`,
    )
  return n
}

const parseEnv = (): number => parseThreadsEnv(platform.env('PURENN_THREADS'))

let workerTimeout: number | undefined

/**
 * `PURENN_WORKER_TIMEOUT_MS` read strictly: decimal digits, at least 1; unset or empty means
 * 60000 (a chunk takes milliseconds: a minute of silence is a stuck worker).
 */
export const parseWorkerTimeoutEnv = (raw: string | undefined): number => {
  if (raw === undefined || raw.trim() === '') return 60_000
  const n = /^\d{1,10}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN
  if (!(n >= 1))
    throw new Error(
      `PURENN_WORKER_TIMEOUT_MS must be a decimal integer of milliseconds, at least 1, got '${raw}'`,
    )
  return n
}

/** How long the caller waits for the workers to finish an op before it gives up (ms). */
export const poolWorkerTimeoutMs = (): number => {
  if (workerTimeout === undefined)
    workerTimeout = parseWorkerTimeoutEnv(platform.env('PURENN_WORKER_TIMEOUT_MS'))
  return workerTimeout
}

/** Sets the worker timeout (ms). */
export const setPoolWorkerTimeoutMs = (ms: number): void => {
  if (!Number.isInteger(ms) || ms < 1)
    throw new RangeError(`setWorkerTimeout: expected a positive integer of milliseconds, got ${ms}`)
  workerTimeout = ms
}

/**
 * The number of threads heavy kernels use, the calling one included: 1 where there are no
 * workers with shared memory (a page that is not cross-origin isolated), whatever was set.
 */
export const poolThreads = (): number => {
  if (!platform.pooled) return 1
  if (configured === undefined) configured = parseEnv()
  return configured
}

/**
 * Sets the thread count. A pool of another size is shut down (and rebuilt on demand);
 * with 1 thread an existing pool is left idle, ready if the count goes back to its size.
 */
export const setPoolThreads = (n: number): void => {
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new RangeError(`setThreads: expected an integer from 1 to 256, got ${n}`)
  configured = n
  if (pool !== undefined && n > 1 && pool.size !== n) dispose()
}

const spawn = (p: Pool, id: number): Slot => ({
  worker: platform.spawn(
    WORKER_SOURCE,
    BROWSER_WORKER_SOURCE,
    p.ctrl.buffer as SharedArrayBuffer,
    p.ticket.buffer as SharedArrayBuffer,
    id,
  ),
  installed: new Set(),
})

const create = (size: number): Pool => {
  const p: Pool = {
    size,
    ctrl: new Int32Array(new SharedArrayBuffer(4 * (DEAD + 3 * size))),
    ticket: new BigInt64Array(new SharedArrayBuffer(8)),
    slots: [],
    scratch: [],
  }
  p.ctrl[CRASH] = -1
  for (let id = 1; id < size; id++) p.slots.push(spawn(p, id))
  return p
}

/** Drops the pool: its workers are terminated, its control block and scratch forgotten. */
const dispose = (): void => {
  const p = pool
  pool = undefined
  if (p === undefined) return
  for (const s of p.slots) void s.worker.terminate()
}

/**
 * True when worker `id` has stopped. The worker's own handler flags it in the control block
 * (process.exit, uncaught error); the platform covers the rest (Node's 'exit' event once the
 * event loop has run, and while the caller is blocked, `eventLoopUtilization()`, whose idle
 * time reads negative once the thread is gone; a Web Worker's 'error' event).
 */
const isStopped = (p: Pool, id: number, s: Slot, thorough: boolean): boolean =>
  Atomics.load(p.ctrl, DEAD + 3 * id) === 1 || s.worker.stopped(thorough)

const exitCodeOf = (p: Pool, id: number, s: Slot): string =>
  Atomics.load(p.ctrl, DEAD + 3 * id) === 1
    ? String(Atomics.load(p.ctrl, DEAD + 3 * id + 1))
    : (s.worker.exitCode() ?? 'unknown (terminated)')

/**
 * The live pool of the configured size, rebuilt when a worker has died since the last op.
 *
 * @throws Error when a worker died before it ever started (the pool cannot work here).
 */
const livePool = (): Pool => {
  const size = poolThreads()
  const p = pool
  if (p !== undefined && p.size === size && !p.slots.some((s, i) => isStopped(p, i + 1, s, false))) return p
  if (p !== undefined)
    p.slots.forEach((s, i) => {
      if (isStopped(p, i + 1, s, false) && Atomics.load(p.ctrl, DEAD + 3 * (i + 1) + 2) === 0) {
        dispose()
        throw new Error(
          `purenn worker pool: worker ${i + 1} failed to start (exit code ${exitCodeOf(p, i + 1, s)})` +
            `${s.worker.error() === undefined ? '' : `: ${s.worker.error()}`}; set PURENN_THREADS=1 (or setThreads(1)) to run without workers`,
        )
      }
    })
  dispose()
  pool = create(size)
  return pool
}

/**
 * A shared float32 buffer of at least `n` elements, owned by the pool, for operands or
 * results that are not on shared memory (slot 0, 1, 2... one per operand of an op).
 * Valid until the next call with the same slot.
 */
export const sharedScratch = (slot: number, n: number): Float32Array => {
  const p = livePool()
  const cur = p.scratch[slot]
  if (cur !== undefined && cur.length >= n) return cur.subarray(0, n)
  const grown = new Float32Array(new SharedArrayBuffer(4 * Math.max(n, Math.ceil((cur?.length ?? 0) * 1.5))))
  p.scratch[slot] = grown
  return grown.subarray(0, n)
}

/**
 * The parts of a kernel as text for the workers. A bundler may rename a function (esbuild
 * makes `matmulRows` `matmulRows2` when two modules declare one): the others' text then calls
 * it by the new name, which is its `name`, so each part is also installed under that name.
 */
const shippedParts = (kernel: Pick<PoolKernel<readonly PoolArg[]>, 'parts'>): [string, string][] =>
  kernel.parts.flatMap(([name, fn]): [string, string][] => {
    const own: [string, string] = [name, fn.toString()]
    const renamed = typeof fn === 'function' ? fn.name : ''
    return /^[A-Za-z_$][\w$]*$/.test(renamed) && renamed !== name ? [own, [renamed, name]] : [own]
  })

/**
 * Runs `kernel.entry(args, chunk)` for chunk = 0..chunks-1 on the pool and the calling
 * thread, and returns when all are done. Typed arrays in `args` must be on shared memory.
 *
 * @throws Error when a worker dies during the op, e.g.
 * `purenn worker pool: worker 1 exited with code 1 during matmul`.
 */
export const runChunks = <A extends readonly PoolArg[]>(
  op: string,
  kernel: PoolKernel<A>,
  args: A,
  chunks: number,
): void => {
  if (chunks > MAX_CHUNKS)
    throw new Error(`purenn worker pool: ${chunks} chunks in one op (at most ${MAX_CHUNKS})`)
  const p = livePool()
  const { ctrl, ticket, slots } = p
  const start = performance.now()
  if (start < inlineUntil && Atomics.load(ctrl, CRASH) < 0) {
    for (let c = 0; c < chunks; c++) kernel.entry(args, c)
    return
  }
  const base = Atomics.load(ticket, 0)
  Atomics.store(ctrl, DONE, 0)
  Atomics.store(ctrl, QUIET, 0)
  for (const s of slots) {
    if (s.installed.has(kernel.name)) s.worker.post({ kernel: kernel.name, args, base, chunks })
    else {
      const parts = shippedParts(kernel)
      s.worker.post({ kernel: kernel.name, parts, context: kernel.context?.(), args, base, chunks })
      s.installed.add(kernel.name)
    }
  }
  Atomics.add(ctrl, GEN, 1)
  Atomics.notify(ctrl, GEN)
  const end = base + BigInt(chunks)
  try {
    // The calling thread claims chunks like any worker (unless a test crashes a worker:
    // then only that worker claims, so that the crash surely hits this op).
    if (Atomics.load(ctrl, CRASH) < 0) {
      for (;;) {
        const t = Atomics.load(ticket, 0)
        if (t >= end) break
        if (Atomics.compareExchange(ticket, 0, t, t + 1n) !== t) continue
        kernel.entry(args, Number(t - base))
        Atomics.add(ctrl, DONE, 1)
      }
    }
    const waitStart = performance.now()
    // the workers' last chunks: poll briefly before sleeping (see WAIT_SPIN_MS)
    while (Atomics.load(ctrl, DONE) < chunks && performance.now() - waitStart < WAIT_SPIN_MS) {}
    let waited = false
    for (let done = Atomics.load(ctrl, DONE); done < chunks; done = Atomics.load(ctrl, DONE)) {
      waited = true
      const timedOut = platform.wait(ctrl, DONE, done, WAIT_SLICE_MS) === 'timed-out'
      const limit = poolWorkerTimeoutMs()
      if (performance.now() - waitStart > limit)
        throw new Error(
          `purenn worker pool: the workers did not finish ${op} within ${limit} ms; the pool is replaced (PURENN_WORKER_TIMEOUT_MS or setWorkerTimeout sets the limit)`,
        )
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i]!
        if (isStopped(p, i + 1, s, timedOut)) {
          const error = s.worker.error()
          throw new Error(
            `purenn worker pool: worker ${i + 1} exited with code ${exitCodeOf(p, i + 1, s)} during ${op}` +
              (error === undefined ? '' : `: ${error}`),
          )
        }
      }
    }
    const lag = waited ? performance.now() - waitStart : 0
    if (lag > LAG_MS && lag > 2 * (waitStart - start)) lagged(p)
  } catch (e) {
    dispose()
    throw e
  }
}

/**
 * Test hooks: not part of the API.
 * @internal
 */
export const __poolForTests = {
  /** Number of live workers (the calling thread not counted); 0 before the first pooled op. */
  workers: (): number => pool?.slots.length ?? 0,
  /** Chunks the workers (not the calling thread) have run since the pool started. */
  chunksByWorkers: (): number => (pool === undefined ? 0 : Atomics.load(pool.ctrl, BY_WORKERS)),
  /** True while ops run on the calling thread alone after a lagging worker. */
  inline: (): boolean => performance.now() < inlineUntil,
  /** Ends a stretch of ops on the calling thread alone (benchmarks of the hand-off itself). */
  endInline: (): void => {
    inlineUntil = 0
  },
  /** Thread ids of the workers, to tell a rebuilt pool from the old one. */
  threadIds: (): number[] => pool?.slots.map((s) => s.worker.threadId) ?? [],
  /** The platform the pool runs on: 'node', 'browser', or 'none' (single-threaded). */
  platform: (): string => platform.name,
  /** Terminates worker `id` (1-based) and resolves when it has exited. */
  terminate: async (id: number): Promise<void> => {
    const s = pool?.slots[id - 1]
    if (s === undefined) throw new Error(`no worker ${id}`)
    await s.worker.terminate()
  },
  /**
   * Makes worker `id` (1-based) exit with code 1 when it claims a chunk of the next pooled
   * op; until then no other thread claims chunks, so that op is the one that fails.
   */
  crashOnNextOp: (id: number): void => {
    const p = livePool()
    if (!Number.isInteger(id) || id < 1 || id >= p.size) throw new Error(`no worker ${id}`)
    Atomics.store(p.ctrl, CRASH, id)
  },
  /** Makes worker `id` (1-based) loop forever when it claims a chunk of the next pooled op. */
  stallOnNextOp: (id: number): void => {
    const p = livePool()
    if (!Number.isInteger(id) || id < 1 || id >= p.size) throw new Error(`no worker ${id}`)
    Atomics.store(p.ctrl, CRASH, STALL + id)
  },
}
