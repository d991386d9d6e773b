import { checkGrads } from '@purenn/testing'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { mul, square } from '../src/arith.js'
import { avgPool2d, conv2d, convOutputSize, maxPool2d, type Padding } from '../src/conv.js'
import { ShapeError } from '../src/errors.js'
import { valueAndGrad } from '../src/grad.js'
import { arange, ones, reshape } from '../src/index.js'
import {
  avgPoolOp,
  avgPoolTransposeOp,
  type Geometry,
  gatherAt,
  patches,
  scatterAt,
  unpatch,
  windowCounts,
} from '../src/internal/window.js'
import { sum } from '../src/reduce.js'
import { type Tensor, tensor } from '../src/tensor.js'
import { getThreads, setThreads } from '../src/threads.js'
import { checkGrad, cotangentArb, refArb, runs } from './helpers/gradcheck.js'
import type { Ref } from './helpers/reference.js'

// ---------------------------------------------------------------------------------------
// Float64 references, written from tf.nn's definitions (independent of src/)

/** TF's 'same' padding before the data along one axis, and the output length. */
const axis64 = (n: number, k: number, s: number, d: number, padding: Padding) => {
  const eff = (k - 1) * d + 1
  if (padding === 'valid') return { out: Math.floor((n - eff) / s) + 1, before: 0 }
  const out = Math.ceil(n / s)
  return { out, before: Math.floor(Math.max((out - 1) * s + eff - n, 0) / 2) }
}

interface ConvCase {
  readonly x: Ref
  readonly w: Ref
  readonly strides: [number, number]
  readonly dilation: [number, number]
  readonly padding: Padding
}

/** y[b,i,j,f] = Σ x[b, i·s + u·d − p, j·s + v·d − p, c]·w[u,v,c,f], taps outside are 0. */
const conv64 = (x: Ref, w: Ref, c: Omit<ConvCase, 'x' | 'w'>): Ref => {
  const [n, h, wd, ch] = x.shape as [number, number, number, number]
  const [kh, kw, , f] = w.shape as [number, number, number, number]
  const ay = axis64(h, kh, c.strides[0], c.dilation[0], c.padding)
  const ax = axis64(wd, kw, c.strides[1], c.dilation[1], c.padding)
  const data = new Float64Array(n * ay.out * ax.out * f)
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ay.out; i++)
      for (let j = 0; j < ax.out; j++)
        for (let o = 0; o < f; o++) {
          let s = 0
          for (let u = 0; u < kh; u++)
            for (let v = 0; v < kw; v++) {
              const yy = i * c.strides[0] + u * c.dilation[0] - ay.before
              const xx = j * c.strides[1] + v * c.dilation[1] - ax.before
              if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue
              for (let q = 0; q < ch; q++)
                s += x.data[((b * h + yy) * wd + xx) * ch + q]! * w.data[((u * kw + v) * ch + q) * f + o]!
            }
          data[((b * ay.out + i) * ax.out + j) * f + o] = s
        }
  return { shape: [n, ay.out, ax.out, f], data }
}

/** Max or mean over each window's valid taps. */
const pool64 = (
  x: Ref,
  size: [number, number],
  strides: [number, number],
  padding: Padding,
  kind: 'max' | 'avg',
): Ref => {
  const [n, h, wd, ch] = x.shape as [number, number, number, number]
  const ay = axis64(h, size[0], strides[0], 1, padding)
  const ax = axis64(wd, size[1], strides[1], 1, padding)
  const data = new Float64Array(n * ay.out * ax.out * ch)
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ay.out; i++)
      for (let j = 0; j < ax.out; j++)
        for (let q = 0; q < ch; q++) {
          const vs: number[] = []
          for (let u = 0; u < size[0]; u++)
            for (let v = 0; v < size[1]; v++) {
              const yy = i * strides[0] + u - ay.before
              const xx = j * strides[1] + v - ax.before
              if (yy >= 0 && yy < h && xx >= 0 && xx < wd) vs.push(x.data[((b * h + yy) * wd + xx) * ch + q]!)
            }
          data[((b * ay.out + i) * ax.out + j) * ch + q] =
            kind === 'max' ? Math.max(...vs) : vs.reduce((s, v) => s + v, 0) / vs.length
        }
  return { shape: [n, ay.out, ax.out, ch], data }
}

