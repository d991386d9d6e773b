/**
 * Keras 3 files for purenn models, both ways: {@link loadKerasModel} reads `.keras` (Keras 3)
 * and legacy `.h5` files, {@link saveKerasModel} writes `.keras` files that
 * `keras.models.load_model` reads. A package of its own because HDF5 (h5wasm, the HDF5
 * library compiled to WebAssembly) is large; zip is fflate. Both are pure JS/WASM and run in
 * browsers too ({@link kerasModelFromBytes}, {@link kerasArchive}).
 *
 * @example
 * ```ts
 * import { kerasArchive, kerasModelFromBytes } from '@purenn/keras'
 * import { batchNormalization, dense, flatten, initModel, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const arch = sequential([flatten(), batchNormalization(), dense({ units: 10, activation: 'softmax' })], { inputShape: [28, 28] })
 * const back = await kerasModelFromBytes(await kerasArchive(initModel(arch, { key: key(0) })))
 * console.log(back.layer.names) // [ 'flatten', 'batch_normalization', 'dense' ]
 * ```
 * @packageDocumentation
 */

export * from './read.js'
export * from './write.js'
