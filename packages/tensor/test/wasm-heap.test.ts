/**
 * The kernels' heap (internal/wasm/heap.ts): tensors whose data are heap blocks give bitwise
 * the results of plain buffers on 1, 2 and 3 threads (the budget fallback included); a block
 * is freed when its view is collected, and a tensor made from a slice of another's data is a
 * copy that survives the parent's collection. Collection is forced with `gc` (enabled here
 * through `v8.setFlagsFromString`), and a FinalizationRegistry's callbacks run when the
 * event loop turns.
 */

import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { add, mul } from '../src/arith.js'
import { sparseSoftmaxCrossentropy } from '../src/crossentropy.js'
import { batchNormTrain, denseOp } from '../src/fused.js'
import { valueAndGrad } from '../src/grad.js'
import {
  HEAP_BUDGET,
  heapStats,
  ownedFloats,
  releaseFloats,
  setHeapBudget,
} from '../src/internal/wasm/heap.js'
import { setKernels } from '../src/kernelset.js'
import { matmul } from '../src/linalg.js'
import { relu } from '../src/nn.js'
import { key, uniform } from '../src/random.js'
import { sum } from '../src/reduce.js'
import { buf, fromBuffer, full, type Tensor, tensor } from '../src/tensor.js'
import { setThreads } from '../src/threads.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** The budget of these tests (the default, 0, keeps tensors off the heap). */
const BUDGET = 256 << 20
setHeapBudget(BUDGET)

afterAll(() => {
  setHeapBudget(HEAP_BUDGET)
  setKernels('wasm')
  setThreads(1)
})

/** Full collections with event-loop turns between them (finalizers run as tasks). */
const collect = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((r) => setImmediate(r))
  }
}

/** A two-layer step: dense + batch norm + relu, matmul, softmax crossentropy; loss and gradients. */
const step = (x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, labels: Tensor): Tensor[] => {
  const r = valueAndGrad((p: { a: Tensor; b: Tensor; c: Tensor }) => {
    const h = denseOp(x, p.a, p.b, 'relu')
    const n = batchNormTrain(h, undefined, undefined, [0]).y
    const z = matmul(relu(add(n, mul(n, tensor(0.5)))), p.c)
    return sum(sparseSoftmaxCrossentropy(z, labels))
  })({ a: w1, b: b1, c: w2 })
  return [r.value, r.grad.a, r.grad.b, r.grad.c]
}

const bits = (ts: readonly Tensor[]): number[] =>
  ts.flatMap((t) => Array.from(new Uint32Array(Float32Array.from(t.data).buffer)))

describe('the kernels heap', () => {
  it('hands out zeroed 64-byte aligned blocks to the wasm kernels, and plain buffers to the js kernels', () => {
    setKernels('wasm')
    const t = uniform(key(1), [64, 65])
    const d = buf(t)
    expect(d.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(d.byteOffset % 64).toBe(0)
    expect(heapStats().tensorBytes).toBeGreaterThan(0)
    setKernels('js')
    expect(buf(uniform(key(1), [64, 65])).buffer).not.toBe(d.buffer)
    setKernels('wasm')
  })

  it('gives bitwise the results of plain buffers (budget 0) on 1, 2 and 3 threads', () => {
    setKernels('wasm')
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(1000),
        (M, N, seed) => {
          const x = uniform(key(seed), [M, 30], { minval: -1, maxval: 1 })
          const w1 = uniform(key(seed + 1), [30, N], { minval: -0.5, maxval: 0.5 })
          const b1 = uniform(key(seed + 2), [N])
          const w2 = uniform(key(seed + 3), [N, 10], { minval: -0.5, maxval: 0.5 })
          const labels = tensor(Float32Array.from({ length: M }, (_, i) => (i * 7 + seed) % 10))
          const runs: number[][] = []
          for (const budget of [BUDGET, 0])
            for (const threads of [1, 2, 3]) {
              setHeapBudget(budget)
              setThreads(threads)
              runs.push(bits(step(x, w1, b1, w2, labels)))
            }
          setHeapBudget(BUDGET)
          setThreads(1)
          for (const r of runs.slice(1)) expect(r).toEqual(runs[0])
        },
      ),
      { seed: 14, numRuns: 6 },
    )
  })

  it('falls back to plain buffers past its budget, with the same results', () => {
    setKernels('wasm')
    const x = uniform(key(3), [128, 300])
    const w = uniform(key(4), [300, 100])
    const onHeap = matmul(x, w)
    const prev = setHeapBudget(heapStats().tensorBytes) // nothing more fits
    const plain = matmul(x, w)
    setHeapBudget(prev)
    expect(buf(plain).buffer).not.toBe(buf(onHeap).buffer)
    expect(buf(plain).byteOffset).toBe(0)
    expect(bits([plain])).toEqual(bits([onHeap]))
  })

  it('keeps owned blocks out of the budget: they neither use it nor are refused by it, and releasing one frees it once', () => {
    setKernels('wasm')
    const before = heapStats()
    const prev = setHeapBudget(before.tensorBytes) // no budgeted block fits
    const a = ownedFloats(1000)!
    const b = ownedFloats(1000)!
    expect(a).toBeInstanceOf(Float32Array)
    expect(b.byteOffset).not.toBe(a.byteOffset)
    const mid = heapStats()
    expect(mid.tensorBytes).toBe(before.tensorBytes)
    expect(mid.ownedBytes - before.ownedBytes).toBeGreaterThanOrEqual(2 * 4000)
    expect(releaseFloats(a)).toBe(true)
    expect(releaseFloats(a)).toBe(false)
    expect(releaseFloats(new Float32Array(1000))).toBe(false)
    // the freed block is the next one of its class handed out
    const c = ownedFloats(1000)!
    expect(c.byteOffset).toBe(a.byteOffset)
    releaseFloats(b)
    releaseFloats(c)
    expect(heapStats().ownedBytes).toBe(before.ownedBytes)
    setHeapBudget(prev)
  })

  it('frees a block when its view is collected: a bare subarray then sees new data, a tensor made from it does not', async () => {
    setKernels('wasm')
    const n = 4096
    const expected = Float32Array.from({ length: 1024 }, (_, i) => i + 0.5)
    // the parent lives in a function of its own, so that no register of this one holds it
    const make = (): [Float32Array, Tensor] => {
      const parent = tensor(Float32Array.from({ length: n }, (_, i) => i - 1023.5))
      const slice = buf(parent).subarray(1024, 2048)
      return [slice, fromBuffer([1024], slice)]
    }
    const [slice, kept] = make()
    expect(buf(kept)).not.toBe(slice) // copied: a slice does not keep its block alive
    await collect()
    // blocks of the parent's class, filled with 7: one of them is the parent's freed block
    const others = Array.from({ length: 64 }, () => full([n], 7))
    expect(others.length).toBe(64)
    expect(Array.from(slice)).toEqual(new Array(1024).fill(7)) // the hazard the copy avoids
    expect(Array.from(kept.data)).toEqual(Array.from(expected))
  })
})
