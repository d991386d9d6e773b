/**
 * The window ops behind conv2d and pooling: plain-loop kernels over NHWC buffers and their
 * recorded ops. Each op's VJP is another recorded op (im2col and col2im are each other's
 * adjoints, as are average pooling and its transpose, max pooling's gather and scatter), so
 * the gradients of conv2d and pooling are made of recorded ops and can be differentiated again.
 */

import { alloc, buf, type Tensor } from '../tensor.js'
import { record } from './tape.js'

/** The geometry of one window op over a `[n, h, w, c]` input. */
export interface Geometry {
  readonly n: number
  readonly h: number
  readonly w: number
  readonly c: number
  readonly kh: number
  readonly kw: number
  readonly sh: number
  readonly sw: number
  readonly dh: number
  readonly dw: number
  /** Padding before (top, left). */
  readonly pt: number
  readonly pl: number
  readonly oh: number
  readonly ow: number
}

// ---------------------------------------------------------------------------------------
// Kernels (plain loops over row-major buffers)

/** Patches: row `(b, oy, ox)`, column `(ky, kx, ch)`; taps in the padding are 0. */
export const im2colKernel = (x: Float32Array, g: Geometry): Float32Array => {
  const { n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = g
  const K = kh * kw * c
  const out = alloc(n * oh * ow * K)
  let o = 0
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky * dh - pt
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx * dw - pl
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
              const src = ((b * h + iy) * w + ix) * c
              for (let ch = 0; ch < c; ch++) out[o + ch] = x[src + ch]!
            }
            o += c
          }
        }
      }
  return out
}

/** The adjoint of {@link im2colKernel}: each patch entry added back to its input position. */
export const col2imKernel = (cols: Float32Array, g: Geometry): Float32Array => {
  const { n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = g
  const out = alloc(n * h * w * c)
  let o = 0
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky * dh - pt
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx * dw - pl
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
              const dst = ((b * h + iy) * w + ix) * c
              for (let ch = 0; ch < c; ch++) out[dst + ch] = out[dst + ch]! + cols[o + ch]!
            }
            o += c
          }
        }
      }
  return out
}

/** Calls `f(outIndexBase, inIndexBase)` for every valid tap of every output window. */
export const forEachTap = (g: Geometry, f: (o: number, i: number, window: number) => void): void => {
  const { n, h, w, c, kh, kw, sh, sw, pt, pl, oh, ow } = g
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        const o = ((b * oh + oy) * ow + ox) * c
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky - pt
          if (iy < 0 || iy >= h) continue
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx - pl
            if (ix < 0 || ix >= w) continue
            f(o, ((b * h + iy) * w + ix) * c, ky * kw + kx)
          }
        }
      }
}

/** Number of valid (non-padding) taps of each output window, per output pixel. */
export const windowCounts = (g: Geometry): Float32Array => {
  const counts = new Float32Array(g.n * g.oh * g.ow)
  forEachTap(g, (o) => {
    const p = o / g.c
    counts[p] = counts[p]! + 1
  })
  return counts
}

// ---------------------------------------------------------------------------------------
// Recorded ops: each one's VJP is another recorded op, so gradients differentiate again

export const patches = (x: Tensor, g: Geometry): Tensor =>
  record(
    'im2col',
    [g.n * g.oh * g.ow, g.kh * g.kw * g.c],
    im2colKernel(buf(x), g),
    [x],
    [(gc) => unpatch(gc, g)],
  )

export const unpatch = (cols: Tensor, g: Geometry): Tensor =>
  record('col2im', [g.n, g.h, g.w, g.c], col2imKernel(buf(cols), g), [cols], [(gx) => patches(gx, g)])

/** Average pooling: the mean of each window's valid taps. */
export const avgPoolOp = (x: Tensor, g: Geometry, counts: Float32Array): Tensor => {
  const { c } = g
  const xs = buf(x)
  const out = alloc(g.n * g.oh * g.ow * c)
  forEachTap(g, (o, i) => {
    for (let ch = 0; ch < c; ch++) out[o + ch] = out[o + ch]! + xs[i + ch]!
  })
  for (let p = 0; p < counts.length; p++) {
    const inv = 1 / counts[p]!
    for (let ch = 0; ch < c; ch++) out[p * c + ch] = out[p * c + ch]! * inv
  }
  return record('avgPool2d', [g.n, g.oh, g.ow, c], out, [x], [(gy) => avgPoolTransposeOp(gy, g, counts)])
}

/** The transpose of average pooling: each output's cotangent shared among its taps. */
export const avgPoolTransposeOp = (gy: Tensor, g: Geometry, counts: Float32Array): Tensor => {
  const { c } = g
  const gs = buf(gy)
  const out = alloc(g.n * g.h * g.w * c)
  forEachTap(g, (o, i) => {
    const inv = 1 / counts[o / c]!
    for (let ch = 0; ch < c; ch++) out[i + ch] = out[i + ch]! + gs[o + ch]! * inv
  })
  return record('avgPool2dTranspose', [g.n, g.h, g.w, c], out, [gy], [(gx) => avgPoolOp(gx, g, counts)])
}

/** Gathers `x[at[j]]` into an output of `shape`: max pooling's forward, given the winners. */
export const gatherAt = (
  x: Tensor,
  at: Int32Array,
  shape: readonly number[],
  xShape: readonly number[],
): Tensor => {
  const xs = buf(x)
  const out = alloc(at.length)
  for (let j = 0; j < at.length; j++) out[j] = xs[at[j]!]!
  return record('maxPool2dGather', shape, out, [x], [(gy) => scatterAt(gy, at, xShape, shape)])
}

/** Adds `g[j]` at `at[j]` of a zero tensor of `xShape`: the adjoint of {@link gatherAt}. */
export const scatterAt = (
  gy: Tensor,
  at: Int32Array,
  xShape: readonly number[],
  shape: readonly number[],
): Tensor => {
  const gs = buf(gy)
  const out = alloc(xShape.reduce((p, d) => p * d, 1))
  for (let j = 0; j < at.length; j++) out[at[j]!] = out[at[j]!]! + gs[j]!
  return record('maxPool2dScatter', xShape, out, [gy], [(gx) => gatherAt(gx, at, shape, xShape)])
}
