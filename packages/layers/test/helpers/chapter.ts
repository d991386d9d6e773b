/**
 * The chapter's models, shared by the layer tests (the examples have their own copy in
 * `examples/lib/chapter.ts`, built from the public `purenn` package).
 */

import { batchNormalization, dense, flatten, sequential } from '../../src/index.js'

/**
 * The chapter's batch-normalization model: batch norm on the input and after each hidden
 * layer's activation. 271,346 params, 2,368 of them non-trainable (the moving statistics).
 */
export const chapterModel = () =>
  sequential(
    [
      flatten(),
      batchNormalization(),
      dense({ units: 300, activation: 'relu', kernelInitializer: 'heNormal' }),
      batchNormalization(),
      dense({ units: 100, activation: 'relu', kernelInitializer: 'heNormal' }),
      batchNormalization(),
      dense({ units: 10, activation: 'softmax' }),
    ],
    { inputShape: [28, 28] },
  )
