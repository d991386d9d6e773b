/**
 * purenn: one import for the whole framework. Each package is a namespace:
 * `tensor` (tensors, PRNG keys, autodiff, trees) and `data` (IDX files, Fashion-MNIST,
 * in-memory datasets).
 *
 * @example
 * ```ts
 * import { tensor as T } from 'purenn'
 * console.log(T.add(T.tensor([1, 2]), 1).toString()) // tensor([2, 3])
 * ```
 * @packageDocumentation
 */
export * as tensor from '@purenn/tensor'
