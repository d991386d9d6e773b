/**
 * A small CNN with batch normalization after each convolution, trained on Fashion-MNIST with Adam.
 *
 * Conv (no bias) → batch norm → ReLU → max pooling, twice, then a softmax classifier, trained with
 * `fit`. Batch norm keeps its default `axis: -1`: on `(batch, h, w, channels)` it keeps
 * the channels and takes its statistics over batch, height and width, one mean and
 * variance per filter, as Keras does after a `Conv2D`.
 *
 * Run: pnpm example cnn-batch-norm [--epochs 1] [--subset N] [--batch-size 32] [--data-dir DIR]
 * (`--subset` trains on the first N training images only, for a quick look.)
 */
import { layers, optim, tensor } from 'purenn'
import { loadSplits } from './lib/chapter.js'
import { exampleArgs, subsetSplits } from './lib/flags.js'
import { run } from './lib/run.js'

const { activation, batchNormalization, conv2d, dense, flatten, maxPooling2d, reshape, sequential } = layers

const { epochs, batchSize, subset, dataDir } = exampleArgs({
  name: 'cnn-batch-norm',
  epochs: { default: 1 },
  subset: { what: 'training images', max: 55_000 },
  batchSize: 32,
  dataDir: true,
})

/** conv (no bias: batch norm's beta is the offset) → BN per channel → ReLU → 2x2 max pooling. */
const convBlock = (filters: number) => [
  conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: 'heNormal' }),
  batchNormalization(),
  activation('relu'),
  maxPooling2d(),
]

const cnn = () =>
  sequential(
    [
      reshape({ targetShape: [28, 28, 1] }),
      ...convBlock(16), // (14, 14, 16)
      ...convBlock(32), // (7, 7, 32)
      flatten(),
      dense({ units: 10, activation: 'softmax' }),
    ],
    { inputShape: [28, 28] },
  )

const data = subsetSplits(await loadSplits(dataDir), subset)
const started = performance.now()
await run({
  name: 'CNN with batch norm',
  architecture: cnn(),
  optimizer: optim.adam({ learningRate: 1e-3 }),
  epochs,
  batchSize,
  key: tensor.key(42),
  data,
  verbose: 2,
})
console.log(
  `${epochs} epoch(s) on ${data.train.x.shape[0]} images: ${((performance.now() - started) / 1000).toFixed(1)} s`,
)
