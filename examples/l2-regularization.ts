/**
 * l2 regularization: the chapter's RegularizedDense factory by partial application, trained with SGD.
 *
 * The factory is the chapter's `RegularizedDense = partial(Dense, activation="relu",
 * kernel_initializer="he_normal", kernel_regularizer=l2(0.01))`; the model is trained for two
 * epochs with SGD (learning rate 0.02).
 *
 * Run: pnpm example l2-regularization [--epochs 2] [--subset N] [--data-dir DIR]
 */
import { layers, optim, tensor } from 'purenn'
import { l2Model, loadSplits, regularizedDense } from './lib/chapter.js'
import { exampleArgs, subsetSplits } from './lib/flags.js'
import { run } from './lib/run.js'

const args = exampleArgs({
  name: 'l2-regularization',
  epochs: { default: 2 },
  subset: { what: 'training images', max: 55_000 },
  dataDir: true,
})

// the factory is a plain function: defaults first, the caller's options override them
console.log('regularizedDense({ units: 10, activation: "softmax" }).config:')
console.log(JSON.stringify(regularizedDense({ units: 10, activation: 'softmax' }).config))

const model = layers.initModel(l2Model(), { key: tensor.key(42) })
// Keras' l2 is c·Σw² (no ½): the penalty added to the loss of every batch
const penalty = model.layer.penalty?.(model.params).item() ?? 0
console.log(`initial penalty ${penalty.toFixed(4)} = 0.01 · Σ w² over the three kernels`)

const data = subsetSplits(await loadSplits(args.dataDir), args.subset)
await run({
  name: 'l2 model',
  architecture: l2Model(),
  optimizer: optim.sgd({ learningRate: 0.02 }),
  epochs: args.epochs,
  batchSize: 32,
  key: tensor.key(42),
  data,
})
