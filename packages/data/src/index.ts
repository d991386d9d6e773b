/**
 * Data for purenn: the IDX reader and writer, the Fashion-MNIST loader (local directories,
 * the `PURENN_DATA` variable, a cache, Debian's package, or a verified download), and
 * in-memory datasets of `(x, y)` tensors with shuffle, batches and splits.
 *
 *
 * This is the entry for Node (the `node` export condition); bundlers for the browser get
 * `browser.ts`, the in-memory datasets only.
 *
 * @packageDocumentation
 */

export { type ByteImages, byteImages } from './byteImages.js'
export * from './cifar10.js'
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
  debianFashionMnistDir,
  type FashionMnist,
  type FashionMnistFile,
  fashionMnistBaseUrl,
  fashionMnistCacheDir,
  fashionMnistClassNames,
  fashionMnistFiles,
  fashionMnistSha256,
  type ImagesAndLabels,
  type LoadFashionMnistOptions,
  loadFashionMnist,
  loadFashionMnistBytes,
} from './fashionMnist.js'
export {
  decodeIdx,
  decodeIdxAsync,
  type EncodeIdxOptions,
  encodeIdx,
  type IdxArray,
  type IdxType,
  type IdxTypedArrays,
} from './idx.js'
export { readIdxFile } from './idxFile.js'
export * from './mnist.js'