// ---------------------------------------------------------------------------------------
// Arbitraries

const paddingArb = fc.constantFrom<Padding>('valid', 'same')

const convCaseArb: fc.Arbitrary<ConvCase> = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: 6 }),
    w: fc.integer({ min: 1, max: 6 }),
    c: fc.integer({ min: 1, max: 3 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    f: fc.integer({ min: 1, max: 3 }),
    s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })),
    d: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    dilate: fc.boolean(),
    padding: paddingArb,
  })
  .filter(
    (r) =>
      r.padding === 'same' ||
      (r.h >= (r.kh - 1) * (r.dilate ? r.d[0] : 1) + 1 && r.w >= (r.kw - 1) * (r.dilate ? r.d[1] : 1) + 1),
  )
  .chain((r) =>
    fc.record({
      x: refArb([r.n, r.h, r.w, r.c]),
      w: refArb([r.kh, r.kw, r.c, r.f]),
      strides: fc.constant<[number, number]>(r.dilate ? [1, 1] : r.s),
      dilation: fc.constant<[number, number]>(r.dilate ? r.d : [1, 1]),
      padding: fc.constant(r.padding),
    }),
  )

interface PoolCase {
  readonly x: Ref
  readonly size: [number, number]
  readonly strides: [number, number]
  readonly padding: Padding
}

const poolCaseArb: fc.Arbitrary<PoolCase> = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: 6 }),
    w: fc.integer({ min: 1, max: 6 }),
    c: fc.integer({ min: 1, max: 3 }),
    size: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    padding: paddingArb,
  })
  .filter((r) => r.padding === 'same' || (r.h >= r.size[0] && r.w >= r.size[1]))
  .chain((r) =>
    fc.record({
      x: refArb([r.n, r.h, r.w, r.c]),
      size: fc.constant(r.size),
      strides: fc.constant(r.strides),
      padding: fc.constant(r.padding),
    }),
  )

/** Elements tied (within 1e-2) with another element of a window they share the max of. */
const maxTies = (c: PoolCase): boolean[] => {
  const skip = new Array<boolean>(c.x.data.length).fill(false)
  const [n, h, wd, ch] = c.x.shape as [number, number, number, number]
  const ay = axis64(h, c.size[0], c.strides[0], 1, c.padding)
  const ax = axis64(wd, c.size[1], c.strides[1], 1, c.padding)
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ay.out; i++)
      for (let j = 0; j < ax.out; j++)
        for (let q = 0; q < ch; q++) {
          const at: number[] = []
          for (let u = 0; u < c.size[0]; u++)
            for (let v = 0; v < c.size[1]; v++) {
              const yy = i * c.strides[0] + u - ay.before
              const xx = j * c.strides[1] + v - ax.before
              if (yy >= 0 && yy < h && xx >= 0 && xx < wd) at.push(((b * h + yy) * wd + xx) * ch + q)
            }
          const m = Math.max(...at.map((k) => c.x.data[k]!))
          const near = at.filter((k) => m - c.x.data[k]! < 1e-2)
          if (near.length > 1) for (const k of near) skip[k] = true
        }
  return skip
}

const t = (r: Ref) => tensor(Float32Array.from(r.data), r.shape)

// ---------------------------------------------------------------------------------------

describe('convOutputSize', () => {
  it("is Keras' conv_output_length", () => {
    expect(convOutputSize(28, 3)).toBe(26)
    expect(convOutputSize(28, 3, 1, 'same')).toBe(28)
    expect(convOutputSize(28, 3, 2, 'same')).toBe(14)
    expect(convOutputSize(27, 3, 2, 'same')).toBe(14)
    expect(convOutputSize(28, 3, 2)).toBe(13)
    expect(convOutputSize(7, 3, 1, 'valid', 3)).toBe(1)
    expect(convOutputSize(2, 3)).toBe(0)
  })
  it('rejects bad arguments by name', () => {
    expect(() => convOutputSize(5, 0)).toThrow(/kernelSize must be an integer ≥ 1, got 0/)
    expect(() => convOutputSize(5, 2, 1, 'full' as Padding)).toThrow(/padding must be 'valid' or 'same'/)
  })
})

