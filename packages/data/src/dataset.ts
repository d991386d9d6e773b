import { gather, type Key, permutation, ShapeError, slice, type Tensor, tensor } from '@purenn/tensor'

/**
 * An in-memory dataset: inputs `x` and targets `y` whose first axis indexes the same rows.
 *
 * @remarks
 * A plain pair of tensors, like Keras' `(X, y)` arrays. `y` holds class indices `[n]` for
 * classification, but any `[n, ...]` target works with every helper except
 * {@link selectClasses}. A batch is a `Dataset` too.
 *
 * @example
 * ```ts
 * import type { Dataset } from '@purenn/data'
 * import { tensor } from '@purenn/tensor'
 * const data: Dataset = { x: tensor([[0, 1], [2, 3], [4, 5]]), y: tensor([1, 0, 1]) }
 * console.log(data.x.shape[0] === data.y.shape[0]) // true
 * ```
 * @category Dataset
 */
export interface Dataset {
  /** The inputs, one row per example along the first axis. */
  readonly x: Tensor
  /** The targets, one row per example along the first axis. */
  readonly y: Tensor
}

/**
 * Options of {@link batches}.
 *
 * @category Dataset
 */
export interface BatchesOptions {
  /** Shuffle the rows with this key before batching (default: keep their order). */
  readonly key?: Key
  /** Drop the last batch when it has fewer than `batchSize` rows (default `false`, as in Keras). */
  readonly dropRemainder?: boolean
}

/**
 * The batches of a dataset: iterable any number of times (always the same batches) and
 * knowing how many batches it has.
 *
 * @category Dataset
 */
export interface Batches extends Iterable<Dataset> {
  /** The number of batches one iteration yields (Keras' steps per epoch). */
  readonly length: number
}

/**
 * The result of {@link trainValidSplit}.
 *
 * @category Dataset
 */
export interface TrainValidSplit {
  /** The rows kept for training: all but the last `validCount`. */
  readonly train: Dataset
  /** The last `validCount` rows, kept for validation. */
  readonly valid: Dataset
}

/**
 * The two datasets of the chapter's transfer-learning experiment: see {@link splitTransferTasks}.
 *
 * @category Dataset
 */
export interface TransferTasks {
  /** Task A: the eight classes other than T-shirt/top and Pullover, labels remapped to 0..7 in order. */
  readonly a: Dataset
  /** Task B: T-shirt/top (label 0) versus Pullover (label 1). */
  readonly b: Dataset
}

const checkRows = (op: string, data: Dataset): number => {
  const { x, y } = data
  if (x.shape.length === 0 || y.shape.length === 0 || x.shape[0] !== y.shape[0])
    throw new ShapeError(
      `${op}: x and y must have the same number of rows along their first axis, got x [${x.shape.join(',')}] and y [${y.shape.join(',')}]`,
    )
  return x.shape[0]!
}

const rows = (t: Tensor, start: number, count: number): Tensor =>
  slice(
    t,
    t.shape.map((_, i) => (i === 0 ? start : 0)),
    t.shape.map((_, i) => (i === 0 ? count : -1)),
  )

const range = (data: Dataset, start: number, count: number): Dataset => ({
  x: rows(data.x, start, count),
  y: rows(data.y, start, count),
})

const pick = (data: Dataset, indices: Int32Array): Dataset => ({
  x: gather(data.x, indices),
  y: gather(data.y, indices),
})

const checkCount = (op: string, what: string, n: number): void => {
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`${op}: ${what} must be a non-negative integer, got ${n}`)
}

/**
 * The number of rows (examples) of a dataset.
 *
 * @param data - inputs and targets with the same number of rows
 * @returns `x.shape[0]`
 * @throws ShapeError when `x` and `y` have different numbers of rows.
 * @example
 * ```ts
 * import { rowCount } from '@purenn/data'
 * import { tensor } from '@purenn/tensor'
 * console.log(rowCount({ x: tensor([[1], [2], [3]]), y: tensor([0, 1, 0]) })) // 3
 * ```
 * @category Dataset
 */
export const rowCount = (data: Dataset): number => checkRows('rowCount', data)

/**
 * The first `n` rows of a dataset (all of them when it has fewer), as Python's `data[:n]`.
 *
 * @remarks
 * The chapter trains model B on the first 200 images of task B: `take(b, 200)`.
 *
 * @param data - inputs and targets with the same number of rows
 * @param n - how many rows to keep, a non-negative integer
 * @returns a new dataset of `min(n, rows)` rows, in order
 * @example
 * ```ts
 * import { take } from '@purenn/data'
 * import { tensor } from '@purenn/tensor'
 * const first = take({ x: tensor([[1], [2], [3]]), y: tensor([0, 1, 0]) }, 2)
 * console.log(first.x.toString(), first.y.toString()) // tensor([[1], [2]]) tensor([0, 1])
 * ```
 * @category Dataset
 */
