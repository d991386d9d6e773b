/**
 * The WebAssembly batch-norm passes (internal/wasm/batchnorm.ts) against the js loops of
 * fused.ts: tolerance 0. Both sets do the same float64 operations in the same order and
 * round once to float32, so every output and every gradient must be bitwise the same, on
 * shapes whose channel count is and is not a multiple of 4 (the partial group reads and
 * writes past a row), above and below the size where the wasm passes take over.
 */

import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { add, mul } from '../src/arith.js'
import { batchNorm, batchNormTrain, moments } from '../src/fused.js'
import { valueAndGrad } from '../src/grad.js'
import {
  BN_WASM_MIN,
  batchNormWasmReady,
  wasmAffineInto,
  wasmColumnMoments,
  wasmDxInto,
  wasmGradSums,
} from '../src/internal/wasm/batchnorm-run.js'
import { setKernels } from '../src/kernelset.js'
import { sum } from '../src/reduce.js'
import { type Tensor, tensor } from '../src/tensor.js'
import { setThreads } from '../src/threads.js'

/** Bitwise equality of float32 or float64 arrays, as a list of mismatches (empty: equal). */
const mismatches = (what: string, got: ArrayLike<number>, want: ArrayLike<number>): string[] => {
  if (got.length !== want.length) return [`${what}: length ${got.length} vs ${want.length}`]
  const out: string[] = []
  for (let i = 0; i < got.length && out.length < 3; i++)
    if (!Object.is(got[i]!, want[i]!)) out.push(`${what}[${i}]: ${got[i]} vs ${want[i]}`)
  return out
}

/** Values over several magnitudes around an offset, from a seed (no hidden randomness). */
const values = (n: number, seed: number, scale: number, offset: number): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => offset + scale * Math.sin(seed * 7.31 + i * 1.7) * (1 + (i % 5)))

afterAll(() => {
  setKernels('wasm')
  setThreads(1)
})

describe('batch-norm wasm passes', () => {
  it('compile and run here', () => expect(batchNormWasmReady()).toBe(true))

  it('are bitwise the plain float64 loops for k = 1..13 channels (partial groups), any row count', () =>
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 13 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 1000 }),
        (k, rows, seed) => {
          const n = rows * k
          const x = values(n, seed, 3, 0.5)
          const g = values(n, seed + 1, 0.1, 0)
          const vec = (s: number) => Float64Array.from({ length: k }, (_, j) => Math.cos(s + j) * 2)
          const [shift, a, b, m1, m2] = [vec(1), vec(2), vec(3), vec(4), vec(5)]
          const errs: string[] = []
          // the mean Σx / rows, then Σ(x − mean)²
          const want1 = new Float64Array(k)
          const want2 = new Float64Array(k)
          for (let i = 0; i < n; i++) want1[i % k]! += x[i]!
          for (let j = 0; j < k; j++) want1[j]! /= rows
          for (let i = 0; i < n; i++) {
            const c = x[i]! - want1[i % k]!
            want2[i % k]! += c * c
          }
          const s1 = new Float64Array(k)
          const s2 = new Float64Array(k)
          expect(wasmColumnMoments(x, k, rows, s1, s2)).toBe(true)
          errs.push(...mismatches('mean', s1, want1), ...mismatches('colSqDev', s2, want2))
          // Σg and Σg·(x − shift)
          const wsg = new Float64Array(k)
          const wsgx = new Float64Array(k)
          for (let i = 0; i < n; i++) {
            wsg[i % k]! += g[i]!
            wsgx[i % k]! += g[i]! * (x[i]! - shift[i % k]!)
          }
          const sg = new Float64Array(k)
          const sgx = new Float64Array(k)
          expect(wasmGradSums(g, x, k, shift, sg, sgx)).toBe(true)
          errs.push(...mismatches('sg', sg, wsg), ...mismatches('sgx', sgx, wsgx))
          // affine and dx, rounded once to float32
          const wantY = Float32Array.from(x, (xi, i) => (xi - shift[i % k]!) * a[i % k]! + b[i % k]!)
          const wantDx = Float32Array.from(
            x,
            (xi, i) => a[i % k]! * (g[i]! - m1[i % k]! - (xi - shift[i % k]!) * m2[i % k]!),
          )
          const y = new Float32Array(n)
          const d = new Float32Array(n)
          expect(wasmAffineInto(x, k, shift, a, b, y) && wasmDxInto(g, x, k, a, m1, shift, m2, d)).toBe(true)
          errs.push(...mismatches('affine', y, wantY), ...mismatches('dx', d, wantDx))
          expect(errs).toEqual([])
        },
      ),
      { seed: 1414, numRuns: 60 },
    ))
})