describe('conv2d', () => {
  it("splits 'same' padding as TensorFlow: the extra row and column go after", () => {
    // 4x4 input 0..15, 3x3 ones, stride 2: total padding 1, all of it at the bottom/right.
    // Window (0,0) covers rows/cols 0..2: 0+1+2+4+5+6+8+9+10 = 45; (0,1) cols 2..3: 39; ...
    const x = reshape(arange(16), [1, 4, 4, 1])
    const y = conv2d(x, ones([3, 3, 1, 1]), { strides: 2, padding: 'same' })
    expect(y.shape).toEqual([1, 2, 2, 1])
    expect(Array.from(y.data)).toEqual([45, 39, 66, 50])
  })

  it('dilation spreads the taps: a 2x2 kernel dilated 2 reads corners of a 3x3 window', () => {
    const x = reshape(arange(9), [1, 3, 3, 1])
    const y = conv2d(x, ones([2, 2, 1, 1]), { dilationRate: 2 })
    expect(Array.from(y.data)).toEqual([0 + 2 + 6 + 8])
  })

  it('forward and VJPs (input and kernel) against float64 references and central differences', () =>
    fc.assert(
      fc.property(convCaseArb, cotangentArb, (c, w) =>
        checkGrad({
          name: `conv2d(${JSON.stringify({ s: c.strides, d: c.dilation, p: c.padding, x: c.x.shape, w: c.w.shape })})`,
          op: (x, k) => conv2d(x!, k!, { strides: c.strides, dilationRate: c.dilation, padding: c.padding }),
          ref: (x, k) => conv64(x!, k!, c),
          inputs: [c.x, c.w],
          w,
        }),
      ),
      runs(901, 60),
    ))

  it('rejects bad shapes and options, naming them', () => {
    const x = ones([1, 4, 4, 2])
    expect(() => conv2d(ones([4, 4, 2]), ones([3, 3, 2, 1]))).toThrow(ShapeError)
    expect(() => conv2d(x, ones([3, 3, 3, 1]))).toThrow(/input has 2 channels but the kernel expects 3/)
    expect(() => conv2d(x, ones([5, 5, 2, 1]))).toThrow(/5x5 window does not fit/)
    expect(() => conv2d(x, ones([3, 3, 2]))).toThrow(/kernel must have 4 axes/)
    expect(() => conv2d(x, ones([1, 1, 2, 1]), { strides: 2, dilationRate: 2 })).toThrow(
      /cannot both exceed 1/,
    )
    expect(() => conv2d(x, ones([1, 1, 2, 1]), { strides: 0 })).toThrow(/strides must be a positive integer/)
    expect(() => conv2d(x, ones([1, 1, 2, 1]), { padding: 'causal' as Padding })).toThrow(/padding must be/)
  })
})

describe('pooling', () => {
  it('maxPool2d: forward and VJP against float64, ties skipped', () =>
    fc.assert(
      fc.property(poolCaseArb, cotangentArb, (c, w) =>
        checkGrad({
          name: `maxPool2d(${JSON.stringify({ ...c, x: c.x.shape })})`,
          op: (x) => maxPool2d(x!, { poolSize: c.size, strides: c.strides, padding: c.padding }),
          ref: (x) => pool64(x!, c.size, c.strides, c.padding, 'max'),
          inputs: [c.x],
          w,
          skip: [maxTies(c)],
        }),
      ),
      runs(902, 60),
    ))

  it('avgPool2d: forward and VJP against float64 (padding taps not counted)', () =>
    fc.assert(
      fc.property(poolCaseArb, cotangentArb, (c, w) =>
        checkGrad({
          name: `avgPool2d(${JSON.stringify({ ...c, x: c.x.shape })})`,
          op: (x) => avgPool2d(x!, { poolSize: c.size, strides: c.strides, padding: c.padding }),
          ref: (x) => pool64(x!, c.size, c.strides, c.padding, 'avg'),
          inputs: [c.x],
          w,
        }),
      ),
      runs(903, 60),
    ))

  it("Keras defaults: pool 2, strides = pool size, 'valid'", () => {
    const x = reshape(arange(25), [1, 5, 5, 1])
    expect(Array.from(maxPool2d(x).data)).toEqual([6, 8, 16, 18])
    expect(Array.from(avgPool2d(x).data)).toEqual([3, 5, 13, 15])
    // 'same' on 5x5 with pool 2: a 3x3 output, the last row/column windows hold one valid tap
    expect(avgPool2d(x, { padding: 'same' }).data[8]).toBe(24)
  })

  it('the max-pool gradient goes to the first maximum of a tied window', () => {
    const x = tensor([1, 1, 1, 1], [1, 2, 2, 1])
    const g = valueAndGrad((v: typeof x) => sum(maxPool2d(v)))(x).grad
    expect(Array.from(g.data)).toEqual([1, 0, 0, 0])
  })
})

