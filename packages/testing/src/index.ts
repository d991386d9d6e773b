/**
 * A property-testing kit for purenn users (and purenn's own tests): fast-check arbitraries
 * for shapes, float32-exact tensors, keys and parameter trees; `checkGrads` (reverse-mode
 * derivatives of order 1 and 2 against float64 finite differences, kinks detected);
 * `checkLayer` (the contract of an init/apply pair); `checkTransformation` (the laws of an
 * Optax-style optimizer); `maxAbsDiff` (how far apart two tensors or arrays are). Plain functions that throw a readable error, so they work in
 * vitest, jest and `node:test` alike; fast-check is a peer dependency.
 *
 * @example
 * ```ts
 * import { checkGrads, tensorArb } from '@purenn/testing'
 * import { exp, sum } from '@purenn/tensor'
 * import fc from 'fast-check'
 * fc.assert(
 *   fc.property(tensorArb([3], { min: -1, max: 1 }), (x) => {
 *     checkGrads((t) => sum(exp(t)), [x], { reference: (v) => [v.reduce((s, e) => s + Math.exp(e), 0)] })
 *   }),
 *   { seed: 1, numRuns: 10 },
 * )
 * console.log('exp: gradients match') // exp: gradients match
 * ```
 * @packageDocumentation
 */

export * from './arbitraries.js'
export * from './checkGrads.js'
export * from './checkLayer.js'
export * from './checkTransformation.js'
export * from './maxAbsDiff.js'
