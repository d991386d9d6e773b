/**
 * Float64 references of the window layers (convolution, pooling, layer normalization) and a
 * layer gradient check against central differences: plain loops that never call the code
 * under test, written from the tf.nn / Keras definitions.
 */

import { readFileSync } from 'node:fs'
import { mul, sum, type Tensor, tree, valueAndGrad } from '@purenn/tensor'
import fc from 'fast-check'
import type { AnyLayer } from '../../src/index.js'
import { expectClose, t32 } from './fd64.js'

/**
 * Float32-exact values in [−3, 3]: a grid of step 2⁻¹², so that a float32 tensor and its
 * float64 reference hold the very same numbers.
 */
export const gridValue = fc.integer({ min: -3 * 4096, max: 3 * 4096 }).map((i) => i / 4096)

/** `n` grid values. */
export const valuesArb = (n: number): fc.Arbitrary<number[]> =>
  fc.array(gridValue, { minLength: n, maxLength: n })

/** Step of the central differences. */
export const H = 1e-6

/** Central differences of a float64 function of several arrays, for every element of array `which`. */
export const numericGrad = (
  f: (xs: readonly Float64Array[]) => number,
  xs: readonly Float64Array[],
  which: number,
) => {
  const x = xs[which]!
  const out = new Float64Array(x.length)
  for (let j = 0; j < x.length; j++) {
    const at = (d: number) => xs.map((a, i) => (i === which ? a.map((v, k) => (k === j ? v + d : v)) : a))
    out[j] = (f(at(H)) - f(at(-H))) / (2 * H)
  }
  return out
}

/** `Σ w·y` with `w` cycled over `y`: the objective whose gradient is the VJP of `w`. */
export const dot64 = (y: ArrayLike<number>, w: readonly number[]): number => {
  let s = 0
  for (let i = 0; i < y.length; i++) s += y[i]! * w[i % w.length]!
  return s
}

export type Padding = 'valid' | 'same'

/** TF's padding before the data along one axis, and the output length. */
export const axis64 = (n: number, k: number, s: number, d: number, padding: Padding) => {
  const eff = (k - 1) * d + 1
  if (padding === 'valid') return { out: Math.floor((n - eff) / s) + 1, before: 0 }
  const out = Math.ceil(n / s)
  return { out, before: Math.floor(Math.max((out - 1) * s + eff - n, 0) / 2) }
}

/** conv2d of NHWC `x` by HWIO `w` in float64, taps outside the input counting 0. */
export const conv64 = (
  x: Float64Array,
  xShape: readonly number[],
  w: Float64Array,
  wShape: readonly number[],
  s: readonly [number, number],
  d: readonly [number, number],
  padding: Padding,
): { y: Float64Array; shape: number[] } => {
  const [n, h, wd, ch] = xShape as [number, number, number, number]
  const [kh, kw, , f] = wShape as [number, number, number, number]
  const ay = axis64(h, kh, s[0], d[0], padding)
  const ax = axis64(wd, kw, s[1], d[1], padding)
  const y = new Float64Array(n * ay.out * ax.out * f)
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ay.out; i++)
      for (let j = 0; j < ax.out; j++)
        for (let o = 0; o < f; o++) {
          let acc = 0
          for (let u = 0; u < kh; u++)
            for (let v = 0; v < kw; v++) {
              const yy = i * s[0] + u * d[0] - ay.before
              const xx = j * s[1] + v * d[1] - ax.before
              if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue
              for (let q = 0; q < ch; q++)
                acc += x[((b * h + yy) * wd + xx) * ch + q]! * w[((u * kw + v) * ch + q) * f + o]!
            }
          y[((b * ay.out + i) * ax.out + j) * f + o] = acc
        }
  return { y, shape: [n, ay.out, ax.out, f] }
}

