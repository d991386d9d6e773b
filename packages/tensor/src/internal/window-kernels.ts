/**
 * The window kernels of conv2d and pooling (im2col, col2im, max pooling's winners, average
 * pooling and its transpose) as range loops the worker pool runs in chunks
 * (docs/contributing/design.md, "Parallelism"). Each loop is self-contained (the pool ships
 * its source text): it takes the buffers, the geometry as numbers and a range of units.
 *
 * Determinism: the unit of a chunk is an output row `(b, oy)` for the ops whose outputs each
 * read their own window (im2col, max and average pooling), and a whole image `b` for the
 * ops that add several windows into one element (col2im, the transpose of average pooling),
 * so every element is computed by one chunk, in the same order as the one-thread loop. The
 * number of units per chunk depends on the sizes only; results are bitwise the same on any
 * thread count.
 */

import { isSharedBuffer, platform } from './platform.js'
import { type PoolArg, type PoolKernel, poolThreads, runChunks, sharedScratch } from './pool.js'

/** The geometry of a window op, as the numbers the kernels take (see `Geometry` in window.ts). */
export type GeometryArgs = readonly [
  n: number,
  h: number,
  w: number,
  c: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
  dh: number,
  dw: number,
  pt: number,
  pl: number,
  oh: number,
  ow: number,
]

/** What a window range loop takes: source, destination, an auxiliary buffer, the geometry, the range. */
type RangeArgs = readonly [Float32Array, Float32Array | Int32Array, Float32Array, ...GeometryArgs]

// ---------------------------------------------------------------------------------------
// Range loops (self-contained: the pool ships their text)

/** im2col rows `(b, oy)` in [r0, r1): row `(b, oy, ox)`, column `(ky, kx, ch)`; padding taps stay 0. */
export function im2colRange(a: RangeArgs, r0: number, r1: number): void {
  const [x, out, , , h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow] = a
  const K = kh * kw * c
  for (let r = r0; r < r1; r++) {
    const b = Math.floor(r / oh)
    const oy = r - b * oh
    let o = r * ow * K
    for (let ox = 0; ox < ow; ox++)
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
}

/** col2im over images [b0, b1): each patch entry added back to its input position. */
export function col2imRange(a: RangeArgs, b0: number, b1: number): void {
  const [cols, out, , , h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow] = a
  const K = kh * kw * c
  for (let b = b0; b < b1; b++) {
    let o = b * oh * ow * K
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
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
}

/**
 * Max pooling's winners for rows `(b, oy)` in [r0, r1): the flat input index of each
 * window's first maximum (a NaN wins and propagates). Dilation is 1.
 */
export function maxPoolArgRange(a: RangeArgs, r0: number, r1: number): void {
  const [x, at, , , h, w, c, kh, kw, sh, sw, , , pt, pl, oh, ow] = a
  for (let r = r0; r < r1; r++) {
    const b = Math.floor(r / oh)
    const oy = r - b * oh
    for (let ox = 0; ox < ow; ox++) {
      const o = (r * ow + ox) * c
      for (let ch = 0; ch < c; ch++) {
        let best = Number.NEGATIVE_INFINITY
        let win = -1
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky - pt
          if (iy < 0 || iy >= h) continue
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx - pl
            if (ix < 0 || ix >= w) continue
            const i = ((b * h + iy) * w + ix) * c + ch
            const v = x[i]!
            if (win === -1 || v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
              best = v
              win = i
            }
          }
        }
        at[o + ch] = win
      }
    }
  }
}

/** Average pooling for rows `(b, oy)` in [r0, r1): the sum of the valid taps times 1/count. */
export function avgPoolRange(a: RangeArgs, r0: number, r1: number): void {
  const [x, out, counts, , h, w, c, kh, kw, sh, sw, , , pt, pl, oh, ow] = a
  for (let r = r0; r < r1; r++) {
    const b = Math.floor(r / oh)
    const oy = r - b * oh
    for (let ox = 0; ox < ow; ox++) {
      const o = (r * ow + ox) * c
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh + ky - pt
        if (iy < 0 || iy >= h) continue
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw + kx - pl
          if (ix < 0 || ix >= w) continue
          const i = ((b * h + iy) * w + ix) * c
          for (let ch = 0; ch < c; ch++) out[o + ch] = out[o + ch]! + x[i + ch]!
        }
      }
      const inv = 1 / counts[r * ow + ox]!
      for (let ch = 0; ch < c; ch++) out[o + ch] = out[o + ch]! * inv
    }
  }
}

