/**
 * The fused dense op's kernels (internal/dense-kernels.ts, internal/wasm/dense.ts) for every
 * activation it fuses, on both kernel sets: equal to the composition of primitives, the
 * gradient (first and second order) of float64 central differences, js and wasm within a
 * stated tolerance (bitwise where the product is exact), and bitwise the same on 1, 2 and 3
 * threads.
 */

import { checkGrads } from '@purenn/testing'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { add, mul } from '../src/arith.js'
import { type DenseActivation, denseOp } from '../src/fused.js'
import { valueAndGrad } from '../src/grad.js'
import { setKernels } from '../src/kernelset.js'
import { matmul } from '../src/linalg.js'
import { elu, leakyRelu, relu, selu } from '../src/nn.js'
import { sum } from '../src/reduce.js'
import { type Tensor, tensor } from '../src/tensor.js'
import { setThreads } from '../src/threads.js'
import { f32, runs } from './helpers/gradcheck.js'

afterAll(() => {
  setKernels('wasm')
  setThreads(1)
})

const SELU_ALPHA = 1.6732632423543772
const SELU_SCALE = 1.0507009873554805
const acts: readonly DenseActivation[] = ['linear', 'relu', 'leakyRelu', 'elu', 'selu']
const sets = ['js', 'wasm'] as const

/** act with α in float64 (the reference). */
const refAct =
  (act: DenseActivation, alpha: number) =>
  (v: number): number => {
    switch (act) {
      case 'linear':
        return v
      case 'relu':
        return Math.max(v, 0)
      case 'leakyRelu':
        return v > 0 ? v : alpha * v
      case 'elu':
        return v > 0 ? v : alpha * Math.expm1(v)
      case 'selu':
        return v > 0 ? SELU_SCALE * v : SELU_SCALE * SELU_ALPHA * Math.expm1(v)
    }
  }

const composed = (act: DenseActivation, alpha: number) => (x: Tensor, k: Tensor, b?: Tensor) => {
  const z = b === undefined ? matmul(x, k) : add(matmul(x, k), b)
  switch (act) {
    case 'linear':
      return z
    case 'relu':
      return relu(z)
    case 'leakyRelu':
      return leakyRelu(z, alpha)
    case 'elu':
      return elu(z, alpha)
    case 'selu':
      return selu(z)
  }
}

interface Case {
  readonly M: number
  readonly K: number
  readonly N: number
  readonly x: number[]
  readonly w: number[]
  readonly b: number[] | undefined
  readonly g: number[]
  readonly act: DenseActivation
  readonly alpha: number
}

const caseArb = (maxM: number, maxK: number, maxN: number, elem = f32): fc.Arbitrary<Case> =>
  fc
    .tuple(
      fc.integer({ min: 1, max: maxM }),
      fc.integer({ min: 1, max: maxK }),
      fc.integer({ min: 1, max: maxN }),
      fc.constantFrom(...acts),
      fc.constantFrom(0.5, 1, 1.5),
    )
    .chain(([M, K, N, act, alpha]) =>
      fc.record({
        M: fc.constant(M),
        K: fc.constant(K),
        N: fc.constant(N),
        x: fc.array(elem, { minLength: M * K, maxLength: M * K }),
        w: fc.array(elem, { minLength: K * N, maxLength: K * N }),
        b: fc.option(fc.array(elem, { minLength: N, maxLength: N }), { nil: undefined }),
        g: fc.array(elem, { minLength: M * N, maxLength: M * N }),
        act: fc.constant(act),
        alpha: fc.constant(alpha),
      }),
    )

const tensors = (c: Case) => ({
  x: tensor(c.x, [c.M, c.K]),
  kernel: tensor(c.w, [c.K, c.N]),
  ...(c.b === undefined ? {} : { bias: tensor(c.b, [c.N]) }),
})
type P = ReturnType<typeof tensors>