/** Max or mean over the valid taps of each window, in float64. */
export const pool64 = (
  x: Float64Array,
  xShape: readonly number[],
  size: readonly [number, number],
  strides: readonly [number, number],
  padding: Padding,
  kind: 'max' | 'avg',
): { y: Float64Array; shape: number[] } => {
  const [n, h, wd, ch] = xShape as [number, number, number, number]
  const ay = axis64(h, size[0], strides[0], 1, padding)
  const ax = axis64(wd, size[1], strides[1], 1, padding)
  const y = new Float64Array(n * ay.out * ax.out * ch)
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ay.out; i++)
      for (let j = 0; j < ax.out; j++)
        for (let q = 0; q < ch; q++) {
          const vs: number[] = []
          for (let u = 0; u < size[0]; u++)
            for (let v = 0; v < size[1]; v++) {
              const yy = i * strides[0] + u - ay.before
              const xx = j * strides[1] + v - ax.before
              if (yy >= 0 && yy < h && xx >= 0 && xx < wd) vs.push(x[((b * h + yy) * wd + xx) * ch + q]!)
            }
          y[((b * ay.out + i) * ax.out + j) * ch + q] =
            kind === 'max' ? Math.max(...vs) : vs.reduce((a, v) => a + v, 0) / vs.length
        }
  return { y, shape: [n, ay.out, ax.out, ch] }
}

/**
 * Checks a layer's gradient with respect to its input and every param against central
 * differences of a float64 reference `ref(x, ...paramLeaves)` (leaves in `tree.flatten`
 * order), for the objective `Σ w·y`. Also checks the forward values (tolerance 1e-5 relative).
 * `skipX` marks input elements not compared (near a kink).
 */
export const checkLayerGrad = (
  name: string,
  layer: AnyLayer,
  params: unknown,
  x: Tensor,
  ref: (x: Float64Array, ...ps: Float64Array[]) => Float64Array,
  w: readonly number[],
  skipX?: readonly boolean[],
): void => {
  const leaves = tree.leaves(params as never)
  const xs = [Float64Array.from(x.data), ...leaves.map((l) => Float64Array.from(l.data))]
  const y = layer.apply(params, {}, x, { training: true }).y
  expectClose(`${name} forward`, y.data, ref(xs[0]!, ...xs.slice(1)), 1e-5)
  const wT = t32(
    Array.from({ length: y.size }, (_, i) => w[i % w.length]!),
    y.shape,
  )
  const g = valueAndGrad((p: { x: Tensor; params: never }) =>
    sum(mul(layer.apply(p.params, {}, p.x, { training: true }).y, wT)),
  )({ x, params: params as never }).grad
  const analytic = [g.x, ...tree.leaves(g.params)]
  const f = (as: readonly Float64Array[]) => dot64(ref(as[0]!, ...as.slice(1)), w)
  analytic.forEach((a, i) => {
    const num = numericGrad(f, xs, i)
    const got = Float64Array.from(a.data)
    if (i === 0 && skipX !== undefined)
      skipX.forEach((s, j) => {
        if (s) got[j] = num[j]!
      })
    expectClose(`${name} gradient of ${i === 0 ? 'the input' : `param leaf ${i - 1}`}`, got, num)
  })
}

/** The Keras fixture (scripts/fixtures/conv_layers.py). */
export interface KerasCase {
  readonly x: unknown
  readonly xShape: number[]
  readonly weights: unknown[]
  readonly weightShapes: number[][]
  readonly y: unknown
  readonly yShape: number[]
  readonly paramCount: number
  readonly u?: unknown
  readonly grads?: unknown[]
}

export const kerasFixture = JSON.parse(
  readFileSync(new URL('../fixtures/conv-layers.json', import.meta.url), 'utf8'),
) as { readonly [name: string]: KerasCase } & {
  readonly summary: {
    rows: { class: string; outputShape: number[]; params: number }[]
    total: number
  }
}

/** A nested array's numbers in row-major order. */
export const flat = (u: unknown): number[] => (Array.isArray(u) ? u.flatMap(flat) : [u as number])

/** The float32 tensor of a nested array of the given shape. */
export const fromNested = (u: unknown, shape: readonly number[]): Tensor => t32(flat(u), shape)