/** The transpose of average pooling over images [b0, b1): each cotangent shared among its taps. */
export function avgPoolTransposeRange(a: RangeArgs, b0: number, b1: number): void {
  const [gy, out, counts, , h, w, c, kh, kw, sh, sw, , , pt, pl, oh, ow] = a
  for (let b = b0; b < b1; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        const p = (b * oh + oy) * ow + ox
        const o = p * c
        const inv = 1 / counts[p]!
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky - pt
          if (iy < 0 || iy >= h) continue
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx - pl
            if (ix < 0 || ix >= w) continue
            const i = ((b * h + iy) * w + ix) * c
            for (let ch = 0; ch < c; ch++) out[i + ch] = out[i + ch]! + gy[o + ch]! * inv
          }
        }
      }
}

// ---------------------------------------------------------------------------------------
// Pooled kernels

type Range = (a: RangeArgs, u0: number, u1: number) => void

/** A window kernel the pool can run: the chunk reads `per` and `units` from the end of the arguments. */
const pooled = (name: string, range: Range): PoolKernel<readonly PoolArg[]> => {
  const chunkSource = `(args, k) => {
  const per = args[args.length - 2]
  const units = args[args.length - 1]
  const u0 = k * per
  ${range.name}(args, u0, Math.min(units, u0 + per))
}`
  return {
    name: `window:${name}`,
    parts: [
      [range.name, range],
      ['chunk', chunkSource],
    ],
    entry: (args, k) => {
      const per = args[args.length - 2] as number
      const units = args[args.length - 1] as number
      const u0 = k * per
      range(args as unknown as RangeArgs, u0, Math.min(units, u0 + per))
    },
  }
}

/** The window ops, by name: the range loop and its pooled form. */
export const windowKernels = {
  im2col: { range: im2colRange, pooled: pooled('im2col', im2colRange) },
  col2im: { range: col2imRange, pooled: pooled('col2im', col2imRange) },
  maxPoolArg: { range: maxPoolArgRange, pooled: pooled('maxPoolArg', maxPoolArgRange) },
  avgPool: { range: avgPoolRange, pooled: pooled('avgPool', avgPoolRange) },
  avgPoolTranspose: {
    range: avgPoolTransposeRange,
    pooled: pooled('avgPoolTranspose', avgPoolTransposeRange),
  },
} as const

/** Elements a chunk of a window op writes or reads, about: fixed, so the split depends on the sizes only. */
export const WINDOW_CHUNK = 1 << 15

/** Window ops touching fewer elements than this run inline (below it the pool does not pay). */
export const WINDOW_POOL_MIN = 1 << 16

/**
 * Runs window kernel `op` over `units` units of `work` elements each: inline when small or
 * on one thread, else on the pool in chunks of about {@link WINDOW_CHUNK} elements. `out`
 * must be on shared memory to be pooled; `src` and `aux` are copied to the pool's scratch
 * when they are not.
 */
export const runWindow = (
  op: keyof typeof windowKernels,
  src: Float32Array,
  out: Float32Array | Int32Array,
  aux: Float32Array,
  g: GeometryArgs,
  units: number,
  work: number,
): void => {
  const k = windowKernels[op]
  const per = Math.max(1, Math.floor(WINDOW_CHUNK / Math.max(work, 1)))
  const chunks = Math.ceil(units / per)
  if (
    units * work < WINDOW_POOL_MIN ||
    chunks < 2 ||
    poolThreads() < 2 ||
    !platform.pooled ||
    !isSharedBuffer(out.buffer)
  ) {
    k.range([src, out, aux, ...g], 0, units)
    return
  }
  let s = src
  if (!isSharedBuffer(s.buffer)) {
    s = sharedScratch(0, src.length)
    s.set(src)
  }
  let x = aux
  if (aux.length > 0 && !isSharedBuffer(aux.buffer)) {
    x = sharedScratch(1, aux.length)
    x.set(aux)
  }
  runChunks(`window:${op}`, k.pooled, [s, out, x, ...g, per, units], chunks)
}
