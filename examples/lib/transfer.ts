/**
 * The chapter's transfer-learning experiment. Task A: the 8 classes other than T-shirt/top
 * and Pullover. Task B: Pullover (1) vs T-shirt/top (0), with only 200 training images.
 * Model B on A reuses all of model A but its output layer, with a new sigmoid output; the
 * reused layers are frozen for 4 epochs, then unfrozen for 16 (SGD, learning rate 1e-3).
 * `epochs` (default the chapter's 20) sets model A's and model B's epochs; model B on A is
 * frozen for a fifth of them (at least 1) and unfrozen for the rest (at least 1).
 */
import { data, layers, optim, tensor, train } from 'purenn'
import { type Split, transferModelA } from './chapter.js'

export interface TransferResult {
  readonly modelA: { readonly testAccuracy: number }
  readonly bFromScratch: { readonly testAccuracy: number }
  readonly bOnA: { readonly testAccuracy: number }
}

const split = (s: Split) => ({ x: s.x, y: s.y })

export const transferExperiment = async (
  d: { readonly train: Split; readonly valid: Split; readonly test: Split },
  opts: { readonly key: tensor.Key; readonly epochs?: number; readonly verbose?: 0 | 1 | 2 },
): Promise<TransferResult> => {
  const verbose = opts.verbose ?? 2
  const epochs = opts.epochs ?? 20
  const frozenEpochs = Math.max(1, Math.round(epochs / 5))
  const unfrozenEpochs = Math.max(1, epochs - frozenEpochs)
  const [kA, kFitA, kB, kFitB, kNew, kFit1, kFit2] = tensor.split(opts.key, 7) as tensor.Key[]
  const tasks = {
    train: data.splitTransferTasks(split(d.train)),
    valid: data.splitTransferTasks(split(d.valid)),
    test: data.splitTransferTasks(split(d.test)),
  }
  const bTrain = data.take(tasks.train.b, 200)
  const sgd = () => optim.sgd({ learningRate: 1e-3 })
  const bce = 'binaryCrossentropy' as const

  // model A: 8 classes, all the data of task A
  console.log('== model A (8 classes)')
  let modelA: layers.Model = layers.initModel(transferModelA(), { key: kA! })
  ;({ model: modelA } = await train.fit(modelA, tasks.train.a.x, tasks.train.a.y, {
    loss: 'sparseCategoricalCrossentropy',
    optimizer: sgd(),
    metrics: ['accuracy'],
    epochs,
    validationData: [tasks.valid.a.x, tasks.valid.a.y],
    key: kFitA!,
    verbose,
  }))
  const accA = train.evaluate(modelA, tasks.test.a.x, tasks.test.a.y, {
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  })

  // model B from scratch: same architecture, sigmoid output, 200 images, 20 epochs
  console.log(`== model B from scratch (${bTrain.x.shape[0]} images)`)
  const archB = layers.sequential(
    [...layers.popLayer(modelA).layer.layers, layers.dense({ units: 1, activation: 'sigmoid' })],
    {
      inputShape: [28, 28],
    },
  )
  const scratch = await train.fit(layers.initModel(archB, { key: kB! }), bTrain.x, bTrain.y, {
    loss: bce,
    optimizer: sgd(),
    metrics: ['accuracy'],
    epochs,
    validationData: [tasks.valid.b.x, tasks.valid.b.y],
    key: kFitB!,
    verbose,
  })
  const accScratch = train.evaluate(scratch.model, tasks.test.b.x, tasks.test.b.y, {
    loss: bce,
    metrics: ['accuracy'],
  })

  // model B on A: all of A but its output layer, a new output layer, reused layers frozen first
  console.log(`== model B on A: reused layers frozen for ${frozenEpochs} epochs`)
  const reused = layers.popLayer(modelA)
  const bOnA = layers.append(reused, layers.dense({ units: 1, activation: 'sigmoid' }), { key: kNew! })
  const frozen = layers.freeze(bOnA, reused.layer.names)
  const phase1 = await train.fit(frozen, bTrain.x, bTrain.y, {
    loss: bce,
    optimizer: sgd(),
    metrics: ['accuracy'],
    epochs: frozenEpochs,
    validationData: [tasks.valid.b.x, tasks.valid.b.y],
    key: kFit1!,
    verbose,
  })
  console.log(`== model B on A: unfrozen for ${unfrozenEpochs} epochs`)
  const phase2 = await train.fit(layers.unfreeze(phase1.model), bTrain.x, bTrain.y, {
    loss: bce,
    optimizer: sgd(),
    metrics: ['accuracy'],
    epochs: unfrozenEpochs,
    validationData: [tasks.valid.b.x, tasks.valid.b.y],
    key: kFit2!,
    verbose,
  })
  const accBOnA = train.evaluate(phase2.model, tasks.test.b.x, tasks.test.b.y, {
    loss: bce,
    metrics: ['accuracy'],
  })
  const result = {
    modelA: { testAccuracy: accA.accuracy! },
    bFromScratch: { testAccuracy: accScratch.accuracy! },
    bOnA: { testAccuracy: accBOnA.accuracy! },
  }
  console.log(
    `model A test accuracy ${result.modelA.testAccuracy.toFixed(4)}; model B from scratch ${result.bFromScratch.testAccuracy.toFixed(4)}; model B on A ${result.bOnA.testAccuracy.toFixed(4)}`,
  )
  // model A is a value: nothing done to model B changed it
  return result
}
