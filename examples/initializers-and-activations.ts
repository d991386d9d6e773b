/**
 * Initializers and activations: Glorot, He and LeCun against their formulas, then He + Leaky ReLU trained.
 *
 * 1. Glorot, He and LeCun initializers: the standard deviation of the drawn weights against
 *    the formula, for a 784×300 kernel.
 * 2. The activations, on a few inputs; the leakyRelu 0.2-vs-0.3 trap.
 * 3. He-initialized dense layers with Leaky ReLU, trained for one epoch on Fashion-MNIST.
 *
 * Run: pnpm example initializers-and-activations [--epochs 1] [--subset N] [--data-dir DIR]
 */
import { layers, optim, tensor, train } from 'purenn'
import { leakyReluModel, loadSplits } from './lib/chapter.js'
import { exampleArgs, subsetSplits } from './lib/flags.js'

const args = exampleArgs({
  name: 'initializers-and-activations',
  epochs: { default: 1 },
  subset: { what: 'training images', max: 55_000 },
  dataDir: true,
})
const { initializers, activations } = layers
const fanIn = 784
const fanOut = 300
const std = (t: tensor.Tensor) => Math.sqrt(tensor.variance(t).item())
const k = tensor.key(42)

console.log(`${'initializer'.padEnd(36)} sample std   formula`)
const rows: [string, layers.Initializer, number][] = [
  ['glorotUniform', initializers.glorotUniform, Math.sqrt(2 / (fanIn + fanOut))],
  ['glorotNormal', initializers.glorotNormal, Math.sqrt(2 / (fanIn + fanOut))],
  ['heNormal', initializers.heNormal, Math.sqrt(2 / fanIn)],
  ['heUniform', initializers.heUniform, Math.sqrt(2 / fanIn)],
  ['lecunNormal', initializers.lecunNormal, Math.sqrt(1 / fanIn)],
  [
    'varianceScaling(2, fanAvg, uniform)',
    initializers.varianceScaling({ scale: 2, mode: 'fanAvg', distribution: 'uniform' }),
    Math.sqrt(2 / ((fanIn + fanOut) / 2)),
  ],
]
for (const [name, init, formula] of rows)
  console.log(
    `${name.padEnd(36)} ${std(init.init(k, [fanIn, fanOut]))
      .toFixed(5)
      .padStart(10)} ${formula.toFixed(5).padStart(9)}`,
  )

const z = tensor.tensor([-3, -1, 0, 1, 3])
console.log('\nz                     ', z.toString())
for (const [name, a] of [
  ['relu', activations.relu],
  ['leakyRelu() (0.2)', activations.leakyRelu()],
  ['elu', activations.elu()],
  ['selu', activations.selu],
  ['gelu', activations.gelu],
  ['swish', activations.swish],
] as const)
  console.log(name.padEnd(22), a.fn(z).toString())
const layer = layers.leakyRelu() // the layer's default alpha is 0.3, not 0.2
console.log('leakyRelu layer (0.3) ', layer.apply({}, {}, z, { training: false }).y.toString())

console.log('\nHe initialization + Leaky ReLU (alpha 0.2), SGD (learning rate 0.01):')
const data = subsetSplits(await loadSplits(args.dataDir), args.subset)
const model = layers.initModel(leakyReluModel(), { key: k })
const { model: trained } = await train.fit(model, data.train.x, data.train.y, {
  loss: 'sparseCategoricalCrossentropy',
  optimizer: optim.sgd({ learningRate: 0.01 }),
  metrics: ['accuracy'],
  epochs: args.epochs,
  validationData: [data.valid.x, data.valid.y],
  key: k,
})
const test = train.evaluate(trained, data.test.x, data.test.y, {
  loss: 'sparseCategoricalCrossentropy',
  metrics: ['accuracy'],
})
console.log(`test accuracy ${test.accuracy!.toFixed(4)}`)
