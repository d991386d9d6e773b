/**
 * Plain loops over float32 buffers. Each kernel allocates its output, fills it and returns
 * it; none writes into an input. No autodiff here: ops wrap these with their VJPs.
 */

import { alloc, allocWritten } from '../tensor.js'
import { broadcastShapes, type Shape, sameShape, sizeOf, stridesOf } from './shape.js'
import {
  ELEMENTWISE_WASM_MIN,
  isWasmBinary,
  isWasmUnary,
  wasmBinaryInto,
  wasmScalarInto,
  wasmSumInto,
  wasmUnaryInto,
} from './wasm/elementwise-run.js'

export type Buffer = Float32Array | { readonly [i: number]: number; readonly length: number }

/**
 * Common unary ops' loops written out, one function each (see {@link rowLoops} for why):
 * each computes exactly its op's `f` (`-v`, `Math.exp(v)`, ...).
 */
const unaryLoops: Readonly<Record<string, (x: Buffer, out: Float32Array, n: number) => void>> = {
  neg: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = -x[i]!
  },
  abs: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]!)
  },
  relu: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = Math.max(x[i]!, 0)
  },
  exp: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]!)
  },
  log: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = Math.log(x[i]!)
  },
  sqrt: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]!)
  },
  tanh: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]!)
  },
}

/**
 * out[i] = f(x[i]). `op`, the op's name, lets a large `neg`, `abs`, `relu` or `sqrt` run on
 * the generated WebAssembly kernels (bitwise the same; `internal/wasm/elementwise.ts`), and
 * the common ones on their own loops ({@link unaryLoops}).
 */
export const map = (x: Buffer, f: (v: number) => number, op?: string): Float32Array => {
  const n = x.length
  const out = allocWritten(n)
  if (op !== undefined && n >= ELEMENTWISE_WASM_MIN && isWasmUnary(op) && wasmUnaryInto(op, x, out))
    return out
  const loop = op === undefined ? undefined : unaryLoops[op]
  if (loop !== undefined) loop(x, out, n)
  else for (let i = 0; i < n; i++) out[i] = f(x[i]!)
  return out
}

/** Strides of `shape` seen from a broadcast output of rank `rank`: 0 on broadcast axes. */
const broadcastStrides = (shape: Shape, outShape: Shape): number[] => {
  const s = stridesOf(shape)
  const off = outShape.length - shape.length
  return outShape.map((d, i) => (i < off || shape[i - off] !== d ? 0 : s[i - off]!))
}

/** `out[i + j] = a[i + j] op b[j]` for rows of `m` (m = n: equal shapes; m = 1: a scalar b). */
type RowLoop = (a: Buffer, b: Buffer, out: Float32Array, n: number, m: number) => void
/** `out[i] = x op b[i]`: a scalar on the left. */
type LeftLoop = (x: number, b: Buffer, out: Float32Array, n: number) => void

/**
 * The four arithmetic ops' loops written out, one function each, for the fast paths of
 * {@link zip}: a loop that calls `f` through a parameter serves every op that reaches it,
 * and once several have, V8 can no longer inline the call (about 11 ns per element against
 * about 1). Each computes exactly `f`'s expression (`x + y`, ...), so the values are the same.
 */
const rowLoops: Readonly<Record<string, RowLoop>> = {
  add: (a, b, out, n, m) => {
    for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[i + j] = a[i + j]! + b[j]!
  },
  sub: (a, b, out, n, m) => {
    for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[i + j] = a[i + j]! - b[j]!
  },
  mul: (a, b, out, n, m) => {
    for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[i + j] = a[i + j]! * b[j]!
  },
  div: (a, b, out, n, m) => {
    for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[i + j] = a[i + j]! / b[j]!
  },
}
const leftLoops: Readonly<Record<string, LeftLoop>> = {
  add: (x, b, out, n) => {
    for (let i = 0; i < n; i++) out[i] = x + b[i]!
  },
  sub: (x, b, out, n) => {
    for (let i = 0; i < n; i++) out[i] = x - b[i]!
  },
  mul: (x, b, out, n) => {
    for (let i = 0; i < n; i++) out[i] = x * b[i]!
  },
  div: (x, b, out, n) => {
    for (let i = 0; i < n; i++) out[i] = x / b[i]!
  },
}

/**
 * out = f(a, b) with NumPy broadcasting. Fast paths: equal shapes, a scalar side, and `b`
 * whose shape is a suffix of `a`'s (a bias row), on the loops above for `add`, `sub`, `mul`
 * and `div`; otherwise an odometer over the output.
 */
