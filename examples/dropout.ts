/**
 * Dropout: rate 0.2 before each dense layer, trained with SGD and momentum 0.9.
 *
 * Ten epochs by default, as the chapter does.
 *
 * Run: pnpm example dropout [--epochs 10] [--subset N] [--data-dir DIR]
 */
import { optim, tensor } from 'purenn'
import { dropoutModel, loadSplits } from './lib/chapter.js'
import { exampleArgs, subsetSplits } from './lib/flags.js'
import { run } from './lib/run.js'

const args = exampleArgs({
  name: 'dropout',
  epochs: { default: 10 },
  subset: { what: 'training images', max: 55_000 },
  dataDir: true,
})
const data = subsetSplits(await loadSplits(args.dataDir), args.subset)
await run({
  name: 'dropout model',
  architecture: dropoutModel(),
  optimizer: optim.sgd({ learningRate: 0.01, momentum: 0.9 }),
  epochs: args.epochs,
  batchSize: 32,
  key: tensor.key(42),
  data,
  verbose: 2,
})
