/**
 * Immutable float32 tensors, explicit PRNG keys, reverse-mode autodiff and parameter trees:
 * the ground every other purenn package stands on.
 *
 * @packageDocumentation
 */

export * from './arith.js'
export * from './conv.js'
export * from './crossentropy.js'
export * from './custom.js'
export * from './errors.js'
export * from './fused.js'
export * from './grad.js'
export * from './hessian.js'
export * from './kernelset.js'
export * from './linalg.js'
export * from './nn.js'
export * from './random.js'
export * from './reduce.js'
export * from './shape.js'
export {
  arange,
  eye,
  full,
  isTensor,
  item,
  type NestedArray,
  ones,
  onesLike,
  type ReadonlyFloat32Array,
  scalar,
  type Tensor,
  tensor,
  toArray,
  toString,
  zeros,
  zerosLike,
} from './tensor.js'
export * from './threads.js'
export type { Tree, TreeOf } from './tree.js'
export * as tree from './tree.js'