export const zip = (
  op: string,
  a: Buffer,
  aShape: Shape,
  b: Buffer,
  bShape: Shape,
  f: (x: number, y: number) => number,
): { shape: number[]; data: Float32Array } => {
  // add, sub, mul and div run on the generated WebAssembly kernels when large (bitwise the same)
  const wasmOp = isWasmBinary(op) && Math.max(a.length, b.length) >= ELEMENTWISE_WASM_MIN ? op : undefined
  const rows = rowLoops[op]
  if (sameShape(aShape, bShape)) {
    const n = a.length
    const out = allocWritten(n)
    if (wasmOp !== undefined && wasmBinaryInto(wasmOp, a, b, out, 1, n))
      return { shape: [...aShape], data: out }
    if (rows !== undefined) rows(a, b, out, n, n)
    else for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!)
    return { shape: [...aShape], data: out }
  }
  const shape = broadcastShapes(op, aShape, bShape)
  const n = sizeOf(shape)
  const out = alloc(n)
  if (b.length === 1 && a.length === n) {
    const y = b[0]!
    if (wasmOp !== undefined && wasmScalarInto(wasmOp, a, y, out, false)) return { shape, data: out }
    if (rows !== undefined) rows(a, b, out, n, 1)
    else for (let i = 0; i < n; i++) out[i] = f(a[i]!, y)
    return { shape, data: out }
  }
  if (a.length === 1 && b.length === n) {
    const x = a[0]!
    if (wasmOp !== undefined && wasmScalarInto(wasmOp, b, x, out, true)) return { shape, data: out }
    const left = leftLoops[op]
    if (left !== undefined) left(x, b, out, n)
    else for (let i = 0; i < n; i++) out[i] = f(x, b[i]!)
    return { shape, data: out }
  }
  if (a.length === n && isSuffix(bShape, shape)) {
    const m = b.length
    if (wasmOp !== undefined && m > 0 && wasmBinaryInto(wasmOp, a, b, out, n / m, m))
      return { shape, data: out }
    if (rows !== undefined && m > 0) rows(a, b, out, n, m)
    else for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[i + j] = f(a[i + j]!, b[j]!)
    return { shape, data: out }
  }
  const sa = broadcastStrides(aShape, shape)
  const sb = broadcastStrides(bShape, shape)
  const rank = shape.length
  const idx = new Array<number>(rank).fill(0)
  let ia = 0
  let ib = 0
  for (let i = 0; i < n; i++) {
    out[i] = f(a[ia]!, b[ib]!)
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++
      ia += sa[d]!
      ib += sb[d]!
      if (idx[d]! < shape[d]!) break
      ia -= sa[d]! * shape[d]!
      ib -= sb[d]! * shape[d]!
      idx[d] = 0
    }
  }
  return { shape, data: out }
}

const isSuffix = (s: Shape, of: Shape): boolean => {
  // leading size-1 axes of s do not matter once the sizes match
  const trimmed = s.slice(s.findIndex((d) => d !== 1) === -1 ? s.length : s.findIndex((d) => d !== 1))
  if (trimmed.length > of.length) return false
  const off = of.length - trimmed.length
  return trimmed.every((d, i) => d === of[off + i])
}

/** where(cond, a, b) with broadcasting of all three. */
export const select = (
  cond: Buffer,
  cShape: Shape,
  a: Buffer,
  aShape: Shape,
  b: Buffer,
  bShape: Shape,
): { shape: number[]; data: Float32Array } => {
  const shape = broadcastShapes('where', broadcastShapes('where', cShape, aShape), bShape)
  const n = sizeOf(shape)
  const sc = broadcastStrides(cShape, shape)
  const sa = broadcastStrides(aShape, shape)
  const sb = broadcastStrides(bShape, shape)
  const out = alloc(n)
  const rank = shape.length
  const idx = new Array<number>(rank).fill(0)
  let ic = 0
  let ia = 0
  let ib = 0
  for (let i = 0; i < n; i++) {
    out[i] = cond[ic]! !== 0 ? a[ia]! : b[ib]!
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++
      ic += sc[d]!
      ia += sa[d]!
      ib += sb[d]!
      if (idx[d]! < shape[d]!) break
      ic -= sc[d]! * shape[d]!
      ia -= sa[d]! * shape[d]!
      ib -= sb[d]! * shape[d]!
      idx[d] = 0
    }
  }
  return { shape, data: out }
}

/**
 * Reduction over sorted `axes`, seen as (outer, reduced, inner) blocks after merging: the
 * input is visited in row-major order and each element goes to the output offset whose
 * reduced axes have stride 0. Sums accumulate in float64.
 */
