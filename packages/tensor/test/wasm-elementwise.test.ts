import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { abs, add, div, mul, neg, sqrt, sub, type TensorLike } from '../src/arith.js'
import { ELEMENTWISE_WASM_MIN } from '../src/internal/wasm/elementwise-run.js'
import { setKernels } from '../src/kernelset.js'
import { relu } from '../src/nn.js'
import { mean, sum } from '../src/reduce.js'
import { fromBuffer, type Tensor } from '../src/tensor.js'
import { setThreads } from '../src/threads.js'

// The generated WebAssembly elementwise kernels (internal/wasm/elementwise.ts) against the
// plain loops and against formulas: add, sub, mul, div, neg, abs, relu and sqrt are exact
// in float32, so both kernel sets must give bitwise Math.fround of the float64 result (NaN
// only as NaN: its payload is the platform's). Sums over leading or middle axes accumulate
// in float64 in the plain loop's order (bitwise too); sums of rows use four partial sums,
// held to |wasm − js| ≤ 2⁻²³·|s| + len·2⁻⁵²·Σ|xᵢ| and to the float64 sum. Every result is
// the same on 1, 2 and 3 threads.

/** `n` floats from a seed: magnitudes from subnormal to 1e30, with ±0, ±Infinity and NaN mixed in. */
const values = (seed: number, n: number, specials = true): Float32Array => {
  let s = seed >>> 0
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
  const special = [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 1e-45, -1e-40]
  return Float32Array.from({ length: n }, () =>
    specials && next() < 0.1
      ? special[Math.floor(next() * special.length)]!
      : (next() - 0.5) * 10 ** Math.floor(next() * (specials ? 70 : 8) - (specials ? 40 : 4)),
  )
}

/** Bits of each element, NaN (whatever its payload) as one marker. */
const bits = (d: ArrayLike<number>): (number | 'NaN')[] => {
  const f = Float32Array.from(d)
  const u = new Uint32Array(f.buffer)
  return Array.from(f, (x, i) => (Number.isNaN(x) ? 'NaN' : u[i]!))
}

const onEach = <T>(f: () => T): { js: T; wasm: T[] } => {
  setKernels('js')
  setThreads(1)
  const js = f()
  setKernels('wasm')
  const wasm = [1, 2, 3].map((t) => {
    setThreads(t)
    return f()
  })
  return { js, wasm }
}

afterAll(() => {
  setKernels('wasm')
  setThreads(1)
})

const binaries = { add, sub, mul, div } as Record<string, (a: TensorLike, b: TensorLike) => Tensor>
const formulas: Record<string, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
}
const unaries = { neg, abs, relu, sqrt } as Record<string, (a: Tensor) => Tensor>
const unaryFormulas: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  relu: (x) => Math.max(x, 0),
  sqrt: Math.sqrt,
}

describe('the wasm elementwise kernels', () => {
  it('give bitwise the formula, as the plain loops do: equal shapes, a bias row, a scalar on either side, on 1-3 threads', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: Math.ceil(ELEMENTWISE_WASM_MIN / 6), max: ELEMENTWISE_WASM_MIN + 7 }),
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.constantFrom('add', 'sub', 'mul', 'div'),
        fc.constantFrom('same', 'row', 'scalarRight', 'scalarLeft'),
        (rows, m, seed, op, form) => {
          const n = rows * m
          const a = fromBuffer([rows, m], values(seed, n))
          const bShape = form === 'same' ? [rows, m] : form === 'row' ? [m] : []
          const b = fromBuffer(
            bShape,
            values(seed + 1, bShape.length === 0 ? 1 : bShape.reduce((p, q) => p * q)),
          )
          const f = binaries[op]!
          const { js, wasm } = onEach(() => bits((form === 'scalarLeft' ? f(b, a) : f(a, b)).data))
          const bAt = (i: number) => b.data[form === 'same' ? i : form === 'row' ? i % m : 0]!
          const want = bits(
            Array.from(a.data, (x, i) =>
              form === 'scalarLeft' ? formulas[op]!(bAt(i), x) : formulas[op]!(x, bAt(i)),
            ),
          )
          expect(js).toEqual(want)
          for (const w of wasm) expect(w).toEqual(want)
        },
      ),
      { seed: 14, numRuns: 40 },
    )
  })

  it('give bitwise the formula for neg, abs, relu and sqrt (±0, NaN, ±Infinity, subnormals included), on 1-3 threads', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: ELEMENTWISE_WASM_MIN, max: ELEMENTWISE_WASM_MIN + 9 }),
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.constantFrom('neg', 'abs', 'relu', 'sqrt'),
        (n, seed, op) => {
          const x = fromBuffer([n], values(seed, n))
          const { js, wasm } = onEach(() => bits(unaries[op]!(x).data))
          const want = bits(Array.from(x.data, unaryFormulas[op]!))
          expect(js).toEqual(want)
          for (const w of wasm) expect(w).toEqual(want)
        },
      ),
      { seed: 15, numRuns: 30 },
    )
  })
})

