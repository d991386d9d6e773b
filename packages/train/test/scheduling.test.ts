import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Model } from '@purenn/layers'
import { chain, exponentialDecay, scaleByLearningRate, sgd } from '@purenn/optim'
import { key } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import {
  type BatchBegin,
  type Callback,
  csvLogger,
  findLearningRate,
  fit,
  learningRateScheduler,
  reduceLROnPlateau,
} from '../src/index.js'
import { blobs, linearModel, modelBits } from './helpers/problems.js'

const quiet = { loss: 'sparseCategoricalCrossentropy', verbose: 0 } as const
const p = blobs(key(1), 32)
const noModel = {} as Model

/** Runs reduceLROnPlateau's epoch hook on a sequence of monitored values; the factors after each. */
const factors = async (cb: ReturnType<typeof reduceLROnPlateau>, values: readonly number[], lr?: number) => {
  let s = cb.init()
  const out: number[] = []
  for (const [epoch, v] of values.entries()) {
    s = (
      await cb.onEpochEnd!(s, {
        epoch,
        logs: { val_loss: v },
        model: noModel,
        ...(lr === undefined ? {} : { learningRate: lr * s.factor }),
      })
    ).state
    out.push(s.factor)
  }
  return out
}

describe('learning rate in the history', () => {
  it('records the rate of each epoch: a constant, a schedule at the last step, times the factors', async () => {
    const constant = await fit(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: sgd({ learningRate: 0.1 }),
      epochs: 2,
      batchSize: 8,
    })
    expect(constant.history.learningRate).toEqual([0.1, 0.1])
    // 4 steps per epoch: the last step of epoch e is step 4e + 3 (0-based)
    const lr = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5 })
    const scheduled = await fit(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: sgd({ learningRate: lr }),
      epochs: 2,
      batchSize: 8,
      callbacks: [learningRateScheduler((e) => (e === 0 ? 1 : 3))],
    })
    expect(scheduled.history.learningRate).toEqual([lr(3), 3 * lr(7)])
    expect(Object.keys(scheduled.history.history)).toEqual(['loss'])
  })

  it('is absent for a hand-built chain, whose rate fit cannot know', async () => {
    const r = await fit(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: chain(scaleByLearningRate(0.1)),
      epochs: 1,
    })
    expect(r.history.learningRate).toBeUndefined()
  })

  it("accepts an optimizer by name: 'sgd' trains exactly as sgd()", async () => {
    const a = await fit(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: 'sgd',
      epochs: 1,
      batchSize: 8,
    })
    const b = await fit(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: sgd(),
      epochs: 1,
      batchSize: 8,
    })
    expect(modelBits(a.model)).toEqual(modelBits(b.model))
    expect(a.history.learningRate).toEqual([0.01])
  })
})

describe('callbacks set the learning rate per batch (learningRateFactorAt)', () => {
  it('sees epoch, step and iteration; its factor scales that step, as a different learning rate would', async () => {
    const seen: BatchBegin[] = []
    const half: Callback<null> = {
      name: 'half',
      init: () => null,
      learningRateFactorAt: (_s, b) => {
        seen.push(b)
        return 0.5
      },
    }
    const a = await fit(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: sgd({ learningRate: 0.2 }),
      epochs: 2,
      batchSize: 16,
      callbacks: [half],
    })
    const b = await fit(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: sgd({ learningRate: 0.1 }),
      epochs: 2,
      batchSize: 16,
    })
    expect(modelBits(a.model)).toEqual(modelBits(b.model))
    expect(seen.map((s) => [s.epoch, s.step, s.iteration])).toEqual([
      [0, 1, 0],
      [0, 2, 1],
      [1, 1, 2],
      [1, 2, 3],
    ])
    expect(a.history.learningRate).toEqual([0.1, 0.1])
  })
})

