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
import { add, exp, mul, sub } from '../src/arith.js'
import { sparseSoftmaxCrossentropy } from '../src/crossentropy.js'
import { batchNormTrain, denseOp } from '../src/fused.js'
import { valueAndGrad } from '../src/grad.js'
import {
  HEAP_BUDGET,
  heapStats,
  isOwnedFloats,
  openStepScope,
  ownedFloats,
  releaseFloats,
  scopedFloats,
  setHeapBudget,
  setScopeLimit,
  unscoped,
} from '../src/internal/wasm/heap.js'
import { setKernels } from '../src/kernelset.js'
import { matmul } from '../src/linalg.js'
import { elu, relu } from '../src/nn.js'
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

  describe('step scopes', () => {
    /** A step's inputs: 70 rows, so that every intermediate has at least 256 floats. */
    const inputs = (seed: number) => {
      const x = uniform(key(seed), [70, 30], { minval: -1, maxval: 1 })
      const w1 = uniform(key(seed + 1), [30, 40], { minval: -0.5, maxval: 0.5 })
      const b1 = uniform(key(seed + 2), [40])
      const w2 = uniform(key(seed + 3), [40, 10], { minval: -0.5, maxval: 0.5 })
      const labels = tensor(Float32Array.from({ length: 70 }, (_, i) => (i * 7 + seed) % 10))
      return [x, w1, b1, w2, labels] as const
    }

    it("puts a step's results on owned blocks, bitwise the same, and frees all but the kept ones on close", () => {
      setKernels('wasm')
      setHeapBudget(0)
      const args = inputs(3)
      const outside = step(...args)
      const before = heapStats().ownedBytes
      for (const threads of [1, 2, 3]) {
        setThreads(threads)
        const scope = openStepScope()
        const inside = step(...args)
        // the kernel's gradient (70·40-float intermediates before it) is on an owned block
        expect(isOwnedFloats(inside[1]!.data)).toBe(true)
        // made with no scope open: a plain buffer, for a cache that outlives the step
        expect(isOwnedFloats(unscoped(() => add(args[0], args[0])).data)).toBe(false)
        expect(heapStats().ownedBytes - before).toBeGreaterThan(4 * 70 * 40 * 3)
        const kept = inside[1]!
        const insideBits = bits(inside)
        scope.close(new Set([kept.data]))
        // everything else is freed at once; the kept one (30·40 floats) stays, with its bits
        expect(heapStats().ownedBytes - before).toBeGreaterThanOrEqual(4 * 30 * 40)
        expect(heapStats().ownedBytes - before).toBeLessThan(4 * 30 * 40 + 2 * 64 + 64)
        expect(insideBits).toEqual(bits(outside))
        expect(bits([kept])).toEqual(bits([outside[1]!]))
        // a tensor whose block was freed refuses to be read
        expect(() => inside[3]!.data).toThrow(/shape \[40,10\]\).* outside what the step returns/)
        expect(releaseFloats(kept.data as Float32Array)).toBe(true)
        expect(heapStats().ownedBytes).toBe(before)
      }
      setThreads(1)
      setHeapBudget(BUDGET)
    })

    it('gives the same bits on blocks that come back dirty (the ops that overwrite take them unzeroed)', () => {
      setKernels('wasm')
      /** Leaves NaN in freed blocks, four of every class these shapes use (256 to 6,400 floats). */
      const dirty = () => {
        const scope = openStepScope()
        for (let n = 256; n <= 6400; n += 16) for (let i = 0; i < 4; i++) scopedFloats(n)!.fill(Number.NaN)
        scope.close(new Set())
      }
      /** Dense layers (three activations), their gradients, products in the three forms, batch norm, elementwise ops. */
      const ops = (x: Tensor, w: Tensor, b: Tensor, v: Tensor): Tensor[] => {
        const r = valueAndGrad((p: { w: Tensor; b: Tensor; x: Tensor }) => {
          const h = denseOp(p.x, p.w, p.b, 'relu')
          const e = denseOp(p.x, p.w, undefined, 'elu', 1)
          const n = batchNormTrain(add(h, e), undefined, undefined, [0]).y
          return sum(mul(exp(mul(n, tensor(0.1))), sub(elu(n), relu(n))))
        })({ w, b, x })
        return [
          r.value,
          r.grad.w,
          r.grad.b,
          r.grad.x,
          matmul(x, w),
          matmul(v, w, { transposeB: true }),
          matmul(x, v, { transposeA: true }),
        ]
      }
      fc.assert(
        fc.property(
          fc.integer({ min: 9, max: 70 }),
          fc.integer({ min: 30, max: 90 }),
          fc.nat(1000),
          (M, N, seed) => {
            const x = uniform(key(seed), [M, 40], { minval: -1, maxval: 1 })
            const w = uniform(key(seed + 1), [40, N], { minval: -0.5, maxval: 0.5 })
            const b = uniform(key(seed + 2), [N])
            const v = uniform(key(seed + 3), [M, N], { minval: -1, maxval: 1 })
            const outside = bits(ops(x, w, b, v))
            for (const threads of [1, 2]) {
              setThreads(threads)
              dirty()
              const scope = openStepScope()
              const inside = ops(x, w, b, v)
              // the step's results really are on the (dirty) blocks
              expect(inside.filter((t) => t.size >= 256).every((t) => isOwnedFloats(t.data))).toBe(true)
              expect(bits(inside)).toEqual(outside)
              scope.close(new Set())
            }
            setThreads(1)
          },
        ),
        { seed: 15, numRuns: 8 },
      )
    })

    it('hands out zeroed blocks, and restores the scope it was opened in', () => {
      setKernels('wasm')
      const outer = openStepScope()
      const inner = openStepScope()
      const dirty = scopedFloats(1000)!
      dirty.fill(7)
      inner.close(new Set())
      // freed: the next block of its class is the same memory, handed out zeroed
      const again = scopedFloats(1000)!
      expect(again.byteOffset).toBe(dirty.byteOffset)
      expect(again.every((v) => v === 0)).toBe(true)
      // that block belongs to the outer scope, open again, which frees it
      const before = heapStats().ownedBytes
      outer.close(new Set())
      expect(heapStats().ownedBytes).toBeLessThan(before)
      expect(isOwnedFloats(again)).toBe(false)
      // no scope is open any more
      expect(scopedFloats(1000)).toBeUndefined()
      expect(isOwnedFloats(add(full([1000], 1), full([1000], 2)).data)).toBe(false)
    })

    it('hands out no block past its limit of owned bytes: plain buffers then, with the same bits', () => {
      setKernels('wasm')
      const args = inputs(7)
      const outside = bits(step(...args))
      const before = heapStats().ownedBytes
      // room for a few of the step's 70x40-float blocks, not for all of them
      const prev = setScopeLimit(before + 3 * (4 * 70 * 40 + 128))
      const scope = openStepScope()
      const inside = step(...args)
      const owned = heapStats().ownedBytes
      expect(owned).toBeGreaterThan(before)
      expect(owned).toBeLessThanOrEqual(before + 3 * (4 * 70 * 40 + 128))
      expect(isOwnedFloats(inside[1]!.data)).toBe(false)
      expect(bits(inside)).toEqual(outside)
      scope.close(new Set())
      setScopeLimit(prev)
      expect(heapStats().ownedBytes).toBe(before)
    })

    it('leaves what it cannot free to the collector when closed without a keep set', async () => {
      setKernels('wasm')
      const before = heapStats().ownedBytes
      const scope = openStepScope()
      step(...inputs(5))
      expect(heapStats().ownedBytes).toBeGreaterThan(before)
      scope.close(undefined)
      // the collector finds the step's tensors within a few full collections
      for (let i = 0; i < 20 && heapStats().ownedBytes !== before; i++) await collect()
      expect(heapStats().ownedBytes).toBe(before)
    })
  })
})
