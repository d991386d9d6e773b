// Layers built with many options, whose saved configs must not change when a factory is
// rewritten (on `defineLayer`, issue 9 item 3): `scripts/fixtures/saved-layer-configs.ts`
// wrote their specs, and a small saved model, with the factories as they were before;
// `test/saved-configs.test.ts` checks today's factories give the same bytes.

import {
  type AnyLayer,
  alphaDropout,
  averagePooling2d,
  conv2d,
  dense,
  flatten,
  gaussianDropout,
  gaussianNoise,
  initializers,
  initModel,
  l1l2,
  l2,
  layerNormalization,
  type Model,
  maxNorm,
  maxPooling2d,
  mcAlphaDropout,
  prelu,
  rrelu,
  sequential,
} from '@purenn/layers'
import { key } from '@purenn/tensor'

/** Each case: a label and the layer. */
export const savedConfigCases = (): ReadonlyArray<readonly [string, AnyLayer]> => [
  ['maxPooling2d()', maxPooling2d()],
  ['maxPooling2d poolSize 3', maxPooling2d({ poolSize: 3 })],
  ['maxPooling2d all options', maxPooling2d({ poolSize: [3, 2], strides: 1, padding: 'same', name: 'p' })],
  ['averagePooling2d()', averagePooling2d()],
  ['averagePooling2d pairs', averagePooling2d({ poolSize: [2, 3], strides: [1, 2] })],
  ['averagePooling2d same, named', averagePooling2d({ padding: 'same', name: 'a' })],
  ['alphaDropout', alphaDropout({ rate: 0.1 })],
  ['alphaDropout named', alphaDropout({ rate: 0, name: 'ad' })],
  ['mcAlphaDropout', mcAlphaDropout({ rate: 0.25 })],
  ['gaussianDropout named', gaussianDropout({ rate: 0.5, name: 'g' })],
  ['gaussianNoise', gaussianNoise({ stddev: 0.1 })],
  ['gaussianNoise named', gaussianNoise({ stddev: 0, name: 'n' })],
  ['prelu()', prelu()],
  ['prelu constant', prelu({ alphaInitializer: initializers.constant(0.25) })],
  [
    'prelu all options',
    prelu({
      alphaInitializer: 'heNormal',
      alphaRegularizer: l2(0.5),
      alphaConstraint: 'nonNeg',
      sharedAxes: [1, 2],
      name: 'p',
    }),
  ],
  ['prelu maxNorm', prelu({ alphaConstraint: maxNorm(2) })],
  ['prelu l1l2', prelu({ alphaRegularizer: l1l2({ l1: 0.1, l2: 0.2 }) })],
  ['rrelu()', rrelu()],
  ['rrelu bounds', rrelu({ lower: 0.1, upper: 0.3 })],
  ['rrelu equal bounds, named', rrelu({ lower: 0.2, upper: 0.2, name: 'r' })],
  ['layerNormalization()', layerNormalization()],
  [
    'layerNormalization all options',
    layerNormalization({ axis: [1, 2], epsilon: 1e-5, center: false, name: 'ln' }),
  ],
  ['layerNormalization axis -2', layerNormalization({ axis: -2, scale: false })],
  ['conv2d', conv2d({ filters: 2, kernelSize: 3 })],
  [
    'conv2d pairs',
    conv2d({ filters: 4, kernelSize: [3, 1], strides: 2, padding: 'same', useBias: false, name: 'c' }),
  ],
  ['conv2d dilation', conv2d({ filters: 1, kernelSize: [2, 2], dilationRate: [2, 1], activation: 'relu' })],
]

/** A small model holding a layer of each of these kinds, with weights from `key(7)`. */
export const savedConfigModel = (): Model =>
  initModel(
    sequential([
      maxPooling2d({ poolSize: [2, 1] }),
      prelu({ sharedAxes: [1], alphaInitializer: 'glorotUniform', alphaRegularizer: l2(0.1) }),
      averagePooling2d({ padding: 'same' }),
      layerNormalization({ axis: [1, 2, 3], center: false }),
      gaussianNoise({ stddev: 0.2 }),
      flatten(),
      alphaDropout({ rate: 0.05 }),
      rrelu({ lower: 0.1 }),
      gaussianDropout({ rate: 0.2 }),
      mcAlphaDropout({ rate: 0.1 }),
      dense({ units: 2 }),
      prelu({ alphaConstraint: maxNorm(1) }),
      layerNormalization(),
    ]),
    { key: key(7), inputShape: [6, 4, 2] },
  )