export const take = (data: Dataset, n: number): Dataset => {
  const total = checkRows('take', data)
  checkCount('take', 'n', n)
  return range(data, 0, Math.min(n, total))
}

/**
 * The rows of a dataset in a random order drawn from `key`: the same key gives the same order.
 *
 * @remarks
 * `x` and `y` are permuted together by one `permutation` (from `@purenn/tensor`) of the row indices, so every
 * input keeps its target.
 *
 * @param data - inputs and targets with the same number of rows
 * @param key - the PRNG key that decides the order
 * @returns a new dataset with the same rows, shuffled
 * @example
 * ```ts
 * import { shuffle } from '@purenn/data'
 * import { key, tensor } from '@purenn/tensor'
 * const s = shuffle({ x: tensor([[10], [20], [30]]), y: tensor([1, 2, 3]) }, key(42))
 * console.log(Array.from(s.x.data).map((v, i) => v / 10 === s.y.data[i])) // [ true, true, true ]
 * ```
 * @category Dataset
 */
export const shuffle = (data: Dataset, key: Key): Dataset =>
  pick(data, permutation(key, checkRows('shuffle', data)))

/**
 * Splits a dataset into batches of `batchSize` rows, optionally shuffled, as Keras' `fit` does.
 *
 * @remarks
 * Rows go in order, or in the order of a `permutation` (from `@purenn/tensor`) drawn from `key`. The last batch
 * has the leftover rows when `batchSize` does not divide the number of rows, unless
 * `dropRemainder` is set (as `tf.data`'s `batch(n, drop_remainder)`). Batches are made lazily,
 * one per iteration step, and iterating again gives the same batches; for a new order each
 * epoch pass a new key (`split` one per epoch).
 *
 * @param data - inputs and targets with the same number of rows
 * @param batchSize - the number of rows per batch, a positive integer
 * @param options - `key` to shuffle, `dropRemainder` to drop a last partial batch
 * @returns the batches, each a {@link Dataset}, and their number as `length`
 * @throws RangeError when `batchSize` is not a positive integer.
 * @example
 * ```ts
 * import { batches } from '@purenn/data'
 * import { tensor } from '@purenn/tensor'
 * const bs = batches({ x: tensor([[1], [2], [3], [4], [5]]), y: tensor([0, 1, 0, 1, 0]) }, 2)
 * console.log(bs.length, [...bs].map((b) => b.x.shape[0])) // 3 [ 2, 2, 1 ]
 * ```
 * @category Dataset
 */