describe('the VJPs are recorded ops whose own VJPs are right (ready for second order)', () => {
  // Each VJP of conv2d and pooling is one of these ops (plus matmul and reshape): checking
  // the gradient of each against finite differences checks the VJP of the VJP.
  const geomArb = convCaseArb.map((c): Geometry => {
    const [n, h, w, ch] = c.x.shape as [number, number, number, number]
    const [kh, kw] = c.w.shape as [number, number]
    const ay = axis64(h, kh, c.strides[0], c.dilation[0], c.padding)
    const ax = axis64(w, kw, c.strides[1], c.dilation[1], c.padding)
    return {
      n,
      h,
      w,
      c: ch,
      kh,
      kw,
      sh: c.strides[0],
      sw: c.strides[1],
      dh: c.dilation[0],
      dw: c.dilation[1],
      pt: ay.before,
      pl: ax.before,
      oh: ay.out,
      ow: ax.out,
    }
  })
  const colsShape = (g: Geometry) => [g.n * g.oh * g.ow, g.kh * g.kw * g.c]
  const imgShape = (g: Geometry) => [g.n, g.h, g.w, g.c]
  // Direct float64 references of the window ops, written from their definitions (not from
  // src/): every valid tap of every output window as (output pixel, patch column, input
  // pixel); im2col copies along these taps, col2im adds back along them, average pooling is
  // the mean over a window's taps and its transpose shares the cotangent among them.
  const taps64 = (g: Geometry): { p: number; k: number; i: number }[] => {
    const out: { p: number; k: number; i: number }[] = []
    for (let b = 0; b < g.n; b++)
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++)
          for (let ky = 0; ky < g.kh; ky++)
            for (let kx = 0; kx < g.kw; kx++) {
              const iy = oy * g.sh + ky * g.dh - g.pt
              const ix = ox * g.sw + kx * g.dw - g.pl
              if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue
              out.push({ p: (b * g.oh + oy) * g.ow + ox, k: ky * g.kw + kx, i: (b * g.h + iy) * g.w + ix })
            }
    return out
  }
  const outShape64 = (g: Geometry) => [g.n, g.oh, g.ow, g.c]
  const im2col64 =
    (g: Geometry) =>
    (x: Ref): Ref => {
      const K = g.kh * g.kw * g.c
      const data = new Float64Array(g.n * g.oh * g.ow * K)
      for (const { p, k, i } of taps64(g))
        for (let ch = 0; ch < g.c; ch++) data[p * K + k * g.c + ch] = x.data[i * g.c + ch]!
      return { shape: colsShape(g), data }
    }
  const col2im64 =
    (g: Geometry) =>
    (cols: Ref): Ref => {
      const K = g.kh * g.kw * g.c
      const data = new Float64Array(g.n * g.h * g.w * g.c)
      for (const { p, k, i } of taps64(g))
        for (let ch = 0; ch < g.c; ch++) data[i * g.c + ch]! += cols.data[p * K + k * g.c + ch]!
      return { shape: imgShape(g), data }
    }
  const count64 = (g: Geometry): number[] => {
    const counts = new Array<number>(g.n * g.oh * g.ow).fill(0)
    for (const { p } of taps64(g)) counts[p]!++
    return counts
  }
  const avgPool64 =
    (g: Geometry) =>
    (x: Ref): Ref => {
      const counts = count64(g)
      const data = new Float64Array(g.n * g.oh * g.ow * g.c)
      for (const { p, i } of taps64(g))
        for (let ch = 0; ch < g.c; ch++) data[p * g.c + ch]! += x.data[i * g.c + ch]! / counts[p]!
      return { shape: outShape64(g), data }
    }
  const avgPoolTranspose64 =
    (g: Geometry) =>
    (y: Ref): Ref => {
      const counts = count64(g)
      const data = new Float64Array(g.n * g.h * g.w * g.c)
      for (const { p, i } of taps64(g))
        for (let ch = 0; ch < g.c; ch++) data[i * g.c + ch]! += y.data[p * g.c + ch]! / counts[p]!
      return { shape: imgShape(g), data }
    }
  const gather64 =
    (at: Int32Array, shape: number[]) =>
    (x: Ref): Ref => ({ shape, data: Float64Array.from(at, (a) => x.data[a]!) })
  const scatter64 =
    (at: Int32Array, shape: number[]) =>
    (y: Ref): Ref => {
      const data = new Float64Array(shape.reduce((p, d) => p * d, 1))
      at.forEach((a, j) => {
        data[a]! += y.data[j]!
      })
      return { shape, data }
    }

  it('col2im is the adjoint of im2col, and both VJPs check out', () =>
    fc.assert(
      fc.property(
        geomArb.chain((g) => fc.tuple(fc.constant(g), refArb(imgShape(g)), refArb(colsShape(g)))),
        cotangentArb,
        ([g, x, c], w) => {
          // <im2col(x), c> = <x, col2im(c)> in float64 from the float32 results (exact: 0/1 matrices)
          const px = patches(t(x), g).data
          const uc = unpatch(t(c), g).data
          let lhs = 0
          let rhs = 0
          for (let i = 0; i < px.length; i++) lhs += px[i]! * c.data[i]!
          for (let i = 0; i < uc.length; i++) rhs += x.data[i]! * uc[i]!
          expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-3 * (1 + Math.abs(lhs)))
          checkGrad({
            name: 'im2col',
            op: (v) => patches(v!, g),
            ref: im2col64(g),
            inputs: [x],
            w,
          })
          checkGrad({
            name: 'col2im',
            op: (v) => unpatch(v!, g),
            ref: col2im64(g),
            inputs: [c],
            w,
          })
        },
      ),
      runs(904, 15),
    ))

  it('average pooling and its transpose, max pooling gather and scatter', () =>
    fc.assert(
      fc.property(
        poolCaseArb.chain((c) => {
          const [n, h, w, ch] = c.x.shape as [number, number, number, number]
          const ay = axis64(h, c.size[0], c.strides[0], 1, c.padding)
          const ax = axis64(w, c.size[1], c.strides[1], 1, c.padding)
          const g: Geometry = {
            n,
            h,
            w,
            c: ch,
            kh: c.size[0],
            kw: c.size[1],
            sh: c.strides[0],
            sw: c.strides[1],
            dh: 1,
            dw: 1,
            pt: ay.before,
            pl: ax.before,
            oh: ay.out,
            ow: ax.out,
          }
          return fc.tuple(fc.constant(g), fc.constant(c.x), refArb([n, ay.out, ax.out, ch]))
        }),
        cotangentArb,
        ([g, x, y], w) => {
          const counts = windowCounts(g)
          const outShape = [g.n, g.oh, g.ow, g.c]
          checkGrad({
            name: 'avgPool',
            op: (v) => avgPoolOp(v!, g, counts),
            ref: avgPool64(g),
            inputs: [x],
            w,
          })
          checkGrad({
            name: 'avgPoolTranspose',
            op: (v) => avgPoolTransposeOp(v!, g, counts),
            ref: avgPoolTranspose64(g),
            inputs: [y],
            w,
          })
          // winners: the first valid tap of each window (any fixed index map will do)
          const at = Int32Array.from(
            { length: g.n * g.oh * g.ow * g.c },
            (_, j) => j % (g.n * g.h * g.w * g.c),
          )
          checkGrad({
            name: 'gather',
            op: (v) => gatherAt(v!, at, outShape, imgShape(g)),
            ref: gather64(at, outShape),
            inputs: [x],
            w,
          })
          checkGrad({
            name: 'scatter',
            op: (v) => scatterAt(v!, at, imgShape(g), outShape),
            ref: scatter64(at, imgShape(g)),
            inputs: [y],
            w,
          })
        },
      ),
      runs(905, 15),
    ))
})

