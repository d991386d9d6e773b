/**
 * The window ops behind conv2d and pooling: plain-loop kernels over NHWC buffers and their
 * recorded ops. Each op's VJP is another recorded op (im2col and col2im are each other's
 * adjoints, as are average pooling and its transpose, max pooling's gather and scatter), so
 * the gradients of conv2d and pooling are made of recorded ops and can be differentiated again.
 */

import { alloc, buf, type Tensor } from '../tensor.js'
import { platform } from './platform.js'
import { record } from './tape.js'
import { type GeometryArgs, runWindow } from './window-kernels.js'

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

/** The geometry as the numbers the window kernels take. */
export const geometryArgs = (g: Geometry): GeometryArgs => [
  g.n,
  g.h,
  g.w,
  g.c,
  g.kh,
  g.kw,
  g.sh,
  g.sw,
  g.dh,
  g.dw,
  g.pt,
  g.pl,
  g.oh,
  g.ow,
]

const none = new Float32Array(0)

/** Patches: row `(b, oy, ox)`, column `(ky, kx, ch)`; taps in the padding are 0. Pooled by output rows. */
export const im2colKernel = (x: Float32Array, g: Geometry): Float32Array => {
  const out = alloc(g.n * g.oh * g.ow * g.kh * g.kw * g.c)
  runWindow('im2col', x, out, none, geometryArgs(g), g.n * g.oh, g.ow * g.kh * g.kw * g.c)
  return out
}

/** The adjoint of {@link im2colKernel}: each patch entry added back to its input position. Pooled by images. */
export const col2imKernel = (cols: Float32Array, g: Geometry): Float32Array => {
  const out = alloc(g.n * g.h * g.w * g.c)
  runWindow('col2im', cols, out, none, geometryArgs(g), g.n, g.oh * g.ow * g.kh * g.kw * g.c)
  return out
}

/**
 * Max pooling's winners: the flat input index of each window's first maximum (a NaN wins).
 * Pooled by output rows.
 */
export const maxPoolWinners = (x: Float32Array, g: Geometry): Int32Array => {
  const n = g.n * g.oh * g.ow * g.c
  const at =
    platform.pooled && n >= 1 << 14 ? new Int32Array(new SharedArrayBuffer(4 * n)) : new Int32Array(n)
  runWindow('maxPoolArg', x, at, none, geometryArgs(g), g.n * g.oh, g.ow * g.kh * g.kw * g.c)
  return at
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

/** Average pooling: the mean of each window's valid taps. Pooled by output rows. */
export const avgPoolOp = (x: Tensor, g: Geometry, counts: Float32Array): Tensor => {
  const out = alloc(g.n * g.oh * g.ow * g.c)
  runWindow('avgPool', buf(x), out, counts, geometryArgs(g), g.n * g.oh, g.ow * g.kh * g.kw * g.c)
  return record('avgPool2d', [g.n, g.oh, g.ow, g.c], out, [x], [(gy) => avgPoolTransposeOp(gy, g, counts)])
}

/** The transpose of average pooling: each output's cotangent shared among its taps. Pooled by images. */
export const avgPoolTransposeOp = (gy: Tensor, g: Geometry, counts: Float32Array): Tensor => {
  const out = alloc(g.n * g.h * g.w * g.c)
  runWindow('avgPoolTranspose', buf(gy), out, counts, geometryArgs(g), g.n, g.oh * g.ow * g.kh * g.kw * g.c)
  return record('avgPool2dTranspose', [g.n, g.h, g.w, g.c], out, [gy], [(gx) => avgPoolOp(gx, g, counts)])
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
