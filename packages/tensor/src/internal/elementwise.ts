/**
 * Large elementwise loops on the worker pool (docs/contributing/design.md, "Parallelism"): a
 * kernel is a loop over a range of elements, `loop(args, i0, i1)`, that the calling thread
 * runs whole for small inputs and that the pool runs in chunks of {@link ELEMENTWISE_CHUNK}
 * elements for large ones. Each element depends only on its own inputs, and the chunks are a
 * function of the size only, so results are bitwise the same on any thread count. Sibling
 * packages use it for their fused loops (the optimizers' updates) through
 * `@purenn/tensor/internal`.
 */

import { isSharedBuffer } from './platform.js'
import { type PoolArg, type PoolKernel, poolThreads, runChunks } from './pool.js'

/**
 * Elements [i0, i1) of an elementwise kernel. Self-contained: no imports and no free
 * variables (globals such as `Math` are fine), since the worker pool ships its source text.
 * `args` holds typed arrays (on shared memory when pooled) and numbers.
 */
export type RangeLoop<A extends readonly PoolArg[]> = (args: A, i0: number, i1: number) => void

/** An elementwise kernel the pool can run: a name (unique per loop) and its range loop. */
export interface ElementwiseKernel<A extends readonly PoolArg[]> {
  readonly name: string
  readonly loop: RangeLoop<A>
  readonly pooled: PoolKernel<readonly PoolArg[]>
}

/** Elements per chunk of a pooled elementwise kernel: fixed, so the split depends on the size only. */
export const ELEMENTWISE_CHUNK = 8192

/**
 * Elementwise kernels over at least this many elements go to the pool when more than one
 * thread is set and every typed array is on shared memory (outputs of `alloc` from 16384
 * elements on are). Measured on the optimizers' updates of the chapter's models: a [784,100]
 * or [784,300] kernel's update gains on 2 threads, a [100,100] one does not.
 */
export const ELEMENTWISE_POOL_MIN = 1 << 15

/**
 * An elementwise kernel from its range loop. The chunk function the workers run reads the
 * element count and chunk size from the end of the argument list and calls `loop`, which the
 * pool ships with it under that name.
 */
/** What `chunk` below does, as the workers run it (with `loop` installed beside it). */
const CHUNK_SOURCE = `(args, c) => {
  const n = args[args.length - 2]
  const per = args[args.length - 1]
  const i0 = c * per
  loop(args, i0, Math.min(n, i0 + per))
}`

export const elementwiseKernel = <A extends readonly PoolArg[]>(
  name: string,
  loop: RangeLoop<A>,
): ElementwiseKernel<A> => {
  const chunk = (args: readonly PoolArg[], c: number): void => {
    const n = args[args.length - 2] as number
    const per = args[args.length - 1] as number
    const i0 = c * per
    loop(args as unknown as A, i0, Math.min(n, i0 + per))
  }
  return {
    name,
    loop,
    pooled: {
      name: `elementwise:${name}`,
      // `chunk` goes as text: a bundler may rename the closure's `loop`, never a string
      parts: [
        ['loop', loop],
        ['chunk', CHUNK_SOURCE],
      ],
      entry: chunk,
    },
  }
}

const isShared = (x: PoolArg): boolean =>
  !(x instanceof Float32Array || x instanceof Int32Array) || isSharedBuffer(x.buffer)

/**
 * Runs `kernel` over elements [0, n): inline below {@link ELEMENTWISE_POOL_MIN} elements, on
 * one thread, or when a typed array is not on shared memory; else on the pool in chunks of
 * {@link ELEMENTWISE_CHUNK}.
 */
export const runElementwise = <A extends readonly PoolArg[]>(
  kernel: ElementwiseKernel<A>,
  args: A,
  n: number,
): void => {
  if (n < ELEMENTWISE_POOL_MIN || poolThreads() < 2 || !args.every(isShared)) kernel.loop(args, 0, n)
  else
    runChunks(kernel.name, kernel.pooled, [...args, n, ELEMENTWISE_CHUNK], Math.ceil(n / ELEMENTWISE_CHUNK))
}