describe('the wasm sums', () => {
  it('over leading or middle axes are bitwise the plain loops, and on 1-3 threads', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 2, max: 70 }),
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.boolean(),
        (outer, red, inner, seed, specials) => {
          const n = outer * red * inner
          fc.pre(n >= ELEMENTWISE_WASM_MIN)
          const x = fromBuffer([outer, red, inner], values(seed, n, specials))
          const { js, wasm } = onEach(() => [
            bits(sum(x, 1).data),
            bits(sum(x, [0, 1]).data),
            bits(mean(x, 0).data),
          ])
          for (const w of wasm) expect(w).toEqual(js)
          // and the float64 sum in order of r, rounded once (a formula, not the code under test)
          const want = Array.from({ length: outer * inner }, (_, k) => {
            const o = Math.floor(k / inner)
            let s = 0
            for (let r = 0; r < red; r++) s += x.data[(o * red + r) * inner + (k % inner)]!
            return s
          })
          expect(wasm[0]![0]).toEqual(bits(want))
        },
      ),
      { seed: 16, numRuns: 40 },
    )
  })

  it('of rows are within 2⁻²³·|s| + len·2⁻⁵²·Σ|x| of the plain loops and of the float64 sum, the same on 1-3 threads', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: Math.ceil(ELEMENTWISE_WASM_MIN / 5), max: 600 }),
        fc.integer({ min: 1, max: 1 << 30 }),
        (rows, len, seed) => {
          const x = fromBuffer([rows, len], values(seed, rows * len, false))
          const { js, wasm } = onEach(() => [Array.from(sum(x, 1).data), Array.from(sum(x).data)])
          for (const w of wasm) expect(bits(w.flat())).toEqual(bits(wasm[0]!.flat()))
          const check = (got: number, ref: number, xs: ArrayLike<number>) => {
            let exact = 0
            let absSum = 0
            for (let i = 0; i < xs.length; i++) {
              exact += xs[i]!
              absSum += Math.abs(xs[i]!)
            }
            const tol = 2 ** -23 * Math.abs(exact) + xs.length * 2 ** -52 * absSum
            expect(Math.abs(got - ref)).toBeLessThanOrEqual(2 * tol)
            expect(Math.abs(got - exact)).toBeLessThanOrEqual(tol)
          }
          for (let r = 0; r < rows; r++)
            check(wasm[0]![0]![r]!, js[0]![r]!, x.data.subarray(r * len, (r + 1) * len))
          check(wasm[0]![1]![0]!, js[1]![0]!, x.data)
        },
      ),
      { seed: 17, numRuns: 40 },
    )
  })

  it('of rows add four partial sums as (p0 + p2) + (p1 + p3): [2⁶⁰, 1, −2⁶⁰, 1, 0, ...] sums to 2 (the plain loop: 1)', () => {
    const x = new Float32Array(ELEMENTWISE_WASM_MIN)
    x.set([2 ** 60, 1, -(2 ** 60), 1])
    const t = fromBuffer([x.length], x)
    const { js, wasm } = onEach(() => sum(t).data[0])
    // in float64, 2⁶⁰ + 1 = 2⁶⁰: the sequential sum loses the first 1
    expect(js).toBe(1)
    expect(wasm).toEqual([2, 2, 2])
  })
})
