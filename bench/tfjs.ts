/**
 * TF.js for the side-by-side bench: the WebAssembly backend (XNNPACK, SIMD; its `.wasm` files
 * found in node_modules) and the plain JavaScript CPU backend, and the chapter's batch-norm
 * model built with tfjs-layers as Keras builds it.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import * as tfl from '@tensorflow/tfjs-layers'

export { tf, tfl }

export type TfBackend = 'wasm' | 'cpu'

/** Registers both backends (the wasm one reads its binaries from the package's dist/). */
export const initTf = async (): Promise<{ simd: boolean; multithread: boolean }> => {
  const require = createRequire(import.meta.url)
  const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')
  setWasmPaths(`${dist}/`)
  // production mode: no debug checks (TF.js' advice for speed; it also silences its Node banner)
  tf.enableProdMode()
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs: the cpu backend did not start')
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend did not start')
  return {
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT') as boolean,
    multithread: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') as boolean,
  }
}

/** The chapter's batch-norm model (BN after each hidden layer) compiled with Adam, on `backend`. */
export const tfBnModel = async (backend: TfBackend): Promise<tfl.Sequential> => {
  await tf.setBackend(backend)
  const model = tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [28, 28] }),
      tfl.layers.batchNormalization(),
      tfl.layers.dense({ units: 300, activation: 'relu', kernelInitializer: 'heNormal' }),
      tfl.layers.batchNormalization(),
      tfl.layers.dense({ units: 100, activation: 'relu', kernelInitializer: 'heNormal' }),
      tfl.layers.batchNormalization(),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  })
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'sparseCategoricalCrossentropy' })
  return model
}