/** Value and gradients of Σ g·f(x, kernel, bias). */
const run = (c: Case, f: (x: Tensor, k: Tensor, b?: Tensor) => Tensor) => {
  const gt = tensor(c.g, [c.M, c.N])
  const p = tensors(c)
  const r = valueAndGrad((q: P) => sum(mul(f(q.x, q.kernel, q.bias), gt)))(p)
  return {
    y: f(p.x, p.kernel, p.bias).data,
    dx: r.grad.x.data,
    dw: r.grad.kernel.data,
    db: r.grad.bias?.data,
  }
}
const fused = (c: Case) => (x: Tensor, k: Tensor, b?: Tensor) => denseOp(x, k, b, c.act, c.alpha)
const bits = (a: ArrayLike<number> | undefined) =>
  a === undefined ? [] : Array.from(new Uint32Array(Float32Array.from(a).buffer))

describe('denseOp with every fused activation', () => {
  it('js kernels: bitwise the composition act(add(matmul(x, W), b)) in value and gradient', () => {
    setKernels('js')
    fc.assert(
      fc.property(caseArb(5, 6, 9), (c) => {
        const f = run(c, fused(c))
        const k = run(c, composed(c.act, c.alpha))
        expect(bits(f.y)).toEqual(bits(k.y))
        expect(bits(f.dx)).toEqual(bits(k.dx))
        expect(bits(f.dw)).toEqual(bits(k.dw))
        expect(bits(f.db)).toEqual(bits(k.db))
      }),
      runs(1410, 150),
    )
  })

  for (const set of sets)
    it(`${set}: first and second derivatives agree with float64 central differences (rtol = atol = 2e-3), away from kinks`, () => {
      setKernels(set)
      fc.assert(
        fc.property(caseArb(3, 3, 3), (c) => {
          const z = Array.from({ length: c.M * c.N }, (_, i) => {
            const r = Math.floor(i / c.N)
            const j = i % c.N
            let s = c.b?.[j] ?? 0
            for (let k = 0; k < c.K; k++) s += c.x[r * c.K + k]! * c.w[k * c.N + j]!
            return s
          })
          // second differences step 2e-4: keep pre-activations off the kink at 0
          fc.pre(c.act === 'linear' || z.every((v) => Math.abs(v) >= 1e-2))
          const f = refAct(c.act, c.alpha)
          const args = [
            tensor(c.x, [c.M, c.K]),
            tensor(c.w, [c.K, c.N]),
            tensor(c.b ?? new Array(c.N).fill(0), [c.N]),
          ]
          checkGrads((x: Tensor, w: Tensor, b: Tensor) => denseOp(x, w, b, c.act, c.alpha), args, {
            order: 2,
            cotangent: c.g,
            direction: [...c.g].reverse(),
            rtol: 2e-3,
            atol: 2e-3,
            reference: (x, w, b) =>
              Array.from({ length: c.M * c.N }, (_, i) => {
                const r = Math.floor(i / c.N)
                const j = i % c.N
                let s = b[j]!
                for (let k = 0; k < c.K; k++) s += x[r * c.K + k]! * w[k * c.N + j]!
                return f(s)
              }),
          })
        }),
        runs(1411, 25),
      )
    })

  it('js and wasm agree: equal when the product is exact (K = 1; the matmul kernels may differ in the sign of a zero), else within the stated bound', () =>
    fc.assert(
      fc.property(caseArb(20, 24, 21), ({ ...c }) => {
        const exact = c.K === 1
        setKernels('js')
        const js = run(c, fused(c))
        setKernels('wasm')
        const wasm = run(c, fused(c))
        // z differs by the products' rounding: |Δz| ≤ (K + 2)·2⁻²³·Σ|x·w| (setKernels); the
        // activations' slopes are at most λα < 1.76, and ELU/SELU's exp adds 4·α·2⁻²³.
        const bound = (i: number) => {
          const r = Math.floor(i / c.N)
          const j = i % c.N
          let s = Math.abs(c.b?.[j] ?? 0)
          for (let k = 0; k < c.K; k++) s += Math.abs(c.x[r * c.K + k]! * c.w[k * c.N + j]!)
          return 1.76 * (c.K + 3) * 2 ** -23 * s + 8 * 1.76 * 2 ** -23
        }
        const expOk = (i: number) => (c.act !== 'elu' && c.act !== 'selu' ? true : js.y[i]! > 0)
        js.y.forEach((v, i) => {
          if (exact && expOk(i))
            expect(wasm.y[i]! === v || (Number.isNaN(v) && Number.isNaN(wasm.y[i]!))).toBe(true)
          else expect(Math.abs(wasm.y[i]! - v)).toBeLessThanOrEqual(bound(i))
        })
        // gradients: products of values in [−3, 3] summed over at most 24 terms, each
        // element's inputs perturbed as above (or a kink crossed, which the bound does not
        // cover: such cases are skipped)
        const nearKink = js.y.some((v, i) => c.act !== 'linear' && Math.abs(v) <= bound(i))
        if (!nearKink) {
          const tol = 2 ** -12
          js.dx.forEach((v, i) => {
            expect(Math.abs(wasm.dx[i]! - v)).toBeLessThanOrEqual(tol * (1 + Math.abs(v)))
          })
          js.dw.forEach((v, i) => {
            expect(Math.abs(wasm.dw[i]! - v)).toBeLessThanOrEqual(tol * (1 + Math.abs(v)))
          })
          if (exact && c.act !== 'elu' && c.act !== 'selu')
            expect(Array.from(wasm.db!)).toEqual(Array.from(js.db!))
          else
            js.db?.forEach((v, i) => {
              expect(Math.abs(wasm.db![i]! - v)).toBeLessThanOrEqual(tol * (1 + Math.abs(v)))
            })
        }
      }),
      runs(1412, 120),
    ))

  it('each kernel set gives bitwise the same value and gradients on 1, 2 and 3 threads (pooled product sizes)', () => {
    const M = 64
    const K = 100
    const N = 70
    const wave = (n: number, f: number) => Array.from({ length: n }, (_, i) => Math.sin(i * f))
    for (const set of sets)
      for (const act of acts) {
        const c: Case = {
          M,
          K,
          N,
          x: wave(M * K, 0.7),
          w: wave(K * N, 1.3),
          b: wave(N, 2.1),
          g: wave(M * N, 0.9),
          act,
          alpha: 0.5,
        }
        const outs = [1, 2, 3].map((t) => {
          setKernels(set)
          setThreads(t)
          const r = run(c, fused(c))
          return [...bits(r.y), ...bits(r.dx), ...bits(r.dw), ...bits(r.db)]
        })
        expect(outs[1]).toEqual(outs[0])
        expect(outs[2]).toEqual(outs[0])
      }
  })

  it('pins values: leaky ReLU, ELU and SELU of known pre-activations, with and without bias', () => {
    for (const set of sets) {
      setKernels(set)
      const x = tensor([[1], [-2]])
      const w = tensor([[1, 2, 3, -1, 0.5]])
      expect(Array.from(denseOp(x, w, undefined, 'leakyRelu', 0.5).data)).toEqual([
        1, 2, 3, -0.5, 0.5, -1, -2, -3, 2, -0.5,
      ])
      const e = Array.from(denseOp(x, w, tensor([0, 0, 0, 0, 1]), 'elu').data)
      const want = [1, 2, 3, Math.expm1(-1), 1.5, Math.expm1(-2), Math.expm1(-4), Math.expm1(-6), 2, 0]
      e.forEach((v, i) => {
        expect(v).toBeCloseTo(want[i]!, 6)
      })
      expect(denseOp(tensor([[1]]), tensor([[-1]]), undefined, 'selu').item()).toBeCloseTo(
        SELU_SCALE * SELU_ALPHA * Math.expm1(-1),
        6,
      )
    }
  })

  it('rejects unknown activations and α out of range', () => {
    const x = tensor([[1]])
    expect(() => denseOp(x, x, undefined, 'tanh' as DenseActivation)).toThrow(TypeError)
    expect(() => denseOp(x, x, undefined, 'leakyRelu', -0.1)).toThrow(
      "alpha of 'leakyRelu' must be a finite number of at least 0",
    )
    expect(() => denseOp(x, x, undefined, 'elu', 0)).toThrow("alpha of 'elu' must be a finite number above 0")
    expect(() => denseOp(x, x, undefined, 'elu', Number.NaN)).toThrow(RangeError)
  })
})
