import { poolThreads, poolWorkerTimeoutMs, setPoolThreads, setPoolWorkerTimeoutMs } from './internal/pool.js'

/**
 * Sets how many threads heavy kernels (large matrix products) use, the calling thread
 * included.
 *
 * @remarks
 * Large kernels are split into chunks whose boundaries depend only on the operands'
 * sizes, never on the thread count, and each output element is always summed in the same
 * order; so the thread count changes only the speed, never the results, which are bitwise
 * identical for 1, 2 or N threads. This is process configuration, like an environment
 * variable: the default comes from `PURENN_THREADS`, else `os.availableParallelism()`.
 * `setThreads(1)` runs everything inline on the calling thread (an existing pool stays
 * idle); another count shuts the current worker pool down if its size differs, and a new
 * one starts with the next large kernel. Workers are `unref()`'d, so they never keep a
 * script alive.
 *
 * @param n - the number of threads, an integer from 1 to 256
 * @throws RangeError when `n` is not an integer from 1 to 256.
 * @example
 * ```ts
 * import { getThreads, setThreads } from '@purenn/tensor'
 * setThreads(1) // everything inline, e.g. to profile a single core
 * console.log(getThreads()) // 1
 * ```
 * @category Parallelism
 */
export const setThreads = (n: number): void => setPoolThreads(n)

/**
 * The number of threads heavy kernels use, the calling thread included.
 *
 * @remarks
 * The value set by {@link setThreads}, else `PURENN_THREADS`, else
 * `os.availableParallelism()`. It has no effect on results, only on speed.
 *
 * @returns the thread count, at least 1
 * @throws Error when `PURENN_THREADS` is set to something other than a decimal integer from 1 to 256.
 * @example
 * ```ts
 * import { getThreads } from '@purenn/tensor'
 * console.log(getThreads() >= 1) // true
 * ```
 * @category Parallelism
 */
export const getThreads = (): number => poolThreads()

/**
 * Sets how long a pooled op waits for the worker threads before it gives up.
 *
 * @remarks
 * A worker that does not finish its share of an op within this time (a stuck worker) makes
 * the op throw `purenn worker pool: the workers did not finish <op> within <ms> ms; the pool is
 * replaced`, and the pool is rebuilt with the next large kernel; `fit` then runs the (pure)
 * step again. Work is split into chunks of a few milliseconds, so the default, 60000 ms (or
 * `PURENN_WORKER_TIMEOUT_MS`), only ever fires on a stuck thread. Process configuration, like
 * {@link setThreads}: no effect on results.
 *
 * @param ms - the limit in milliseconds, a positive integer
 * @throws RangeError when `ms` is not a positive integer.
 * @example
 * ```ts
 * import { getWorkerTimeout, setWorkerTimeout } from '@purenn/tensor'
 * setWorkerTimeout(30_000)
 * console.log(getWorkerTimeout()) // 30000
 * setWorkerTimeout(60_000)
 * ```
 * @category Parallelism
 */
export const setWorkerTimeout = (ms: number): void => setPoolWorkerTimeoutMs(ms)

/**
 * How long a pooled op waits for the worker threads before it gives up, in milliseconds.
 *
 * @returns the value set by {@link setWorkerTimeout}, else `PURENN_WORKER_TIMEOUT_MS`, else 60000
 * @throws Error when `PURENN_WORKER_TIMEOUT_MS` is not a decimal integer of at least 1.
 * @example
 * ```ts
 * import { getWorkerTimeout } from '@purenn/tensor'
 * console.log(getWorkerTimeout() >= 1) // true
 * ```
 * @category Parallelism
 */
export const getWorkerTimeout = (): number => poolWorkerTimeoutMs()
