/**
 * ONNX export of purenn models for inference: {@link onnxModel} (bytes) and
 * {@link saveOnnxModel} (a file), opset 17 with a symbolic batch dimension, run by
 * onnxruntime and any ONNX runtime. Custom layer kinds plug in with an
 * {@link OnnxLayerExporter}.
 *
 * @example
 * ```ts
 * import { onnxModel } from '@purenn/onnx'
 * import { batchNormalization, dense, flatten, initModel, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const arch = sequential([flatten(), batchNormalization(), dense({ units: 10, activation: 'softmax' })], { inputShape: [28, 28] })
 * console.log(onnxModel(initModel(arch, { key: key(0) })).length > 31_000) // true
 * ```
 * @packageDocumentation
 */

export * from './exporters.js'
export * from './graph.js'
export * from './onnx.js'