describe('second derivatives (nested grad) against float64 differences of differences', () => {
  // H·v = ∇ₓ⟨∇L(x), v⟩ with L = Σ w·op(x), as test/second-order.test.ts: `checkGrads` of
  // @purenn/testing with `order: 2` and the direction v (first derivatives too), against the
  // float64 mixed differences of the references above (ε = h = 1e-4). Tolerance
  // 2e-3·(1 + |numeric|) (see that file). conv2d is bilinear, so H has the mixed x/kernel
  // blocks; the pooling ops are linear (or piecewise), so they are squared to give a non-zero
  // Hessian that runs through their VJPs' own VJPs. Without `skip` (the smooth ops) no element
  // may be reported near a kink; with it, the skipped elements are left out at both orders.
  const hv = (
    name: string,
    op: (...xs: Tensor[]) => Tensor,
    ref: (...xs: Ref[]) => Ref,
    inputs: Ref[],
    w: readonly number[],
    v: readonly number[],
    skip?: readonly boolean[],
  ) => {
    try {
      const r = checkGrads(op, inputs.map(t), {
        order: 2,
        direction: v,
        cotangent: w,
        reference: (...xs) => ref(...xs.map((d, i) => ({ shape: inputs[i]!.shape, data: d }))).data,
        rtol: 2e-3,
        atol: 2e-3,
        ...(skip === undefined ? {} : { skip: [skip] }),
      })
      if (skip === undefined && r.kinks !== 0)
        throw new Error(`${r.kinks} derivatives were skipped as near a kink`)
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`)
    }
  }
  const sq = (r: Ref): Ref => ({ shape: r.shape, data: r.data.map((u) => u * u) })

  it('conv2d: the x/kernel blocks of the Hessian', () =>
    fc.assert(
      fc.property(convCaseArb, cotangentArb, cotangentArb, (c, w, v) =>
        hv(
          'conv2d',
          (x, k) => conv2d(x!, k!, { strides: c.strides, dilationRate: c.dilation, padding: c.padding }),
          (x, k) => conv64(x!, k!, c),
          [c.x, c.w],
          w,
          v,
        ),
      ),
      runs(906, 15),
    ))
  it('avgPool2d and maxPool2d, squared', () =>
    fc.assert(
      fc.property(poolCaseArb, cotangentArb, cotangentArb, (c, w, v) => {
        const o = { poolSize: c.size, strides: c.strides, padding: c.padding }
        hv(
          'avgPool2d²',
          (x) => square(avgPool2d(x!, o)),
          (x) => sq(pool64(x!, c.size, c.strides, c.padding, 'avg')),
          [c.x],
          w,
          v,
        )
        // elements tied within 1e-2 are skipped (shifts of ε·|v| + h ≤ 4e-4 never swap a winner otherwise)
        const skip = maxTies(c)
        hv(
          'maxPool2d²',
          (x) => square(maxPool2d(x!, o)),
          (x) => sq(pool64(x!, c.size, c.strides, c.padding, 'max')),
          [c.x],
          w,
          v,
          skip,
        )
      }),
      runs(907, 15),
    ))
})

describe('threads', () => {
  const before = getThreads()
  afterAll(() => setThreads(before))
  it('conv2d and its gradients are bitwise the same on 1, 2 and 3 threads', () => {
    // M·K·N = (2·10·10)·(3·3·8)·16 = 230,400 multiply-adds: above the pool threshold
    const x = tensor(
      Float32Array.from({ length: 2 * 12 * 12 * 8 }, (_, i) => Math.sin(i)),
      [2, 12, 12, 8],
    )
    const k = tensor(
      Float32Array.from({ length: 3 * 3 * 8 * 16 }, (_, i) => Math.cos(i)),
      [3, 3, 8, 16],
    )
    const u = tensor(
      Float32Array.from({ length: 2 * 10 * 10 * 16 }, (_, i) => Math.sin(3 * i)),
      [2, 10, 10, 16],
    )
    const run = (threads: number) => {
      setThreads(threads)
      const { value, grad } = valueAndGrad((p: { x: typeof x; k: typeof k }) =>
        sum(mul(conv2d(p.x, p.k), u)),
      )({ x, k })
      return [value.data, grad.x.data, grad.k.data].map((d) => Array.from(d))
    }
    const one = run(1)
    expect(run(2)).toEqual(one)
    expect(run(3)).toEqual(one)
  })
})
