/**
 * The fused classifier heads (crossentropy.ts) on both kernel sets: values against float64
 * formulas, gradients (first and second order) against float64 central differences through
 * `checkGrads`, js against wasm within a stated float32 tolerance, and bitwise the same on
 * 1, 2 and 3 threads.
 */

import { checkGrads } from '@purenn/testing'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { mul, neg } from '../src/arith.js'
import { fusedSoftmax, sparseSoftmaxCrossentropy } from '../src/crossentropy.js'
import { ShapeError } from '../src/errors.js'
import { valueAndGrad } from '../src/grad.js'
import { setKernels } from '../src/kernelset.js'
import { logSoftmax, softmax } from '../src/nn.js'
import { sum } from '../src/reduce.js'
import { gather, reshape } from '../src/shape.js'
import { type Tensor, tensor } from '../src/tensor.js'
import { setThreads } from '../src/threads.js'
import { runs } from './helpers/gradcheck.js'

afterAll(() => {
  setKernels('wasm')
  setThreads(1)
})

const sets = ['js', 'wasm'] as const

/** Logits: rows x classes in [−30, 30] (float32), with class labels. */
const caseArb = (maxRows: number, maxClasses: number, bound = 30) =>
  fc.tuple(fc.integer({ min: 1, max: maxRows }), fc.integer({ min: 1, max: maxClasses })).chain(([rows, C]) =>
    fc.record({
      rows: fc.constant(rows),
      C: fc.constant(C),
      z: fc.array(fc.float({ min: Math.fround(-bound), max: Math.fround(bound), noNaN: true }), {
        minLength: rows * C,
        maxLength: rows * C,
      }),
      labels: fc.array(fc.integer({ min: 0, max: C - 1 }), { minLength: rows, maxLength: rows }),
      g: fc.array(fc.float({ min: -2, max: 2, noNaN: true }), { minLength: rows * C, maxLength: rows * C }),
    }),
  )

/** Float64 softmax of each row. */
const refSoftmax = (z: readonly number[], rows: number, C: number): number[] => {
  const out: number[] = []
  for (let r = 0; r < rows; r++) {
    const row = z.slice(r * C, r * C + C)
    const m = Math.max(...row)
    const e = row.map((v) => Math.exp(v - m))
    const s = e.reduce((a, b) => a + b, 0)
    out.push(...e.map((v) => v / s))
  }
  return out
}

/** Float64 −log softmax(z)[label] of each row. */
const refXent = (z: ArrayLike<number>, labels: readonly number[], C: number): number[] =>
  labels.map((k, r) => {
    const row = Array.from({ length: C }, (_, j) => z[r * C + j]!)
    const m = Math.max(...row)
    return Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)) - (row[k]! - m)
  })

