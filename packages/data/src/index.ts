/**
 * Data for purenn: the IDX reader and writer, the Fashion-MNIST loader (local directories,
 * the `PURENN_DATA` variable, a cache, Debian's package, or a verified download), and
 * in-memory datasets of `(x, y)` tensors with shuffle, batches and splits.
 *
 *
 * This is the entry for Node (the `node` export condition): everything of `browser.ts`, the
 * entry bundlers for the browser get (the in-memory datasets and IDX decoding), and what
 * reads files (IDX files, the Fashion-MNIST, MNIST and CIFAR-10 loaders).
 *
 * @packageDocumentation
 */

// the browser entry's exports, then what reads files
export * from './browser.js'
export * from './cifar10.js'
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
export { readIdxFile } from './idxFile.js'
export * from './mnist.js'
