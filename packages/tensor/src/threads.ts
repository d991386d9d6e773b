import { poolThreads, setPoolThreads } from './internal/pool.js'

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
