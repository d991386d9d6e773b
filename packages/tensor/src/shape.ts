import { ShapeError } from './errors.js'
import { expand, transpose as transposeKernel } from './internal/kernels.js'
import { broadcastShapes, fmt, normalizeAxes, normalizeAxis, sameShape, sizeOf } from './internal/shape.js'
import { record } from './internal/tape.js'
import { alloc, buf, fromBuffer, type Tensor } from './tensor.js'

/**
 * Indices where an op expects them: a tensor of integral values, an `Int32Array` or a
 * plain number array.
 * @category Shape
 */
export type Indices = Tensor | Int32Array | Uint8Array | readonly number[]

const indexList = (
  op: string,
  idx: Indices,
  bound: number,
): { values: ArrayLike<number>; shape: readonly number[] } => {
  const values: ArrayLike<number> =
    'data' in idx && !ArrayBuffer.isView(idx) ? (idx as Tensor).data : (idx as ArrayLike<number>)
  const shape = 'shape' in idx && !ArrayBuffer.isView(idx) ? (idx as Tensor).shape : [values.length]
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (!Number.isInteger(v) || v < 0 || v >= bound)
      throw new ShapeError(`${op}: index ${v} at position ${i} is out of range [0, ${bound})`)
  }
  return { values, shape }
}

/** The position of a new axis inserted into `shape` (−rank−1 ≤ axis ≤ rank, negative from the end). */
const newAxis = (op: string, axis: number, shape: readonly number[]): number => {
  const r = shape.length
  if (!Number.isInteger(axis) || axis < -r - 1 || axis > r)
    throw new ShapeError(`${op}: axis ${axis} is out of range [${-r - 1}, ${r}] for shape ${fmt(shape)}`)
  return axis < 0 ? axis + r + 1 : axis
}

/**
 * The same elements with a new shape; one dimension may be −1 and is then inferred.
 *
 * @remarks No data is copied. VJP: the cotangent reshaped back.
 * @example
 * ```ts
 * import { reshape, arange } from '@purenn/tensor'
 * console.log(reshape(arange(6), [2, -1]).shape) // [ 2, 3 ]
 * ```
 * @category Shape
 */
export const reshape = (x: Tensor, shape: readonly number[]): Tensor => {
  const unknown = shape.filter((d) => d === -1).length
  if (unknown > 1)
    throw new ShapeError(`reshape: at most one -1 allowed in ${fmt(shape)} (input ${fmt(x.shape)})`)
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1)
  if (shape.some((d) => d !== -1 && (!Number.isInteger(d) || d < 0)))
    throw new ShapeError(`reshape: invalid shape ${fmt(shape)}: dimensions must be non-negative integers`)
  let target = [...shape]
  if (unknown === 1) {
    if (known === 0 || x.size % known !== 0)
      throw new ShapeError(`reshape: cannot reshape ${fmt(x.shape)} (size ${x.size}) into ${fmt(shape)}`)
    target = shape.map((d) => (d === -1 ? x.size / known : d))
  }
  if (sizeOf(target) !== x.size)
    throw new ShapeError(`reshape: cannot reshape ${fmt(x.shape)} (size ${x.size}) into ${fmt(shape)}`)
  if (sameShape(target, x.shape)) return x
  return record('reshape', target, buf(x), [x], [(g) => reshape(g, x.shape)])
}

/**
 * Repeats `x` along broadcast axes to reach `shape` (NumPy's `broadcast_to`).
 *
 * @remarks VJP: the cotangent summed back to `x`'s shape (done by the tape).
 * @example
 * ```ts
 * import { broadcastTo, tensor } from '@purenn/tensor'
 * console.log(broadcastTo(tensor([1, 2]), [2, 2]).toString()) // tensor([[1, 2], [1, 2]])
 * ```
 * @category Shape
 */
export const broadcastTo = (x: Tensor, shape: readonly number[]): Tensor => {
  const out = broadcastShapes('broadcastTo', x.shape, shape)
  if (!sameShape(out, shape))
    throw new ShapeError(`broadcastTo: cannot broadcast ${fmt(x.shape)} to ${fmt(shape)}`)
  if (sameShape(x.shape, shape)) return x
  return record('broadcastTo', shape, expand(buf(x), x.shape, shape), [x], [(g) => g])
}

