/**
 * Data, the entry for browsers and other runtimes without Node's file system (the
 * `default` export condition): the in-memory datasets (shuffle, batches, splits) and IDX
 * decoding (`decodeIdxAsync` decompresses gzip with DecompressionStream). Reading IDX files
 * and the Fashion-MNIST loader with its cache are Node's.
 *
 * @packageDocumentation
 */

export { type ByteImages, byteImages } from './byteImages.js'
export {
  type Batches,
  type BatchesOptions,
  batches,
  type Dataset,
  rowCount,
  selectClasses,
  shuffle,
  splitTransferTasks,
  type TrainValidSplit,
  type TransferTasks,
  take,
  trainValidSplit,
  transferTaskAClasses,
  transferTaskBClasses,
} from './dataset.js'
export { DataError } from './errors.js'
export {
  decodeIdx,
  decodeIdxAsync,
  type EncodeIdxOptions,
  encodeIdx,
  type IdxArray,
  type IdxType,
  type IdxTypedArrays,
} from './idx.js'
