/**
 * Float64 references of the window layers (convolution, pooling, layer normalization): plain
 * loops that never call the code under test, written from the tf.nn / Keras definitions; and
 * `checkLayerGrad`, which hands a layer and such a reference to `checkGrads` of
 * `@purenn/testing`.
 */

import { readFileSync } from 'node:fs'
import { type Tensor, tree } from '@purenn/tensor'
import { checkGrads } from '@purenn/testing'
import type { AnyLayer } from '../../src/index.js'
import { expectClose, t32 } from './fd64.js'

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
 * Checks a layer's forward values against a float64 reference `ref(x, ...paramLeaves)`
 * (leaves in `tree.flatten` order; tolerance 1e-5 relative), then its gradient with respect
 * to its input and every param with `checkGrads` of `@purenn/testing`: the objective
 * `Σ w·y` (`w` cycled over the output), float64 central differences of `ref` (h = 1e-6),
 * tolerance `1e-3·(1 + |numeric|)`. `skipX` marks input elements not compared (near a kink
 * that several elements share, such as a max-pooling tie).
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
  const y = layer.apply(params, {}, x, { training: true }).y
  expectClose(
    `${name} forward`,
    y.data,
    ref(Float64Array.from(x.data), ...leaves.map((l) => Float64Array.from(l.data))),
    1e-5,
  )
  try {
    checkGrads(
      (xt: Tensor, ...ls: Tensor[]) =>
        layer.apply(tree.unflatten(params as never, ls), {}, xt, { training: true }).y,
      [x, ...leaves],
      {
        cotangent: w,
        reference: (x64, ...ps) => ref(x64!, ...ps),
        rtol: 1e-3,
        atol: 1e-3,
        ...(skipX === undefined ? {} : { skip: [skipX] }),
      },
    )
  } catch (e) {
    throw new Error(`${name}: ${(e as Error).message}`)
  }
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
