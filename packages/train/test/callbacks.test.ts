import { mkdtemp, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  dense,
  initModel,
  loadModel,
  type Model,
  sequential,
  sparseCategoricalCrossentropy,
} from '@purenn/layers'
import { adam, type GradientTransformation, sgd } from '@purenn/optim'
import { key, tensor, tree } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import {
  type AnyCallback,
  type Callback,
  earlyStopping,
  type FitOptions,
  fit,
  learningRateScheduler,
  makeTrainer,
  modelCheckpoint,
  terminateOnNaN,
} from '../src/index.js'
import {
  allFinite,
  blobs,
  concatRows,
  flipped,
  linearModel,
  modelBits,
  type Problem,
  rowsOf,
  textSink,
} from './helpers/problems.js'

/** A callback of our own that keeps the model of every epoch. */
const captureModels = () => {
  const models: Model[] = []
  const callback: Callback<null> = {
    name: 'capture',
    init: () => null,
    onEpochEnd: (state, e) => {
      models.push(e.model)
      return { state }
    },
  }
  return { models, callback }
}

/**
 * An overfitting run: separable training blobs, and validation data with four far-out points
 * whose labels are flipped. As the weights grow, val_loss falls, bottoms out at epoch 3, then
 * rises (0.97 → 1.88, 1.13, 0.91, 0.89, 0.91, 0.95, 0.98, ...).
 */
const overfit = {
  train: blobs(key(30), 32, 4),
  valid: concatRows(blobs(key(31), 16, 4), flipped(blobs(key(32), 4, 6))),
}
const overfitOptions = (callbacks: readonly AnyCallback[], epochs = 12): FitOptions => ({
  loss: 'sparseCategoricalCrossentropy',
  optimizer: sgd({ learningRate: 0.03 }),
  epochs,
  batchSize: 8,
  verbose: 0,
  validationData: [overfit.valid.x, overfit.valid.y],
  key: key(34),
  callbacks,
})
const fitOverfit = (callbacks: readonly AnyCallback[], epochs?: number) =>
  fit(linearModel(key(33)), overfit.train.x, overfit.train.y, overfitOptions(callbacks, epochs))
const argmin = (xs: readonly number[]) => xs.indexOf(Math.min(...xs))

