/**
 * UNSTABLE: the tensor package's building blocks for sibling packages that write their own
 * kernels (`@purenn/optim`'s fused optimizer updates on the worker pool): the zero-copy
 * constructor, the allocator, the raw buffer of a tensor, and elementwise kernels that run on
 * the worker pool when large. Exported as `@purenn/tensor/internal`; not part of the user
 * API, no semver guarantee: anything here may change in any release.
 *
 * To give an op a gradient of your own, use the public `customVjp` of `@purenn/tensor`: the
 * tape (`record`) is private to the tensor package and not exported here.
 *
 * A buffer handed to `fromBuffer` must be fresh (made by the caller, filled, then never
 * written again): that is what keeps tensors immutable.
 *
 * @internal
 * @packageDocumentation
 */
export { alloc, allocOwned, buf, fromBuffer } from '../tensor.js'
export { type ElementwiseKernel, elementwiseKernel, type RangeLoop, runElementwise } from './elementwise.js'
export { type OpenedRegular, type OpenProblem, openRegularFile, readRegularFileSync } from './files.js'
export { makeFolders, makeFoldersSync } from './folders.js'
export { leavesLike, leavesOf, mapLeaves } from './leaf-order.js'
export { __poolForTests } from './pool.js'
export {
  adamInto,
  addUpdateInto,
  momentumInto,
  nadamInto,
  rmsInto,
  type StepKernel,
  scaleInto,
  stepInto,
} from './update.js'
export {
  heapStats,
  isOwnedFloats,
  openStepScope,
  releaseFloats,
  type StepScope,
  unscoped,
} from './wasm/heap.js'
