/**
 * Layers, the entry for browsers and other runtimes without Node's file system (the
 * `default` export condition): everything of the Node entry but the file-based `saveModel`,
 * `loadModel` and `loadTfjsModel`.
 *
 * @packageDocumentation
 */
export * from './activation.js'
export * from './activations.js'
export * from './batchNormalization.js'
export * from './confusion.js'
export * from './constraints.js'
export * from './dense.js'
export * from './dropout.js'
export * from './flatten.js'
export * from './initializers.js'
export * from './layer.js'
export * from './losses.js'
export * from './metrics.js'
export * from './model.js'
export * from './modelFormat.js'
export * from './noise.js'
export * from './normalization.js'
export * from './prelu.js'
export * from './registry.js'
export * from './regularizers.js'
export * from './sequential.js'
export * from './storage.js'
export * from './summary.js'
export * from './transfer.js'
export * from './weights.js'
