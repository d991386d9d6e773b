/**
 * Transfer learning (the chapter's experiment): model A on the 8 classes other than
 * T-shirt/top and Pullover; model B (Pullover vs T-shirt/top) from scratch on 200 images;
 * model B on A: all of A but its output layer, frozen for 4 epochs, then unfrozen for 16.
 * Models are values: building and training B never changes A.
 *
 * Run: pnpm example transfer-learning
 */
import { tensor } from 'purenn'
import { loadSplits } from './lib/chapter.js'
import { transferExperiment } from './lib/transfer.js'

const data = await loadSplits()
await transferExperiment(data, { key: tensor.key(42), verbose: 2 })
