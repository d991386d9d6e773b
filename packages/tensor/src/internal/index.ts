/**
 * The tensor package's building blocks for sibling packages that define fused kernels
 * (`@purenn/layers`, `@purenn/optim`): the zero-copy constructor, the allocator, the raw
 * buffer of a tensor, `record`, which attaches a VJP to a kernel's output, and elementwise
 * kernels that run on the worker pool when large. Exported as
 * `@purenn/tensor/internal`; not part of the user API.
 *
 * A buffer handed to `fromBuffer` must be fresh (made by the caller, filled, then never
 * written again): that is what keeps tensors immutable.
 *
 * @internal
 * @packageDocumentation
 */
export { alloc, buf, fromBuffer } from '../tensor.js'
export { type ElementwiseKernel, elementwiseKernel, type RangeLoop, runElementwise } from './elementwise.js'
export { record, type Vjp } from './tape.js'
export { adamInto } from './update.js'