export const reduce = (
  x: Buffer,
  shape: Shape,
  axes: readonly number[],
  kind: 'sum' | 'max' | 'min',
): { shape: number[]; data: Float32Array } => {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d))
  const n = sizeOf(outShape)
  const total = x.length
  // a sum over one run of adjacent axes, [outer, red, inner], on the WebAssembly kernels when large
  if (
    kind === 'sum' &&
    total >= ELEMENTWISE_WASM_MIN &&
    axes.length > 0 &&
    axes.at(-1)! - axes[0]! + 1 === axes.length
  ) {
    const out = alloc(n)
    const outer = sizeOf(shape.slice(0, axes[0]))
    const inner = sizeOf(shape.slice(axes.at(-1)! + 1))
    if (wasmSumInto(x, out, outer, x.length / (outer * inner || 1), inner))
      return { shape: outShape, data: out }
  }
  const acc = new Float64Array(n).fill(kind === 'sum' ? 0 : kind === 'max' ? -Infinity : Infinity)
  if (axes.length === shape.length || n === 1) {
    let s = acc[0]!
    if (kind === 'sum') for (let i = 0; i < total; i++) s += x[i]!
    else if (kind === 'max') for (let i = 0; i < total; i++) s = x[i]! > s || Number.isNaN(x[i]!) ? x[i]! : s
    else for (let i = 0; i < total; i++) s = x[i]! < s || Number.isNaN(x[i]!) ? x[i]! : s
    acc[0] = total === 0 && kind !== 'sum' ? Number.NaN : s
  } else {
    const os = broadcastStrides(outShape, shape)
    const rank = shape.length
    const idx = new Array<number>(rank).fill(0)
    let o = 0
    for (let i = 0; i < total; i++) {
      const v = x[i]!
      if (kind === 'sum') acc[o] = acc[o]! + v
      else if (kind === 'max') acc[o] = v > acc[o]! || Number.isNaN(v) ? v : acc[o]!
      else acc[o] = v < acc[o]! || Number.isNaN(v) ? v : acc[o]!
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]!++
        o += os[d]!
        if (idx[d]! < shape[d]!) break
        o -= os[d]! * shape[d]!
        idx[d] = 0
      }
    }
  }
  const out = alloc(n)
  out.set(acc)
  return { shape: outShape, data: out }
}

/**
 * Sums a broadcast gradient back down to `target` (the one place where unbroadcasting
 * happens): leading extra axes and axes where `target` has size 1 are summed out.
 */
export const sumTo = (g: Buffer, gShape: Shape, target: Shape): Float32Array => {
  const off = gShape.length - target.length
  const axes: number[] = []
  for (let i = 0; i < gShape.length; i++)
    if (i < off || (target[i - off] === 1 && gShape[i] !== 1)) axes.push(i)
  if (axes.length === 0) return g instanceof Float32Array ? g : Float32Array.from(g as ArrayLike<number>)
  return reduce(g, gShape, axes, 'sum').data
}

/** Index of the largest element along `axis` (first one on ties). */
export const argmax = (x: Buffer, shape: Shape, axis: number): { shape: number[]; data: Float32Array } => {
  const outer = sizeOf(shape.slice(0, axis))
  const len = shape[axis]!
  const inner = sizeOf(shape.slice(axis + 1))
  const out = alloc(outer * inner)
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < inner; j++) {
      let best = -Infinity
      let arg = 0
      for (let k = 0; k < len; k++) {
        const v = x[(o * len + k) * inner + j]!
        if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
          best = v
          arg = k
        }
      }
      out[o * inner + j] = arg
    }
  return { shape: shape.filter((_, i) => i !== axis), data: out }
}

/**
 * The elements of `x` read with `strides` (one per axis of `shape`, 0 on a broadcast axis)
 * while walking `shape` in row-major order: a strided view of `x`, made contiguous.
 */
const gatherStrided = (x: Buffer, shape: Shape, strides: readonly number[]): Float32Array => {
  const n = sizeOf(shape)
  const out = alloc(n)
  const rank = shape.length
  const idx = new Array<number>(rank).fill(0)
  let ix = 0
  for (let i = 0; i < n; i++) {
    out[i] = x[ix]!
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++
      ix += strides[d]!
      if (idx[d]! < shape[d]!) break
      ix -= strides[d]! * shape[d]!
      idx[d] = 0
    }
  }
  return out
}

/** out = x permuted by `perm` (out axis i is input axis perm[i]). */
export const transpose = (
  x: Buffer,
  shape: Shape,
  perm: readonly number[],
): { shape: number[]; data: Float32Array } => {
  const outShape = perm.map((p) => shape[p]!)
  const inStrides = stridesOf(shape)
  const st = perm.map((p) => inStrides[p]!)
  if (outShape.length === 2) {
    const out = alloc(x.length)
    const [r, c] = outShape as [number, number]
    const [s0, s1] = st as [number, number]
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j] = x[i * s0 + j * s1]!
    return { shape: outShape, data: out }
  }
  return { shape: outShape, data: gatherStrided(x, outShape, st) }
}

/**
 * x repeated along broadcast axes to fill `shape` (already checked compatible). Fast paths
 * (copies, so the same values): a single value (the cotangent of a sum or a mean), and `x`
 * whose shape is a suffix of `shape` (a bias row), which repeats whole.
 */
export const expand = (x: Buffer, xShape: Shape, shape: Shape): Float32Array => {
  const m = x.length
  if (m === 1) return alloc(sizeOf(shape)).fill(x[0]!)
  if (m > 0 && x instanceof Float32Array && isSuffix(xShape, shape)) {
    const out = alloc(sizeOf(shape))
    for (let i = 0; i < out.length; i += m) out.set(x, i)
    return out
  }
  return gatherStrided(x, shape, broadcastStrides(xShape, shape))
}
