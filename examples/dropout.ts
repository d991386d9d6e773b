/**
 * Dropout (rate 0.2 before each dense layer), trained with SGD and momentum 0.9 for ten
 * epochs, as the chapter does.
 *
 * Run: pnpm example dropout
 */
import { optim, tensor } from 'purenn'
import { dropoutModel, loadSplits } from './lib/chapter.js'
import { run } from './lib/run.js'

const data = await loadSplits()
await run({
  name: 'dropout model',
  architecture: dropoutModel(),
  optimizer: optim.sgd({ learningRate: 0.01, momentum: 0.9 }),
  epochs: 10,
  batchSize: 32,
  key: tensor.key(42),
  data,
  verbose: 2,
})
