/**
 * Layers as `init`/`apply` pairs with Keras semantics, and models as values: activations,
 * initializers, regularizers, dense / flatten / activation / batch-normalization / dropout
 * layers, `sequential`, the registry that rebuilds layers from JSON, the `Model` value with
 * its summary, weights, transfer-learning helpers and save/load, losses and metrics.
 *
 * @example
 * ```ts
 * import { countParams, dense, flatten, initModel, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const arch = sequential([flatten(), dense({ units: 300, activation: 'relu' }), dense({ units: 10, activation: 'softmax' })], {
 *   inputShape: [28, 28],
 * })
 * console.log(countParams(initModel(arch, { key: key(42) })).total) // 238510
 * ```
 *
 * This is the entry for Node (the `node` export condition): everything of `browser.ts`, the
 * entry bundlers for the browser get, and the file-based save/load (`saveModel`, `loadModel`,
 * the TF.js format's files).
 * @packageDocumentation
 */

// the browser entry's exports, then what needs Node's file system
export * from './browser.js'
export * from './save.js'
export * from './tfjs.js'
export * from './tfjsSave.js'
