/**
 * Batch normalization after the activation and before it: the chapter's two BN models, trained with SGD.
 *
 * Their summaries (parameter counts: 271,346 and 267,810), and two epochs of SGD each.
 *
 * Run: pnpm example batch-normalization [--epochs 2] [--subset N] [--data-dir DIR]
 */
import { layers, optim, tensor } from 'purenn'
import { bnAfter, bnBefore, loadSplits } from './lib/chapter.js'
import { exampleArgs, subsetSplits } from './lib/flags.js'
import { run } from './lib/run.js'

const args = exampleArgs({
  name: 'batch-normalization',
  epochs: { default: 2 },
  subset: { what: 'training images', max: 55_000 },
  dataDir: true,
})
const data = subsetSplits(await loadSplits(args.dataDir), args.subset)
for (const [name, build] of [
  ['BN after the activation', bnAfter],
  ['BN before the activation', bnBefore],
] as const) {
  console.log(`\n== ${name}`)
  await run({
    name,
    architecture: build(),
    optimizer: optim.sgd({ learningRate: 0.01 }),
    epochs: args.epochs,
    batchSize: 32,
    key: tensor.key(42),
    data,
  })
}
// the moving statistics are state, not params: they come back from `apply` in training mode
const m = layers.initModel(bnAfter(), { key: tensor.key(0) })
console.log('\nstate of the first BN layer:', Object.keys(m.state.batch_normalization))
