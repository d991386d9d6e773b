/**
 * Transfer learning: model B (2 classes, 200 images) reusing model A's layers, frozen then unfrozen.
 *
 * The chapter's experiment: model A on the 8 classes other than
 * T-shirt/top and Pullover; model B (Pullover vs T-shirt/top) from scratch on 200 images;
 * model B on A: all of A but its output layer, frozen for 4 epochs, then unfrozen for 16.
 * Models are values: building and training B never changes A.
 *
 * Run: pnpm example transfer-learning [--epochs 20] [--subset N] [--data-dir DIR]
 * (`--epochs N`: model A and model B from scratch train N epochs; model B on A is frozen
 * for N/5 and unfrozen for the rest.)
 */
import { tensor } from 'purenn'
import { loadSplits } from './lib/chapter.js'
import { exampleArgs, subsetSplits } from './lib/flags.js'
import { transferExperiment } from './lib/transfer.js'

const args = exampleArgs({
  name: 'transfer-learning',
  epochs: { default: 20 },
  subset: { what: 'training images', min: 100, max: 55_000 },
  dataDir: true,
})
const data = subsetSplits(await loadSplits(args.dataDir), args.subset)
await transferExperiment(data, { key: tensor.key(42), epochs: args.epochs, verbose: 2 })