describe('earlyStopping', () => {
  const run = (cb: AnyCallback, values: readonly number[], monitor = 'val_loss') => {
    let s = cb.init()
    const model = linearModel(key(0))
    for (const [epoch, v] of values.entries()) {
      const verdict = cb.onEpochEnd!(s, { epoch, logs: { [monitor]: v }, model }) as {
        state: unknown
        stop?: boolean
        message?: string
      }
      s = verdict.state
      if (verdict.stop === true) return { stoppedAt: epoch, message: verdict.message }
    }
    return { stoppedAt: undefined, message: undefined }
  }

  it('stops after `patience` epochs without improvement, as Keras (wait >= patience)', () => {
    // best at epoch 1; epochs 2 and 3 do not improve
    expect(run(earlyStopping({ patience: 2 }), [1, 0.9, 0.95, 0.96, 0.5])).toEqual({
      stoppedAt: 3,
      message: 'Epoch 4: early stopping',
    })
    expect(run(earlyStopping({ patience: 1 }), [1, 0.9, 0.95, 0.5]).stoppedAt).toBe(2)
    expect(run(earlyStopping(), [1, 0.9, 0.95]).stoppedAt).toBe(2) // patience 0: the first epoch without improvement
    expect(run(earlyStopping({ patience: 2 }), [1, 0.9, 0.95, 0.8, 0.85, 0.7]).stoppedAt).toBeUndefined()
  })

  it('watches the max for accuracies, and counts an improvement only beyond minDelta', () => {
    const accuracy = [0.5, 0.6, 0.55, 0.58]
    expect(
      run(earlyStopping({ monitor: 'val_accuracy', patience: 2 }), accuracy, 'val_accuracy').stoppedAt,
    ).toBe(3)
    // improvements of less than minDelta do not count
    expect(run(earlyStopping({ patience: 2 }), [1, 0.95, 0.92, 0.5]).stoppedAt).toBeUndefined()
    expect(run(earlyStopping({ patience: 2, minDelta: 0.1 }), [1, 0.95, 0.92, 0.5]).stoppedAt).toBe(2)
    expect(run(earlyStopping({ patience: 2, minDelta: 0.1 }), [1, 0.95, 0.85, 0.8, 0.78]).stoppedAt).toBe(4)
    expect(run(earlyStopping({ patience: 1, mode: 'max' }), [1, 0.95, 0.92]).stoppedAt).toBe(1)
  })

  it('names the missing value', () => {
    const cb = earlyStopping({ monitor: 'val_los' })
    expect(() =>
      cb.onEpochEnd!(cb.init(), { epoch: 0, logs: { loss: 1 }, model: linearModel(key(0)) }),
    ).toThrow(/"val_los" is not among the epoch's values \(loss\)/)
  })

  it('in fit: stops `patience` epochs after the best one and restores its model bitwise', async () => {
    const capture = captureModels()
    const { model, history } = await fitOverfit([
      capture.callback,
      earlyStopping({ patience: 2, restoreBestWeights: true }),
    ])
    const valLoss = history.history.val_loss!
    const best = argmin(valLoss)
    expect(best).toBe(3) // the run's val_loss bottoms out in the middle
    expect(history.epoch).toEqual([0, 1, 2, 3, 4, 5])
    expect(valLoss).toHaveLength(best + 3)
    expect(history.stopReason).toBe('Epoch 6: early stopping')
    expect(modelBits(model)).toEqual(modelBits(capture.models[best]!))
    expect(modelBits(model)).not.toEqual(modelBits(capture.models.at(-1)!))
  })

  it('without restoreBestWeights, fit returns the last model', async () => {
    const capture = captureModels()
    const { model } = await fitOverfit([capture.callback, earlyStopping({ patience: 2 })])
    expect(capture.models).toHaveLength(6)
    expect(modelBits(model)).toEqual(modelBits(capture.models.at(-1)!))
  })

  it('prints the stop message when verbose', async () => {
    const sink = textSink()
    await fit(linearModel(key(33)), overfit.train.x, overfit.train.y, {
      ...overfitOptions([earlyStopping({ patience: 2 })]),
      verbose: 2,
      output: sink.stream,
    })
    const lines = (await sink.text()).trimEnd().split('\n')
    expect(lines.at(-1)).toBe('Epoch 6: early stopping')
    expect(lines.filter((l) => l.startsWith('Epoch ') && l.includes('/'))).toHaveLength(6)
  })
})

describe('terminateOnNaN', () => {
  const p = blobs(key(40), 64)
  /** The blobs with a NaN in row 20, the 3rd batch of 8 when not shuffled. */
  const withNaN: Problem = {
    x: tensor(
      Array.from(p.x.data, (v, i) => (i === 40 ? Number.NaN : v)),
      p.x.shape,
    ),
    y: p.y,
  }
  const options = {
    loss: 'sparseCategoricalCrossentropy',
    optimizer: sgd({ learningRate: 0.1 }),
    batchSize: 8,
  } as const

  it('stops at the step whose loss is NaN, naming epoch and step, and returns the last model whose loss was finite', async () => {
    const sink = textSink()
    const model = linearModel(key(41))
    const { model: last, history } = await fit(model, withNaN.x, withNaN.y, {
      ...options,
      epochs: 3,
      shuffle: false,
      output: sink.stream,
    })
    const message = 'Epoch 1, step 3/8: invalid loss (NaN), terminating training'
    expect(history.stopReason).toBe(message)
    expect(history.epoch).toEqual([])
    expect(await sink.text()).toBe(`Epoch 1/3\n${message}\n`)
    expect(allFinite(last.params)).toBe(true)
    expect(history.fault).toBe(true)
    // the model after step 1: the one step 2 computed its (finite) loss with; step 3's loss,
    // computed with the model after step 2, was NaN
    const trainer = makeTrainer({
      loss: sparseCategoricalCrossentropy(),
      metrics: [],
      optimizer: options.optimizer,
    })
    let s = trainer.init(model)
    for (const start of [0]) s = trainer.step(s, rowsOf(withNaN, start, 8), key(0)).state
    expect(modelBits(last)).toEqual(modelBits(s.model))
  })

  it('stops a diverging run (learning rate 1e30) with finite weights', async () => {
    const regression = initModel(sequential([dense({ units: 1 })], { inputShape: [2] }), { key: key(42) })
    const { model, history } = await fit(regression, p.x, p.y, {
      loss: 'meanSquaredError',
      optimizer: sgd({ learningRate: 1e30 }),
      epochs: 5,
      batchSize: 8,
      verbose: 0,
    })
    expect(history.stopReason).toMatch(
      /^Epoch 1, step \d\/8: invalid loss \((NaN|Infinity)\), terminating training$/,
    )
    expect(allFinite(model.params)).toBe(true)
  })

  it('is on by default, and off with terminateOnNaN: false', async () => {
    const off = await fit(linearModel(key(41)), withNaN.x, withNaN.y, {
      ...options,
      epochs: 2,
      verbose: 0,
      terminateOnNaN: false,
    })
    expect(off.history.stopReason).toBeUndefined()
    expect(off.history.epoch).toEqual([0, 1])
    expect(off.history.history.loss!.every(Number.isNaN)).toBe(true)
    // given explicitly, it is not added twice
    const twice = await fit(linearModel(key(41)), withNaN.x, withNaN.y, {
      ...options,
      shuffle: false,
      verbose: 0,
      callbacks: [terminateOnNaN()],
    })
    expect(twice.history.stopReason).toMatch(/^Epoch 1, step 3\/8/)
  })
})

describe('learningRateScheduler', () => {
  const p = blobs(key(50), 48)
  const run = (
    model: Model,
    callbacks: readonly AnyCallback[] | undefined,
    optimizer: GradientTransformation<unknown> = sgd({ learningRate: 0.1 }),
    epochs = 2,
  ) =>
    fit(model, p.x, p.y, {
      loss: 'sparseCategoricalCrossentropy',
      optimizer,
      epochs,
      batchSize: 8,
      verbose: 0,
      key: key(51),
      ...(callbacks === undefined ? {} : { callbacks }),
    })

  it('factor 0 leaves the params unchanged (sgd and adam)', async () => {
    const model = linearModel(key(52))
    for (const optimizer of [sgd({ learningRate: 0.1 }), adam({ learningRate: 0.1 })]) {
      const { model: trained } = await run(model, [learningRateScheduler(() => 0)], optimizer)
      expect(modelBits(trained)).toEqual(modelBits(model))
    }
  })

  it('factor 1 is bitwise the same as no scheduler', async () => {
    const model = linearModel(key(52))
    const a = await run(model, [learningRateScheduler(() => 1)], adam({ learningRate: 0.1 }))
    const b = await run(model, undefined, adam({ learningRate: 0.1 }))
    expect(modelBits(a.model)).toEqual(modelBits(b.model))
    expect(a.history).toEqual(b.history)
  })

  it('applies per epoch: factor 0 from epoch 1 on keeps the model of epoch 0', async () => {
    const model = linearModel(key(52))
    const a = await run(model, [learningRateScheduler((e) => (e === 0 ? 1 : 0))], undefined, 3)
    const b = await run(model, undefined, undefined, 1)
    expect(modelBits(a.model)).toEqual(modelBits(b.model))
  })

  it('factor f equals the learning rate times f (sgd, within float32 rounding)', async () => {
    const model = linearModel(key(52))
    const a = await run(model, [learningRateScheduler(() => 0.25)], sgd({ learningRate: 0.2 }))
    const b = await run(model, undefined, sgd({ learningRate: 0.05 }))
    const [wa, wb] = [a, b].map((r) => tree.leaves(r.model.params).flatMap((t) => Array.from(t.data)))
    for (const [i, v] of wa!.entries()) expect(v).toBeCloseTo(wb![i]!, 5)
  })
})

describe('modelCheckpoint', () => {
  it('writes a loadable model after every epoch, `{epoch}` in the path counting from 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'purenn-train-'))
    const capture = captureModels()
    await fitOverfit([capture.callback, modelCheckpoint(join(dir, 'model-{epoch}'))], 3)
    expect((await readdir(dir)).sort()).toEqual(['model-1', 'model-2', 'model-3'])
    for (const [i, m] of capture.models.entries()) {
      const loaded = await loadModel(join(dir, `model-${i + 1}`))
      expect(modelBits(loaded)).toEqual(modelBits(m))
      expect(loaded.trainable).toEqual(m.trainable)
    }
  })

  it('with saveBestOnly, saves only the epochs that improve the monitored value', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'purenn-train-'))
    const capture = captureModels()
    const { history } = await fitOverfit(
      [capture.callback, modelCheckpoint(join(dir, 'model-{epoch}'), { saveBestOnly: true })],
      8,
    )
    const valLoss = history.history.val_loss!
    const improving = valLoss.flatMap((v, i) => (v < Math.min(...valLoss.slice(0, i)) ? [i] : []))
    expect(improving).toEqual([0, 1, 2, 3])
    expect((await readdir(dir)).sort()).toEqual(improving.map((i) => `model-${i + 1}`))
  })

  it('with saveBestOnly and one path, what is left is the best model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'purenn-train-'))
    const capture = captureModels()
    const { history } = await fitOverfit(
      [capture.callback, modelCheckpoint(join(dir, 'best'), { saveBestOnly: true })],
      8,
    )
    const loaded = await loadModel(join(dir, 'best'))
    expect(modelBits(loaded)).toEqual(modelBits(capture.models[argmin(history.history.val_loss!)]!))
  })

  it('names a missing monitored value', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'purenn-train-'))
    const p = blobs(key(1), 8)
    await expect(
      fit(linearModel(key(0)), p.x, p.y, {
        loss: 'sparseCategoricalCrossentropy',
        optimizer: sgd(),
        verbose: 0,
        callbacks: [modelCheckpoint(join(dir, 'm'), { saveBestOnly: true })],
      }),
    ).rejects.toThrow(/modelCheckpoint: "val_loss" is not among the epoch's values \(loss\)/)
  })
})