/**
 * Permutes the axes: output axis i is input axis `perm[i]` (default: reversed).
 *
 * @remarks VJP: transpose by the inverse permutation.
 * @example
 * ```ts
 * import { transpose, tensor } from '@purenn/tensor'
 * console.log(transpose(tensor([[1, 2, 3]])).shape) // [ 3, 1 ]
 * ```
 * @category Shape
 */
export const transpose = (x: Tensor, perm?: readonly number[]): Tensor => {
  const rank = x.shape.length
  const p = perm ?? x.shape.map((_, i) => rank - 1 - i)
  const sorted = [...p].map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b)
  if (p.length !== rank || sorted.some((a, i) => a !== i))
    throw new ShapeError(`transpose: [${p.join(',')}] is not a permutation of the axes of ${fmt(x.shape)}`)
  const q = p.map((a) => (a < 0 ? a + rank : a))
  const inverse = q.map((_, i) => q.indexOf(i))
  const r = transposeKernel(buf(x), x.shape, q)
  return record('transpose', r.shape, r.data, [x], [(g) => transpose(g, inverse)])
}

/**
 * Inserts a size-1 axis at `axis` (negative counts from the end of the new shape).
 *
 * @example
 * ```ts
 * import { expandDims, tensor } from '@purenn/tensor'
 * console.log(expandDims(tensor([1, 2]), 0).shape, expandDims(tensor([1, 2]), -1).shape) // [ 1, 2 ] [ 2, 1 ]
 * ```
 * @category Shape
 */
export const expandDims = (x: Tensor, axis: number): Tensor => {
  const a = newAxis('expandDims', axis, x.shape)
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)])
}

/**
 * Removes size-1 axes: the listed ones (each must have size 1), or all of them.
 *
 * @example
 * ```ts
 * import { squeeze, zeros } from '@purenn/tensor'
 * console.log(squeeze(zeros([1, 3, 1])).shape) // [ 3 ]
 * ```
 * @category Shape
 */
export const squeeze = (x: Tensor, axes?: number | readonly number[]): Tensor => {
  const ax =
    axes === undefined
      ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : normalizeAxes('squeeze', axes, x.shape)
  for (const a of ax)
    if (x.shape[a] !== 1)
      throw new ShapeError(`squeeze: axis ${a} has size ${x.shape[a]}, not 1, in shape ${fmt(x.shape)}`)
  return reshape(
    x,
    x.shape.filter((_, i) => !ax.includes(i)),
  )
}

/** Copies the box [begin, begin+size) of `src` into `dst` (or the reverse when `into`). */
const copyBox = (
  src: ArrayLike<number>,
  srcShape: readonly number[],
  dst: Float32Array,
  dstShape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  into: boolean,
): void => {
  const rank = size.length
  const big = into ? dstShape : srcShape
  const bigStrides = big.map((_, i) => sizeOf(big.slice(i + 1)))
  const n = sizeOf(size)
  const inner = size[rank - 1] ?? 1
  const idx = new Array<number>(rank).fill(0)
  for (let k = 0; k < n; k += inner) {
    let off = 0
    for (let d = 0; d < rank; d++) off += (begin[d]! + idx[d]!) * bigStrides[d]!
    for (let j = 0; j < inner; j++) {
      if (into) dst[off + j] = src[k + j]!
      else dst[k + j] = src[off + j]!
    }
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++
      if (idx[d]! < size[d]!) break
      idx[d] = 0
    }
  }
}

/**
 * The box starting at `begin` with extent `size` (−1 means "to the end"), as `tf.slice`.
 *
 * @remarks VJP: the cotangent placed back into zeros of the input's shape.
 * @example
 * ```ts
 * import { slice, tensor } from '@purenn/tensor'
 * console.log(slice(tensor([[1, 2, 3], [4, 5, 6]]), [0, 1], [2, -1]).toString()) // tensor([[2, 3], [5, 6]])
 * ```
 * @category Shape
 */