/** Everything batch norm computes for one input, values and gradients, as flat arrays. */
const everything = (x: Tensor, c: number, seed: number): Record<string, Float32Array> => {
  const keep = x.shape.slice(-1)
  const reduced = x.shape.slice(0, -1).map((_, i) => i)
  const gamma = tensor(Array.from(values(c, seed + 2, 0.7, 1)), keep)
  const beta = tensor(Array.from(values(c, seed + 3, 0.5, 0)), keep)
  const w = tensor(Array.from(values(x.size, seed + 4, 1, 0.1)), x.shape)
  const u = tensor(Array.from(values(c, seed + 5, 1, 0)), keep)
  type P = { x: Tensor; gamma: Tensor; beta: Tensor; mean: Tensor; variance: Tensor }
  const train = valueAndGrad((p: P) => {
    const r = batchNormTrain(p.x, p.gamma, p.beta, reduced, 1e-3)
    return add(add(sum(mul(r.y, w)), sum(mul(r.mean, u))), sum(mul(r.variance, u)))
  })
  const infer = valueAndGrad((p: P) => sum(mul(batchNorm(p.x, p.mean, p.variance, p.gamma, p.beta, 1e-3), w)))
  const mom = valueAndGrad((p: P) => {
    const m = moments(p.x, reduced)
    return add(sum(mul(m.mean, u)), sum(mul(m.variance, u)))
  })
  const st = moments(x, reduced)
  const p: P = { x, gamma, beta, mean: st.mean, variance: add(st.variance, 0.25) }
  const fwd = batchNormTrain(x, gamma, beta, reduced, 1e-3)
  const out: Record<string, Float32Array> = {
    y: Float32Array.from(fwd.y.data),
    mean: Float32Array.from(fwd.mean.data),
    variance: Float32Array.from(fwd.variance.data),
    inference: Float32Array.from(batchNorm(x, p.mean, p.variance, gamma, beta, 1e-3).data),
  }
  for (const [name, f] of [
    ['train', train],
    ['infer', infer],
    ['moments', mom],
  ] as const) {
    const r = f(p)
    out[`${name}.loss`] = Float32Array.from(r.value.data)
    for (const [leaf, t] of Object.entries(r.grad)) out[`${name}.d${leaf}`] = Float32Array.from(t.data)
  }
  return out
}

describe('batch norm on the two kernel sets', () => {
  const shapeArb = fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 37 })),
    fc.tuple(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 11 }),
    ),
  )

  it('gives bitwise the same values and gradients (train, inference, moments), tolerance 0', () => {
    let wasmSized = 0
    fc.assert(
      fc.property(
        shapeArb,
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: -50, max: 50, noNaN: true }),
        (shape, seed, offset) => {
          const n = shape.reduce((p, d) => p * d, 1)
          if (n >= BN_WASM_MIN) wasmSized++
          const x = tensor(Array.from(values(n, seed, 2, offset)), shape)
          const c = shape.at(-1)!
          setKernels('js')
          const js = everything(x, c, seed)
          setKernels('wasm')
          const wasm = everything(x, c, seed)
          const errs = Object.keys(js).flatMap((key) => mismatches(key, wasm[key]!, js[key]!))
          expect(Object.keys(wasm).sort()).toEqual(Object.keys(js).sort())
          expect(errs).toEqual([])
        },
      ),
      { seed: 14, numRuns: 60 },
    )
    // the property must have exercised the wasm passes, not only the small-input js path
    expect(wasmSized).toBeGreaterThan(10)
  })

  it('is bitwise the same on 1, 2 and 3 threads, per kernel set', () => {
    const x = tensor(Array.from(values(96 * 300, 5, 1.5, 0.2)), [96, 300])
    for (const k of ['js', 'wasm'] as const) {
      setKernels(k)
      const runs = [1, 2, 3].map((t) => {
        setThreads(t)
        return everything(x, 300, 5)
      })
      for (const r of runs.slice(1))
        expect(Object.keys(r).flatMap((key) => mismatches(`${k} ${key}`, r[key]!, runs[0]![key]!))).toEqual(
          [],
        )
    }
  })
})
