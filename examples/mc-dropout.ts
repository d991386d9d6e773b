/**
 * Monte Carlo dropout: the dropout model's predictions averaged over 100 stochastic passes.
 *
 * Train the dropout model, then average 100 stochastic predictions (dropout on, batch norm on its moving statistics), as the chapter's last cells: the mean
 * and standard deviation of the class probabilities of the first test image, and the
 * accuracy of the averaged predictions. `withMcDropout` turns the trained model's dropout
 * layers into MC-dropout layers, keeping every weight.
 *
 * Run: pnpm example mc-dropout [--epochs 10] [--subset N] [--data-dir DIR]
 */
import { layers, optim, tensor, train } from 'purenn'
import { dropoutModel, loadSplits } from './lib/chapter.js'
import { exampleArgs, subsetSplits } from './lib/flags.js'
import { run } from './lib/run.js'

const args = exampleArgs({
  name: 'mc-dropout',
  epochs: { default: 10 },
  subset: { what: 'training images', max: 55_000 },
  dataDir: true,
})
const data = subsetSplits(await loadSplits(args.dataDir), args.subset)
const [runKey, mcKey, onceKey] = tensor.split(tensor.key(42), 3) as [tensor.Key, tensor.Key, tensor.Key]
const { model, test } = await run({
  name: 'dropout model',
  architecture: dropoutModel(),
  optimizer: optim.sgd({ learningRate: 0.01, momentum: 0.9 }),
  epochs: args.epochs,
  batchSize: 32,
  key: runKey,
  data,
  verbose: 2,
})
const { mean, std } = train.mcPredict(model, data.test.x, { samples: 100, key: mcKey })
const firstRow = (t: tensor.Tensor) => Array.from(t.data.subarray(0, 10), (v) => v.toFixed(2)).join(' ')
console.log(`first test image (label ${data.classNames[data.test.y.data[0]!]}):`)
console.log(`  plain predict   ${firstRow(train.predict(model, train.rows(data.test.x, 0, 1)))}`)
console.log(`  MC mean         ${firstRow(mean)}`)
console.log(`  MC std          ${firstRow(std)}`)
const accuracy = tensor.mean(tensor.equal(tensor.argmax(mean), data.test.y)).item()
console.log(`accuracy: plain ${test.accuracy!.toFixed(4)}, MC dropout ${accuracy.toFixed(4)}`)

// the same, with the chapter's MCDropout layers: always stochastic, even with training false,
// so a prediction needs a key
const mcModel = layers.withMcDropout(model)
const once = train.predict(mcModel, train.rows(data.test.x, 0, 1), { key: onceKey })
console.log(`one prediction of the MCDropout model: ${firstRow(once)}`)