describe('fusedSoftmax and sparseSoftmaxCrossentropy', () => {
  for (const set of sets)
    it(`${set}: values match float64 formulas (|Δp| ≤ 2⁻²⁰·(1 + |z − m|)·p + 2⁻³⁰, |Δloss| ≤ 2⁻²⁰·(1 + |loss| + 30))`, () => {
      setKernels(set)
      fc.assert(
        fc.property(caseArb(6, 13), ({ rows, C, z, labels }) => {
          const zt = tensor(Float32Array.from(z), [rows, C])
          const zf = Array.from(zt.data)
          const p = fusedSoftmax(zt).data
          const want = refSoftmax(zf, rows, C)
          want.forEach((w, i) => {
            const m = Math.max(...zf.slice(i - (i % C), i - (i % C) + C))
            expect(Math.abs(p[i]! - w)).toBeLessThanOrEqual(
              2 ** -20 * (1 + Math.abs(zf[i]! - m)) * w + 2 ** -30,
            )
          })
          const loss = sparseSoftmaxCrossentropy(zt, tensor(labels)).data
          refXent(zf, labels, C).forEach((w, r) => {
            expect(Math.abs(loss[r]! - w)).toBeLessThanOrEqual(2 ** -20 * (1 + Math.abs(w) + 30))
          })
        }),
        runs(1401, 60),
      )
    })

  for (const set of sets)
    it(`${set}: first and second derivatives agree with float64 central differences (rtol = atol = 2e-3)`, () => {
      setKernels(set)
      fc.assert(
        fc.property(caseArb(3, 5, 3), ({ rows, C, z, labels, g }) => {
          const zt = tensor(Float32Array.from(z), [rows, C])
          const lt = tensor(labels)
          const opts = {
            order: 2 as const,
            cotangent: g,
            direction: g.map((v) => -v),
            rtol: 2e-3,
            atol: 2e-3,
          }
          checkGrads((x: Tensor) => fusedSoftmax(x), [zt], {
            ...opts,
            reference: (x) => refSoftmax(Array.from(x), rows, C),
          })
          checkGrads((x: Tensor) => sparseSoftmaxCrossentropy(x, lt), [zt], {
            ...opts,
            reference: (x) => refXent(x, labels, C),
          })
        }),
        runs(1402, 15),
      )
    })

  it('equal the compositions of primitives in value and gradient to float32 rounding', () =>
    fc.assert(
      fc.property(caseArb(5, 12), fc.constantFrom(...sets), ({ rows, C, z, labels, g }, set) => {
        setKernels(set)
        const zt = tensor(Float32Array.from(z), [rows, C])
        const w = tensor(g.slice(0, rows), [rows])
        const flat = labels.map((k, r) => r * C + k)
        const fused = valueAndGrad((x: Tensor) => sum(mul(sparseSoftmaxCrossentropy(x, tensor(labels)), w)))(
          zt,
        )
        const comp = valueAndGrad((x: Tensor) =>
          sum(mul(neg(reshape(gather(reshape(logSoftmax(x, -1), [-1]), flat), [rows])), w)),
        )(zt)
        expect(Math.abs(fused.value.item() - comp.value.item())).toBeLessThanOrEqual(
          1e-5 * (1 + Math.abs(comp.value.item())),
        )
        fused.grad.data.forEach((v, i) => {
          expect(Math.abs(v - comp.grad.data[i]!)).toBeLessThanOrEqual(1e-5)
        })
        const gs = tensor(g, [rows, C])
        const fs = valueAndGrad((x: Tensor) => sum(mul(fusedSoftmax(x), gs)))(zt)
        const cs = valueAndGrad((x: Tensor) => sum(mul(softmax(x, -1), gs)))(zt)
        fs.grad.data.forEach((v, i) => {
          expect(Math.abs(v - cs.grad.data[i]!)).toBeLessThanOrEqual(1e-5)
        })
      }),
      runs(1403, 40),
    ))

  it('js and wasm agree within the stated tolerance on random shapes, leading axes included', () =>
    fc.assert(
      fc.property(caseArb(40, 33), fc.integer({ min: 1, max: 3 }), ({ rows, C, z, labels, g }, lead) => {
        const shape = rows % lead === 0 ? [lead, rows / lead, C] : [rows, C]
        const zt = tensor(Float32Array.from(z), shape)
        const lt = tensor(labels, shape.slice(0, -1))
        const run = (set: 'js' | 'wasm') => {
          setKernels(set)
          const s = valueAndGrad((x: Tensor) => sum(mul(fusedSoftmax(x), tensor(g, shape))))(zt)
          const c = valueAndGrad((x: Tensor) => sum(sparseSoftmaxCrossentropy(x, lt)))(zt)
          return {
            p: fusedSoftmax(zt).data,
            dp: s.grad.data,
            loss: sparseSoftmaxCrossentropy(zt, lt).data,
            dz: c.grad.data,
          }
        }
        const js = run('js')
        const wasm = run('wasm')
        js.p.forEach((v, i) => {
          expect(Math.abs(v - wasm.p[i]!)).toBeLessThanOrEqual(2 ** -19 * (v + 2 ** -30) * 61)
        })
        js.dp.forEach((v, i) => {
          expect(Math.abs(v - wasm.dp[i]!)).toBeLessThanOrEqual(2 ** -14)
        })
        js.loss.forEach((v, i) => {
          expect(Math.abs(v - wasm.loss[i]!)).toBeLessThanOrEqual(2 ** -20 * (1 + Math.abs(v) + 60))
        })
        js.dz.forEach((v, i) => {
          expect(Math.abs(v - wasm.dz[i]!)).toBeLessThanOrEqual(2 ** -14)
        })
      }),
      runs(1404, 60),
    ))

  it('each kernel set gives bitwise the same results on 1, 2 and 3 threads', () => {
    const rows = 512
    const C = 10
    const z = Float32Array.from({ length: rows * C }, (_, i) => 20 * Math.sin(i * 0.37))
    const labels = tensor(Array.from({ length: rows }, (_, r) => (r * 7) % C))
    for (const set of sets) {
      const outs = [1, 2, 3].map((t) => {
        setKernels(set)
        setThreads(t)
        const r = valueAndGrad((x: Tensor) => sum(sparseSoftmaxCrossentropy(x, labels)))(tensor(z, [rows, C]))
        return [...fusedSoftmax(tensor(z, [rows, C])).data, r.value.item(), ...r.grad.data]
      })
      const bits = outs.map((o) => Array.from(new Uint32Array(Float32Array.from(o).buffer)))
      expect(bits[1]).toEqual(bits[0])
      expect(bits[2]).toEqual(bits[0])
    }
  })

  it('pins known values: uniform logits give log C; huge logits stay finite', () => {
    for (const set of sets) {
      setKernels(set)
      expect(sparseSoftmaxCrossentropy(tensor([[0, 0, 0, 0, 0]]), tensor([3])).item()).toBeCloseTo(
        Math.log(5),
        6,
      )
      expect(sparseSoftmaxCrossentropy(tensor([[1e4, -1e4]]), tensor([1])).item()).toBeCloseTo(2e4, 0)
      expect(Array.from(fusedSoftmax(tensor([[1e4, -1e4, 1e4]])).data)).toEqual([0.5, 0, 0.5])
    }
  })

  it('rejects bad shapes and labels with errors naming them', () => {
    expect(() => sparseSoftmaxCrossentropy(tensor([1, 2]), tensor([0]))).toThrow(ShapeError)
    expect(() => sparseSoftmaxCrossentropy(tensor([[1, 2]]), tensor([0, 1]))).toThrow(
      'labels of shape [2] do not fit logits of shape [1,2]',
    )
    expect(() => sparseSoftmaxCrossentropy(tensor([[1, 2]]), tensor([2]))).toThrow(
      'label 2 of row 0 is not a class index in [0, 2)',
    )
    expect(() => sparseSoftmaxCrossentropy(tensor([[1, 2]]), tensor([0.5]))).toThrow(RangeError)
    expect(() => fusedSoftmax(tensor(1))).toThrow(ShapeError)
  })
})