export const slice = (x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor => {
  const rank = x.shape.length
  if (begin.length !== rank || (size !== undefined && size.length !== rank))
    throw new ShapeError(
      `slice: begin [${begin.join(',')}]${size ? ` and size [${size.join(',')}]` : ''} must have one entry per axis of ${fmt(x.shape)}`,
    )
  const sz = x.shape.map((d, i) => (size === undefined || size[i] === -1 ? d - begin[i]! : size[i]!))
  for (let i = 0; i < rank; i++)
    if (
      !Number.isInteger(begin[i]) ||
      !Number.isInteger(sz[i]) ||
      begin[i]! < 0 ||
      sz[i]! < 0 ||
      begin[i]! + sz[i]! > x.shape[i]!
    )
      throw new ShapeError(
        `slice: begin [${begin.join(',')}] size [${sz.join(',')}] is outside ${fmt(x.shape)} on axis ${i}`,
      )
  const out = alloc(sizeOf(sz))
  if (out.length > 0) copyBox(buf(x), x.shape, out, sz, begin, sz, false)
  return record(
    'slice',
    sz,
    out,
    [x],
    [
      (g) => {
        const full = alloc(x.size)
        if (g.size > 0) copyBox(buf(g), g.shape, full, x.shape, begin, sz, true)
        // linear in g: recorded (with slice as its own VJP) for higher-order gradients
        return record('slice.vjp', x.shape, full, [g], [(h) => slice(h, begin, sz)])
      },
    ],
  )
}

/**
 * Gathers slices of `x` along `axis` (default 0) at `indices`: rows by index for a matrix.
 *
 * @remarks Output shape: `x.shape[:axis] + indices.shape + x.shape[axis+1:]`.
 * VJP: the cotangent scatter-added back into zeros (repeated indices accumulate).
 * @example
 * ```ts
 * import { gather, tensor } from '@purenn/tensor'
 * console.log(gather(tensor([[1, 2], [3, 4], [5, 6]]), [2, 0]).toString()) // tensor([[5, 6], [1, 2]])
 * ```
 * @category Shape
 */
export const gather = (x: Tensor, indices: Indices, axis = 0): Tensor => {
  const a = normalizeAxis('gather', axis, x.shape.length, x.shape)
  const { values, shape: iShape } = indexList('gather', indices, x.shape[a]!)
  const outer = sizeOf(x.shape.slice(0, a))
  const len = x.shape[a]!
  const inner = sizeOf(x.shape.slice(a + 1))
  const m = values.length
  const outShape = [...x.shape.slice(0, a), ...iShape, ...x.shape.slice(a + 1)]
  const src = buf(x)
  const out = alloc(outer * m * inner)
  for (let o = 0; o < outer; o++)
    for (let k = 0; k < m; k++) {
      const from = (o * len + values[k]!) * inner
      out.set(src.subarray(from, from + inner), (o * m + k) * inner)
    }
  return record(
    'gather',
    outShape,
    out,
    [x],
    [
      (g) => {
        const acc = alloc(x.size)
        const gd = buf(g)
        for (let o = 0; o < outer; o++)
          for (let k = 0; k < m; k++) {
            const to = (o * len + values[k]!) * inner
            const from = (o * m + k) * inner
            for (let j = 0; j < inner; j++) acc[to + j] = acc[to + j]! + gd[from + j]!
          }
        // linear in g: recorded (with gather as its own VJP) for higher-order gradients
        return record('gather.vjp', x.shape, acc, [g], [(h) => gather(h, indices, axis)])
      },
    ],
  )
}

/**
 * Joins tensors along an existing `axis` (default 0); the other axes must agree.
 *
 * @remarks VJP: each input gets its slice of the cotangent.
 * @example
 * ```ts
 * import { concat, tensor } from '@purenn/tensor'
 * console.log(concat([tensor([[1]]), tensor([[2], [3]])]).shape) // [ 3, 1 ]
 * ```
 * @category Shape
 */
export const concat = (xs: readonly Tensor[], axis = 0): Tensor => {
  if (xs.length === 0) throw new ShapeError('concat: needs at least one tensor')
  const first = xs[0]!
  const a = normalizeAxis('concat', axis, first.shape.length, first.shape)
  for (const x of xs)
    if (x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== a && d !== first.shape[i]))
      throw new ShapeError(`concat: shapes differ off axis ${a}: ${xs.map((t) => fmt(t.shape)).join(', ')}`)
  const total = xs.reduce((s, x) => s + x.shape[a]!, 0)
  const outShape = first.shape.map((d, i) => (i === a ? total : d))
  const outer = sizeOf(first.shape.slice(0, a))
  const inner = sizeOf(first.shape.slice(a + 1))
  const out = alloc(sizeOf(outShape))
  let offset = 0
  const offsets: number[] = []
  for (const x of xs) {
    offsets.push(offset)
    const w = x.shape[a]! * inner
    const src = buf(x)
    for (let o = 0; o < outer; o++)
      out.set(src.subarray(o * w, (o + 1) * w), o * total * inner + offset * inner)
    offset += x.shape[a]!
  }
  return record(
    'concat',
    outShape,
    out,
    xs,
    xs.map(
      (x, i) => (g: Tensor) =>
        slice(
          g,
          g.shape.map((_, d) => (d === a ? offsets[i]! : 0)),
          x.shape.map((d) => d),
        ),
    ),
  )
}