describe('reduceLROnPlateau (Keras ReduceLROnPlateau)', () => {
  it('Keras defaults: val_loss, factor 0.1, patience 10, minDelta 1e-4', async () => {
    const f = await factors(reduceLROnPlateau(), [1, ...Array(10).fill(1)])
    expect(f.slice(0, 10).every((v) => v === 1)).toBe(true)
    expect(f[10]).toBeCloseTo(0.1, 12)
    // an improvement smaller than minDelta does not count
    const g = await factors(reduceLROnPlateau({ patience: 1 }), [1, 1 - 5e-5])
    expect(g[1]).toBeCloseTo(0.1, 12)
  })

  it('reduces after `patience` epochs without improvement, then waits again; cooldown delays the count', async () => {
    expect(await factors(reduceLROnPlateau({ factor: 0.5, patience: 2 }), [1, 2, 2, 2, 2, 0.5, 3])).toEqual([
      1, 1, 0.5, 0.5, 0.25, 0.25, 0.25,
    ])
    expect(
      await factors(reduceLROnPlateau({ factor: 0.5, patience: 1, cooldown: 2 }), [1, 2, 2, 2, 2]),
    ).toEqual([1, 0.5, 0.5, 0.5, 0.25])
  })

  it('never goes below minLr (given the learning rate), and stops reducing there', async () => {
    // lr 0.1, factor 0.1, minLr 0.005: 0.1 → 0.01 → 0.005 → 0.005
    const f = await factors(reduceLROnPlateau({ patience: 1, minLr: 0.005 }), [1, 2, 2, 2], 0.1)
    expect(f.map((v) => +(0.1 * v).toFixed(10))).toEqual([0.1, 0.01, 0.005, 0.005])
    await expect(factors(reduceLROnPlateau({ patience: 1, minLr: 0.005 }), [1, 2])).rejects.toThrow(
      'minLr needs the learning rate',
    )
  })

  it('in fit, the next epochs train with the reduced rate and the history shows it', async () => {
    const r = await fit(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: sgd({ learningRate: 0.1 }),
      epochs: 4,
      batchSize: 8,
      // a loss that cannot improve by 10 in an epoch
      callbacks: [reduceLROnPlateau({ monitor: 'loss', factor: 0.5, patience: 1, minDelta: 10 })],
    })
    // epoch 0 sets the best value; each later epoch fails to improve by 10 and halves the rate
    // for the epochs after it
    expect(r.history.learningRate).toEqual([0.1, 0.1, 0.05, 0.025])
  })

  it('rejects bad options and a missing monitor', async () => {
    expect(() => reduceLROnPlateau({ factor: 1 })).toThrow('factor must be in (0, 1)')
    const cb = reduceLROnPlateau()
    await expect(async () =>
      cb.onEpochEnd!(cb.init(), { epoch: 0, logs: { loss: 1 }, model: noModel }),
    ).rejects.toThrow('"val_loss" is not among the epoch\'s values (loss)')
  })
})

describe('csvLogger (Keras CSVLogger)', () => {
  it('writes epoch and the sorted values, one row per epoch, with the learning rate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'purenn-csv-'))
    const path = join(dir, 'sub', 'log.csv')
    const r = await fit(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      metrics: ['accuracy'],
      optimizer: sgd({ learningRate: 0.1 }),
      epochs: 2,
      validationData: [p.x, p.y],
      callbacks: [csvLogger(path)],
    })
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n')
    expect(lines[0]).toBe('epoch,accuracy,learning_rate,loss,val_accuracy,val_loss')
    expect(lines).toHaveLength(3)
    const row = lines[2]!.split(',').map(Number)
    const h = r.history.history
    expect(row).toEqual([1, h.accuracy![1], 0.1, h.loss![1], h.val_accuracy![1], h.val_loss![1]])
    // append: no second header
    await fit(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: sgd(),
      epochs: 1,
      callbacks: [csvLogger(path, { append: true, separator: ';' })],
    })
    const again = (await readFile(path, 'utf8')).trimEnd().split('\n')
    expect(again).toHaveLength(5)
    expect(again[3]).toBe('epoch;learning_rate;loss')
  })
})

describe('findLearningRate (the chapter’s exponential learning-rate finder)', () => {
  it('grows the rate geometrically from lr·minFactor to lr·maxFactor over one epoch, one loss per step', async () => {
    const sweep = await findLearningRate(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: sgd({ learningRate: 1 }),
      batchSize: 4,
      minFactor: 1e-3,
      maxFactor: 1e-1,
    })
    expect(sweep.losses).toHaveLength(8)
    sweep.learningRates.forEach((lr, i) => {
      expect(lr).toBeCloseTo(1e-3 * 100 ** (i / 7), 12)
    })
  })

  it('stops when the loss explodes', async () => {
    const sweep = await findLearningRate(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: sgd({ learningRate: 1 }),
      batchSize: 1,
      minFactor: 1,
      maxFactor: 1e6,
    })
    expect(sweep.losses.length).toBeLessThan(32)
    const last = sweep.losses.at(-1)!
    expect(!Number.isFinite(last) || last > 4 * Math.min(...sweep.losses)).toBe(true)
  })
})
