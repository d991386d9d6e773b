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
 * This is the entry for Node (the `node` export condition); bundlers for the browser get
 * `browser.ts`, the same without the file-based save/load.
 * @packageDocumentation
 */
export * from './activation.js'
export * from './activations.js'
export * from './batchNormalization.js'
export * from './confusion.js'
export * from './constraints.js'
export * from './container.js'
export * from './conv2d.js'
export * from './define.js'
export * from './dense.js'
export * from './dropout.js'
export * from './embedding.js'
export * from './fields.js'
export * from './flatten.js'
export * from './initializers.js'
export * from './labelError.js'
export * from './layer.js'
export * from './layerNormalization.js'
export * from './losses.js'
export * from './merge.js'
export * from './metrics.js'
export * from './model.js'
export * from './modelFormat.js'
export * from './noise.js'
export * from './normalization.js'
export type { OptimizerWeights } from './optimizerWeights.js'
export * from './pooling.js'
export * from './prelu.js'
export * from './registry.js'
export * from './regularizers.js'
export * from './reshape.js'
export * from './save.js'
export * from './sequential.js'
export * from './serial.js'
export * from './storage.js'
export * from './summary.js'
export * from './tfjs.js'
export * from './tfjsSave.js'
export * from './transfer.js'
export * from './weights.js'
