/**
 * One training run of the chapter: build the model, print its summary, fit with validation
 * data, evaluate on the test set, and write curves, history and model to a directory.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { layers, optim, tensor, train } from 'purenn'
import type { RowsSplit, Split } from './chapter.js'
import type { OptimizerName } from './cli.js'

export interface OptimizerChoice {
  readonly optimizer: OptimizerName
  readonly learningRate: number
  readonly clipNorm?: number
  readonly clipValue?: number
}

/** The optimizer named on the command line, with Keras' defaults for what is not given. */
export const makeOptimizer = (c: OptimizerChoice): optim.GradientTransformation<unknown> => {
  const clip = {
    ...(c.clipNorm === undefined ? {} : { clipNorm: c.clipNorm }),
    ...(c.clipValue === undefined ? {} : { clipValue: c.clipValue }),
  }
  const learningRate = c.learningRate
  switch (c.optimizer) {
    case 'sgd':
      return optim.sgd({ learningRate, ...clip })
    case 'momentum':
      return optim.sgd({ learningRate, momentum: 0.9, ...clip })
    case 'nesterov':
      return optim.sgd({ learningRate, momentum: 0.9, nesterov: true, ...clip })
    case 'rmsprop':
      return optim.rmsprop({ learningRate, ...clip })
    case 'adam':
      return optim.adam({ learningRate, ...clip })
    case 'adamw':
      return optim.adamw({ learningRate, ...clip })
    case 'nadam':
      return optim.nadam({ learningRate, ...clip })
    case 'adagrad':
      return optim.adagrad({ learningRate, ...clip })
  }
}

export interface RunOptions {
  readonly name: string
  readonly architecture: layers.AnyLayer
  readonly optimizer: optim.GradientTransformation<unknown>
  readonly loss?: layers.LossName
  readonly epochs: number
  readonly batchSize: number
  readonly key: tensor.Key
  readonly data: { readonly train: RowsSplit; readonly valid: RowsSplit; readonly test: Split }
  readonly out?: string
  readonly verbose?: 0 | 1 | 2
  /** A checkpoint folder written after each epoch and every 500 steps (see `fit`'s `checkpoint`). */
  readonly checkpoint?: string
  /** A checkpoint folder to continue from (see `fit`'s `resumeFrom`). */
  readonly resumeFrom?: string
}

export interface RunResult {
  readonly model: layers.Model
  readonly history: train.History
  readonly test: Record<string, number>
}

/** Wall-clock seconds of each epoch (training and validation), kept in the callback's state. */
const epochTimes = (): train.Callback<{ readonly last: number; readonly seconds: readonly number[] }> => ({
  name: 'epochTimes',
  init: () => ({ last: performance.now(), seconds: [] }),
  onEpochEnd: (s) => {
    const now = performance.now()
    return { state: { last: now, seconds: [...s.seconds, (now - s.last) / 1000] } }
  },
  reportState: true,
})

/** Trains, evaluates, prints, and writes the results when `out` is given. */
export const run = async (o: RunOptions): Promise<RunResult> => {
  const [initKey, fitKey] = tensor.split(o.key, 2) as [tensor.Key, tensor.Key]
  const model = layers.initModel(o.architecture, { key: initKey })
  const verbose = o.verbose ?? 1
  if (verbose > 0) console.log(layers.summary(model))
  const loss = o.loss ?? 'sparseCategoricalCrossentropy'
  const { model: trained, history } = await train.fit(model, o.data.train.x, o.data.train.y, {
    loss,
    optimizer: o.optimizer,
    metrics: ['accuracy'],
    epochs: o.epochs,
    batchSize: o.batchSize,
    validationData: [o.data.valid.x, o.data.valid.y],
    key: fitKey,
    verbose,
    // a diverging loss (a learning rate far too large) stops the run as a fault
    callbacks: [train.divergenceGuard(), epochTimes() as train.AnyCallback],
    ...(o.checkpoint === undefined ? {} : { checkpoint: { dir: o.checkpoint, everySteps: 500 } }),
    ...(o.resumeFrom === undefined ? {} : { resumeFrom: o.resumeFrom }),
  })
  const times = history.callbackStates?.epochTimes as { seconds: readonly number[] } | undefined
  if (verbose > 0 && times !== undefined && times.seconds.length > 0)
    console.log(
      `epoch times (training and validation): ${times.seconds.map((t) => `${t.toFixed(1)} s`).join(', ')}` +
        ` on the ${tensor.getKernels()} kernels, ${tensor.getThreads()} thread${tensor.getThreads() === 1 ? '' : 's'}`,
    )
  const test = train.evaluate(trained, o.data.test.x, o.data.test.y, { loss, metrics: ['accuracy'] })
  if (verbose > 0)
    console.log(`${o.name}: test loss ${test.loss!.toFixed(4)} - test accuracy ${test.accuracy!.toFixed(4)}`)
  if (o.out !== undefined) await writeResults(o.out, trained, history, test)
  return { model: trained, history, test }
}

/** learning-curves.svg, history.json, test.json and model/ (model.json + weights.bin). */
export const writeResults = async (
  dir: string,
  model: layers.Model,
  history: train.History,
  test: Record<string, number>,
): Promise<void> => {
  await mkdir(dir, { recursive: true })
  await train.saveLearningCurves(history, join(dir, 'learning-curves.svg'))
  await writeFile(join(dir, 'history.json'), `${JSON.stringify(history, null, 2)}\n`)
  await writeFile(join(dir, 'test.json'), `${JSON.stringify(test, null, 2)}\n`)
  await layers.saveModel(model, join(dir, 'model'))
  console.log(`wrote ${dir}/: learning-curves.svg, history.json, test.json, model/`)
}
