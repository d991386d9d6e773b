/**
 * A small CNN on Fashion-MNIST with batch normalization after each convolution: conv (no
 * bias) → batch norm → ReLU → max pooling, twice, then a softmax classifier, trained with
 * `fit`. Batch norm keeps its default `axis: -1`: on `(batch, h, w, channels)` it keeps
 * the channels and takes its statistics over batch, height and width, one mean and
 * variance per filter, as Keras does after a `Conv2D`.
 *
 * Run: pnpm example cnn-batch-norm [--epochs N] [--limit N] [--batch-size N] [--data-dir DIR]
 * (`--limit` trains on the first N training images only, for a quick look.)
 */
import { parseArgs } from 'node:util'
import { layers, optim, tensor, train } from 'purenn'
import { loadSplits } from './lib/chapter.js'
import { run } from './lib/run.js'

const { activation, batchNormalization, conv2d, dense, flatten, maxPooling2d, reshape, sequential } = layers

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '1' },
    limit: { type: 'string' },
    'batch-size': { type: 'string', default: '32' },
    'data-dir': { type: 'string' },
  },
})
const positive = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`--${name}: expected a positive integer, got "${v}"`)
    process.exit(2)
  }
  return n
}
const epochs = positive('epochs', values.epochs)!
const batchSize = positive('batch-size', values['batch-size'])!
const limit = positive('limit', values.limit)

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

const data = await loadSplits(values['data-dir'])
const trainSplit =
  limit === undefined
    ? data.train
    : { x: train.rows(data.train.x, 0, limit), y: train.rows(data.train.y, 0, limit) }
const started = performance.now()
await run({
  name: 'CNN with batch norm',
  architecture: cnn(),
  optimizer: optim.adam({ learningRate: 1e-3 }),
  epochs,
  batchSize,
  key: tensor.key(42),
  data: { ...data, train: trainSplit },
  verbose: 2,
})
console.log(
  `${epochs} epoch(s) on ${trainSplit.x.shape[0]} images: ${((performance.now() - started) / 1000).toFixed(1)} s`,
)
