/**
 * Gradient clipping: clipValue against clipNorm, then the BN model trained with clipNorm 1.
 *
 * clipValue can change the direction of the gradient, clipNorm keeps it
 * (the chapter's [0.9, 100.0] example), then the chapter's `rmsprop({ clipNorm: 1, clipValue: 1 })`
 * and an SGD with clipNorm training the BN model for one epoch.
 *
 * Run: pnpm example gradient-clipping [--epochs 1] [--subset N] [--data-dir DIR]
 */
import { optim, tensor } from 'purenn'
import { bnAfter, loadSplits } from './lib/chapter.js'
import { exampleArgs, subsetSplits } from './lib/flags.js'
import { run } from './lib/run.js'

const args = exampleArgs({
  name: 'gradient-clipping',
  epochs: { default: 1 },
  subset: { what: 'training images', max: 55_000 },
  dataDir: true,
})
const g = { w: tensor.tensor([0.9, 100]) }
const show = (name: string, tx: optim.GradientTransformation<unknown>) => {
  const { updates } = tx.update(g, tx.init(g), g)
  console.log(name.padEnd(18), updates.w.toString())
}
show('gradient', optim.identity())
show('clipByValue(1)', optim.clipByValue(1)) // [0.9, 1]: the direction changed
show('clipByNorm(1)', optim.clipByNorm(1)) // [0.0089996, 0.99996]: same direction

const chapterOptimizer = optim.rmsprop({ clipNorm: 1, clipValue: 1 })
console.log(
  'rmsprop({ clipNorm: 1, clipValue: 1 }): a chain of',
  chapterOptimizer.init(g).length,
  'transformations',
)

const data = subsetSplits(await loadSplits(args.dataDir), args.subset)
await run({
  name: 'BN model, SGD with clipNorm 1',
  architecture: bnAfter(),
  optimizer: optim.sgd({ learningRate: 0.01, clipNorm: 1 }),
  epochs: args.epochs,
  batchSize: 32,
  key: tensor.key(42),
  data,
})