/**
 * Stacks same-shaped tensors along a new `axis` (default 0).
 *
 * @example
 * ```ts
 * import { stack, tensor } from '@purenn/tensor'
 * console.log(stack([tensor([1, 2]), tensor([3, 4])], 1).toString()) // tensor([[1, 3], [2, 4]])
 * ```
 * @category Shape
 */
export const stack = (xs: readonly Tensor[], axis = 0): Tensor => {
  if (xs.length === 0) throw new ShapeError('stack: needs at least one tensor')
  for (const x of xs)
    if (!sameShape(x.shape, xs[0]!.shape))
      throw new ShapeError(`stack: all shapes must be equal: ${xs.map((t) => fmt(t.shape)).join(', ')}`)
  const a = newAxis('stack', axis, xs[0]!.shape)
  return concat(
    xs.map((x) => expandDims(x, a)),
    a,
  )
}

/**
 * One-hot encoding: for indices of shape `s`, a `[...s, depth]` tensor with 1 at each index.
 *
 * @example
 * ```ts
 * import { oneHot } from '@purenn/tensor'
 * console.log(oneHot(new Int32Array([2, 0]), 3).toString()) // tensor([[0, 0, 1], [1, 0, 0]])
 * ```
 * @category Shape
 */
export const oneHot = (indices: Indices, depth: number): Tensor => {
  if (!Number.isInteger(depth) || depth < 0)
    throw new ShapeError(`oneHot: depth ${depth} must be a non-negative integer`)
  const { values, shape } = indexList('oneHot', indices, depth)
  const out = alloc(values.length * depth)
  for (let i = 0; i < values.length; i++) out[i * depth + values[i]!] = 1
  return fromBuffer([...shape, depth], out)
}

/**
 * Converts between index arrays and float tensors: `cast(t, 'int32')` truncates a
 * tensor's values toward zero into an `Int32Array` (as `tf.cast`); `cast(ints, 'float32')`
 * makes a float tensor of an index array.
 *
 * @example
 * ```ts
 * import { cast, tensor } from '@purenn/tensor'
 * console.log(cast(tensor([1.7, -2.5]), 'int32')) // Int32Array(2) [ 1, -2 ]
 * console.log(cast(new Int32Array([3, 4]), 'float32').toString()) // tensor([3, 4])
 * ```
 * @category Shape
 */
export function cast(x: Tensor, dtype: 'int32'): Int32Array
export function cast(x: Int32Array | Uint8Array | readonly number[], dtype: 'float32'): Tensor
export function cast(
  x: Tensor | Int32Array | Uint8Array | readonly number[],
  dtype: 'int32' | 'float32',
): Int32Array | Tensor {
  if (dtype === 'int32') return Int32Array.from((x as Tensor).data as ArrayLike<number>, (v) => Math.trunc(v))
  const values = x as ArrayLike<number>
  const out = alloc(values.length)
  for (let i = 0; i < values.length; i++) out[i] = values[i]!
  return fromBuffer([values.length], out)
}
