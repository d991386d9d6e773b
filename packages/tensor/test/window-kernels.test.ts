import { afterAll, describe, expect, it } from 'vitest'
import { mul } from '../src/arith.js'
import { avgPool2d, conv2d, maxPool2d } from '../src/conv.js'
import { valueAndGrad } from '../src/grad.js'
import { __poolForTests } from '../src/internal/pool.js'
import { WINDOW_CHUNK, WINDOW_POOL_MIN } from '../src/internal/window-kernels.js'
import { sum } from '../src/reduce.js'
import { type Tensor, tensor } from '../src/tensor.js'
import { getThreads, setThreads } from '../src/threads.js'

// The window ops (im2col, col2im, max pooling's winners, average pooling and its transpose)
// on the worker pool must give bitwise the results of one thread (docs/contributing/design.md,
// "Parallelism"). The shapes are chosen so that every op is above WINDOW_POOL_MIN and splits
// into several chunks, the last one partial.

const bits = (x: Tensor): number[] => Array.from(new Uint32Array(x.data.buffer, x.data.byteOffset, x.size))

const filled = (shape: number[], f: (i: number) => number): Tensor =>
  tensor(
    Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => f(i)),
    shape,
  )

// batch 9, 26x20 images, 8 channels: 'same' with stride 2 (uneven padding) and valid windows
const x = filled([9, 26, 20, 8], (i) => Math.sin(0.37 * i) * 2)
// ties (max pooling's first maximum) and a NaN (it wins its windows)
const xTies = filled([9, 26, 20, 8], (i) => (i === 1000 ? Number.NaN : Math.round(Math.sin(0.37 * i) * 2)))
const k = filled([3, 3, 8, 5], (i) => Math.cos(0.11 * i))

/** Values and gradients (through col2im and the pooling transposes) of every window op. */
const everything = (): number[][] => {
  const conv = (p: { x: Tensor; k: Tensor }) => {
    const y = conv2d(p.x, p.k, { strides: 2, padding: 'same' })
    return sum(
      mul(
        y,
        filled([...y.shape], (i) => Math.sin(3 * i)),
      ),
    )
  }
  const dilated = (p: { x: Tensor; k: Tensor }) => {
    const y = conv2d(p.x, p.k, { dilationRate: 2 })
    return sum(
      mul(
        y,
        filled([...y.shape], (i) => Math.cos(5 * i)),
      ),
    )
  }
  const pool = (f: typeof maxPool2d, padding: 'valid' | 'same') => (v: Tensor) => {
    const y = f(v, { poolSize: 3, strides: 2, padding })
    return sum(
      mul(
        y,
        filled([...y.shape], (i) => Math.sin(7 * i)),
      ),
    )
  }
  const c = valueAndGrad(conv)({ x, k })
  const d = valueAndGrad(dilated)({ x, k })
  const results = [c.value, c.grad.x, c.grad.k, d.value, d.grad.x, d.grad.k]
  for (const f of [maxPool2d, avgPool2d])
    for (const padding of ['valid', 'same'] as const) {
      const r = valueAndGrad(pool(f, padding))(x)
      results.push(r.value, r.grad, f(xTies, { poolSize: 3, strides: 2, padding }))
    }
  return results.map(bits)
}

describe('window ops on the worker pool', () => {
  const before = getThreads()
  afterAll(() => setThreads(before))

  it('the shapes are large enough to be pooled in several chunks', () => {
    // the smallest op: 3x3 max or average pooling with stride 2, 'valid': 9·12 output rows
    // of 9 windows of 9 taps of 8 channels
    const rows = 9 * 12
    const work = 9 * 9 * 8
    expect(rows * work).toBeGreaterThanOrEqual(WINDOW_POOL_MIN)
    expect(Math.ceil(rows / Math.floor(WINDOW_CHUNK / work))).toBeGreaterThan(1)
  })

  it('conv2d, max and average pooling and their gradients are bitwise the same on 1, 2 and 3 threads', async () => {
    setThreads(1)
    const one = everything()
    for (const threads of [2, 3]) {
      setThreads(threads)
      expect(everything()).toEqual(one)
      // the workers must really take chunks (they may not be scheduled at once on a loaded machine)
      const start = __poolForTests.chunksByWorkers()
      const deadline = performance.now() + 20_000
      while (__poolForTests.chunksByWorkers() === start && performance.now() < deadline) {
        expect(everything()).toEqual(one)
        await new Promise((r) => setTimeout(r, 5))
      }
      expect(__poolForTests.chunksByWorkers()).toBeGreaterThan(start)
    }
  })
})
