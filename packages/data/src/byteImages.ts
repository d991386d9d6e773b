import { ShapeError, type Tensor, tensor } from '@purenn/tensor'

/**
 * Images kept as their bytes and turned into float32 (`byte / divisor`) only for the rows
 * asked for: a batch, a slice. Four times less memory than a float32 tensor of the same
 * images (47 MB instead of 188 MB for Fashion-MNIST's training set).
 *
 * @remarks
 * A plain record of the bytes, the shape and the divisor, with two functions that make float
 * tensors of some rows. `fit`, `evaluate` and `predict` of `@purenn/train` take it wherever
 * they take an input tensor (it is a `RowSource` there) and convert one batch at a time. The
 * conversion is the one {@link loadFashionMnist} applies up front (`bytes[i] / divisor`,
 * rounded once to float32), so training on `ByteImages` gives bit for bit the weights that
 * training on the float tensor gives.
 *
 * @example
 * ```ts
 * import { byteImages } from '@purenn/data'
 * const images = byteImages(Uint8Array.from([0, 255, 51, 102, 153, 204]), [3, 2])
 * console.log(images.shape, Array.from(images.rows(1, 1).data)) // [ 3, 2 ] [ 0.20000000298023224, 0.4000000059604645 ]
 * ```
 * @category Dataset
 */
export interface ByteImages {
  /** Marks a source of rows that are made on demand (`RowSource` in `@purenn/train`). */
  readonly kind: 'rowSource'
  /** The bytes, row after row. */
  readonly bytes: Uint8Array
  /** The shape of the images, rows first, e.g. `[60000, 28, 28]`. */
  readonly shape: readonly number[]
  /** What each byte is divided by (255: grey levels in [0, 1]). */
  readonly divisor: number
  /** Rows `[start, start + n)` as a float32 tensor of shape `[n, ...shape.slice(1)]`. */
  readonly rows: (start: number, n: number) => Tensor
  /** The rows at `indices`, in that order, as a float32 tensor. */
  readonly gather: (indices: ArrayLike<number>) => Tensor
  /** Rows `[start, start + n)` as `ByteImages` again: a view, nothing is copied. */
  readonly slice: (start: number, n: number) => ByteImages
}

/**
 * Images as bytes, scaled to float32 by `divisor` one batch at a time: see {@link ByteImages}.
 *
 * @param bytes - the pixels, row after row (not copied: do not change them afterwards)
 * @param shape - the shape, rows first; its product must be `bytes.length`
 * @param divisor - what each byte is divided by (default 255)
 * @throws `ShapeError` when the shape does not match the bytes or the divisor is not a
 *   positive finite number
 * @example
 * ```ts
 * import { byteImages } from '@purenn/data'
 * const images = byteImages(new Uint8Array(4 * 28 * 28).fill(255), [4, 28, 28])
 * console.log(images.gather([3, 0]).shape, images.rows(0, 1).data[0]) // [ 2, 28, 28 ] 1
 * ```
 * @category Dataset
 */
export const byteImages = (bytes: Uint8Array, shape: readonly number[], divisor = 255): ByteImages => {
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 0))
    throw new ShapeError(`byteImages: shape [${shape.join(',')}] is not a list of row count and sizes`)
  const rowSize = shape.slice(1).reduce((a, b) => a * b, 1)
  if (shape[0]! * rowSize !== bytes.length)
    throw new ShapeError(
      `byteImages: shape [${shape.join(',')}] needs ${shape[0]! * rowSize} bytes, got ${bytes.length}`,
    )
  if (!(Number.isFinite(divisor) && divisor > 0))
    throw new ShapeError(`byteImages: divisor must be a positive finite number, got ${divisor}`)
  const n = shape[0]!
  const inner = shape.slice(1)
  const checkRange = (op: string, start: number, count: number) => {
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > n)
      throw new ShapeError(`byteImages.${op}: rows [${start}, ${start + count}) are not within the ${n} rows`)
  }
  const rows = (start: number, count: number): Tensor => {
    checkRange('rows', start, count)
    const out = new Float32Array(count * rowSize)
    const from = start * rowSize
    for (let i = 0; i < out.length; i++) out[i] = bytes[from + i]! / divisor
    return tensor(out, [count, ...inner])
  }
  const gather = (indices: ArrayLike<number>): Tensor => {
    for (let k = 0; k < indices.length; k++) {
      const r = indices[k]!
      if (!Number.isInteger(r) || r < 0 || r >= n)
        throw new ShapeError(`byteImages.gather: index ${r} at position ${k} is not a row below ${n}`)
    }
    const out = new Float32Array(indices.length * rowSize)
    for (let k = 0; k < indices.length; k++) {
      const from = indices[k]! * rowSize
      const to = k * rowSize
      for (let i = 0; i < rowSize; i++) out[to + i] = bytes[from + i]! / divisor
    }
    return tensor(out, [indices.length, ...inner])
  }
  const slice = (start: number, count: number): ByteImages => {
    checkRange('slice', start, count)
    return byteImages(bytes.subarray(start * rowSize, (start + count) * rowSize), [count, ...inner], divisor)
  }
  return { kind: 'rowSource', bytes, shape: [...shape], divisor, rows, gather, slice }
}