export const batches = (data: Dataset, batchSize: number, options: BatchesOptions = {}): Batches => {
  const n = checkRows('batches', data)
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batches: batchSize must be a positive integer, got ${batchSize}`)
  const length = options.dropRemainder === true ? Math.floor(n / batchSize) : Math.ceil(n / batchSize)
  const { key } = options
  const order = key === undefined ? undefined : permutation(key, n)
  return {
    length,
    *[Symbol.iterator]() {
      for (let b = 0; b < length; b++) {
        const start = b * batchSize
        const count = Math.min(batchSize, n - start)
        yield order === undefined
          ? range(data, start, count)
          : pick(data, order.subarray(start, start + count))
      }
    },
  }
}

/**
 * Splits off the last `validCount` rows for validation, as the chapter does with Fashion-MNIST.
 *
 * @remarks
 * Géron's chapter writes `X_train, X_valid = X_train_full[:-5000], X_train_full[-5000:]`:
 * the last 5,000 of the 60,000 training images validate, the first 55,000 train. The rows
 * are not shuffled first; shuffle before splitting if the order of the data is meaningful.
 *
 * @param data - inputs and targets with the same number of rows
 * @param validCount - how many of the last rows become the validation set, at most the number of rows
 * @returns `train` (the first rows) and `valid` (the last `validCount` rows)
 * @throws RangeError when `validCount` is negative, fractional or larger than the number of rows.
 * @example
 * ```ts
 * import { trainValidSplit } from '@purenn/data'
 * import { tensor } from '@purenn/tensor'
 * const { train, valid } = trainValidSplit({ x: tensor([[1], [2], [3]]), y: tensor([0, 1, 2]) }, 1)
 * console.log(train.y.toString(), valid.y.toString()) // tensor([0, 1]) tensor([2])
 * ```
 * @category Dataset
 */
export const trainValidSplit = (data: Dataset, validCount: number): TrainValidSplit => {
  const n = checkRows('trainValidSplit', data)
  checkCount('trainValidSplit', 'validCount', validCount)
  if (validCount > n)
    throw new RangeError(`trainValidSplit: validCount ${validCount} is more than the ${n} rows`)
  return { train: range(data, 0, n - validCount), valid: range(data, n - validCount, validCount) }
}

/**
 * Keeps the rows whose label is one of `classes`, in their order, and renumbers the labels so
 * that `classes[i]` becomes `i`.
 *
 * @remarks
 * `y` must hold class indices, shape `[n]`. The order of `classes` decides the new labels:
 * `selectClasses(d, [6, 5])` maps Shirt (6) to 0 and Sandal (5) to 1.
 *
 * @param data - inputs and class-index targets `[n]`
 * @param classes - distinct class indices to keep; `classes[i]` becomes label `i`
 * @returns a new dataset with the selected rows and remapped labels
 * @throws ShapeError when `y` is not of shape `[n]` or `x` and `y` disagree on the number of rows;
 *   RangeError when `classes` has duplicates.
 * @example
 * ```ts
 * import { selectClasses } from '@purenn/data'
 * import { tensor } from '@purenn/tensor'
 * const s = selectClasses({ x: tensor([[0], [1], [2], [3]]), y: tensor([3, 1, 0, 3]) }, [3, 0])
 * console.log(s.x.toString(), s.y.toString()) // tensor([[0], [2], [3]]) tensor([0, 1, 0])
 * ```
 * @category Dataset
 */
export const selectClasses = (data: Dataset, classes: readonly number[]): Dataset => {
  const n = checkRows('selectClasses', data)
  if (data.y.shape.length !== 1)
    throw new ShapeError(
      `selectClasses: y must hold class indices of shape [n], got [${data.y.shape.join(',')}]`,
    )
  const newLabel = new Map<number, number>()
  classes.forEach((c, i) => {
    if (newLabel.has(c))
      throw new RangeError(`selectClasses: class ${c} is listed twice in [${classes.join(',')}]`)
    newLabel.set(c, i)
  })
  const labels = data.y.data
  const kept: number[] = []
  for (let i = 0; i < n; i++) if (newLabel.has(labels[i]!)) kept.push(i)
  const indices = Int32Array.from(kept)
  const y = new Float32Array(indices.length)
  indices.forEach((r, i) => {
    y[i] = newLabel.get(labels[r]!)!
  })
  return { x: gather(data.x, indices), y: tensor(y, [y.length]) }
}

/**
 * The classes of task A in the transfer-learning experiment: all Fashion-MNIST classes but
 * T-shirt/top (0) and Pullover (2), in order; {@link splitTransferTasks} maps them to 0..7.
 *
 * @example
 * ```ts
 * import { transferTaskAClasses } from '@purenn/data'
 * console.log(transferTaskAClasses.join(' ')) // 1 3 4 5 6 7 8 9
 * ```
 * @category Dataset
 */
export const transferTaskAClasses: readonly number[] = [1, 3, 4, 5, 6, 7, 8, 9]

/**
 * The classes of task B in the transfer-learning experiment: T-shirt/top (0), which becomes
 * label 0, and Pullover (2), which becomes label 1.
 *
 * @example
 * ```ts
 * import { transferTaskBClasses } from '@purenn/data'
 * console.log(transferTaskBClasses) // [ 0, 2 ]
 * ```
 * @category Dataset
 */
export const transferTaskBClasses: readonly number[] = [0, 2]

/**
 * Splits Fashion-MNIST into the two tasks of the chapter's transfer-learning experiment.
 *
 * @remarks
 * Task A has the eight classes other than T-shirt/top (0) and Pullover (2), labels remapped to
 * 0..7 keeping their order (1 to 0, 3 to 1, ..., 9 to 7). Task B is binary: label 1 for
 * Pullover, 0 for T-shirt/top, so its labels serve a sigmoid output with binary
 * cross-entropy as well as a two-way softmax. Model A is trained on task A; model B reuses
 * A's layers and is trained on only the first 200 rows of task B (`take(b, 200)`).
 * (The book's `split_dataset` uses sandals and shirts for task B, "is it a shirt?"; the
 * experiment here uses T-shirt/top and Pullover instead. {@link selectClasses} builds either.)
 *
 * @param data - Fashion-MNIST images and class-index labels `[n]`
 * @returns `a` and `b`, each a new dataset with rows in their original order
 * @example
 * ```ts
 * import { splitTransferTasks, take } from '@purenn/data'
 * import { tensor } from '@purenn/tensor'
 * const { a, b } = splitTransferTasks({ x: tensor([[0], [1], [2], [3]]), y: tensor([0, 9, 2, 3]) })
 * console.log(a.y.toString(), b.y.toString(), take(b, 1).y.toString()) // tensor([7, 1]) tensor([0, 1]) tensor([0])
 * ```
 * @category Dataset
 */
export const splitTransferTasks = (data: Dataset): TransferTasks => ({
  a: selectClasses(data, transferTaskAClasses),
  b: selectClasses(data, transferTaskBClasses),
})
