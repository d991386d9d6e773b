import { gather, slice, type Tensor } from '@purenn/tensor'
import { unscoped } from '@purenn/tensor/internal'

const rows = (x: Tensor, start: number, n: number): Tensor =>
  slice(
    x,
    x.shape.map((_, i) => (i === 0 ? start : 0)),
    x.shape.map((d, i) => (i === 0 ? n : d)),
  )

/**
 * Inputs whose rows are made when a batch needs them, such as images kept as bytes
 * (`byteImages` and `loadFashionMnistBytes` of `@purenn/data`): `fit`, `evaluate` and
 * `predict` take one wherever they take an input tensor.
 *
 * @remarks
 * A plain record: the shape, rows first, and functions that make float32 tensors of some
 * rows. They must be pure (the same rows give the same values every time), or training is
 * not reproducible. They are called outside the step scopes of `fit`, `predict` and
 * `evaluate` (see `@purenn/tensor`'s kernels guide), so a source may keep tensors it makes
 * (a cache of standardized rows, say).
 *
 * @example
 * ```ts
 * import { tensor } from '@purenn/tensor'
 * import type { RowSource } from '@purenn/train'
 * const source: RowSource = {
 *   kind: 'rowSource',
 *   shape: [4, 1],
 *   rows: (start, n) => tensor(Float32Array.from({ length: n }, (_, i) => start + i), [n, 1]),
 *   gather: (idx) => tensor(Float32Array.from(idx), [idx.length, 1]),
 *   slice: (start, n) => ({ ...source, shape: [n, 1] }),
 * }
 * console.log(Array.from(source.rows(1, 2).data)) // [ 1, 2 ]
 * ```
 * @category Training
 */
export interface RowSource {
  /** Tells a row source from a tensor. */
  readonly kind: 'rowSource'
  /** The shape of the whole input, rows first. */
  readonly shape: readonly number[]
  /** Rows `[start, start + n)` as a tensor. */
  readonly rows: (start: number, n: number) => Tensor
  /** The rows at `indices`, in that order, as a tensor. */
  readonly gather: (indices: ArrayLike<number>) => Tensor
  /** Rows `[start, start + n)` as a row source (for `fit`'s `validationSplit`). */
  readonly slice: (start: number, n: number) => RowSource
}

/**
 * An input of `fit`, `evaluate` and `predict`: a tensor, or a {@link RowSource}.
 * @category Training
 */
export type Rows = Tensor | RowSource

const isSource = (x: Rows): x is RowSource => (x as { kind?: unknown }).kind === 'rowSource'

/**
 * Rows [start, start+n) of an input, as a tensor. A source's rows are made with no step
 * scope open (the source may keep what it makes); a tensor's are sliced in the open one.
 * @internal
 */
export const takeRows = (x: Rows, start: number, n: number): Tensor =>
  isSource(x) ? unscoped(() => x.rows(start, n)) : rows(x, start, n)

/** The rows at `indices` of an input, as a tensor (a source's with no step scope open). @internal */
export const gatherRows = (x: Rows, indices: Int32Array): Tensor =>
  isSource(x) ? unscoped(() => x.gather(indices)) : gather(x, indices)

/** Rows [start, start+n) of an input, as an input of the same kind. @internal */
export const sliceRows = (x: Rows, start: number, n: number): Rows =>
  isSource(x) ? x.slice(start, n) : rows(x, start, n)
