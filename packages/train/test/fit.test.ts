import { freeze, getLoss, type Model } from '@purenn/layers'
import { adam, adamw, type GradientTransformation, sgd } from '@purenn/optim'
import { foldIn, key, tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type BatchEnd, type Callback, evaluate, fit, makeTrainer } from '../src/index.js'
import {
  blobs,
  bnModel,
  concatRows,
  dropoutModel,
  flipped,
  linearModel,
  modelBits,
  rowsOf,
} from './helpers/problems.js'

const loss = 'sparseCategoricalCrossentropy'
const quiet = { loss, metrics: ['accuracy'], verbose: 0 } as const

describe('fit', () => {
  const p = blobs(key(1), 64)

  it('reduces the loss on two Gaussian blobs', async () => {
    const model = bnModel(key(2))
    const before = evaluate(model, p.x, p.y, { loss, metrics: ['accuracy'] })
    const { model: trained, history } = await fit(model, p.x, p.y, {
      ...quiet,
      optimizer: sgd({ learningRate: 0.1 }),
      epochs: 5,
      batchSize: 8,
    })
    const after = evaluate(trained, p.x, p.y, { loss, metrics: ['accuracy'] })
    const losses = history.history.loss!
    expect(losses.at(-1)!).toBeLessThan(losses[0]!)
    expect(after.loss!).toBeLessThan(before.loss! / 2)
    expect(after.accuracy!).toBeGreaterThan(0.9)
  })

  it('records loss and metrics per epoch, then val_loss and val_<metric> with validation data', async () => {
    const valid = blobs(key(3), 16)
    const { history } = await fit(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: sgd({ learningRate: 0.1 }),
      epochs: 3,
      batchSize: 16,
      validationData: [valid.x, valid.y],
    })
    expect(Object.keys(history.history)).toEqual(['loss', 'accuracy', 'val_loss', 'val_accuracy'])
    for (const values of Object.values(history.history)) expect(values).toHaveLength(3)
    expect(history.epoch).toEqual([0, 1, 2])
    expect(history.stopReason).toBeUndefined()

    const plain = await fit(linearModel(key(2)), p.x, p.y, { loss, verbose: 0, optimizer: sgd(), epochs: 2 })
    expect(Object.keys(plain.history.history)).toEqual(['loss'])
    expect(plain.history.history.loss).toHaveLength(2)
  })

  it('validates on validationData in inference mode: val_* of the last epoch = evaluate of the model returned', async () => {
    const valid = blobs(key(3), 20)
    const { model, history } = await fit(bnModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: sgd({ learningRate: 0.1 }),
      epochs: 2,
      batchSize: 8,
      validationData: [valid.x, valid.y],
    })
    const e = evaluate(model, valid.x, valid.y, { loss, metrics: ['accuracy'], batchSize: 8 })
    expect(history.history.val_loss!.at(-1)).toBe(e.loss)
    expect(history.history.val_accuracy!.at(-1)).toBe(e.accuracy)
  })

  it('validationSplit validates on the LAST rows, split before shuffling (as Keras)', async () => {
    // the last quarter has its labels flipped: validating on it gives a high loss
    const good = blobs(key(4), 48)
    const bad = flipped(blobs(key(5), 16))
    const all = concatRows(good, bad)
    const opts = { ...quiet, optimizer: sgd({ learningRate: 0.1 }), epochs: 2, batchSize: 8, key: key(6) }
    const split = await fit(linearModel(key(2)), all.x, all.y, { ...opts, validationSplit: 0.25 })
    const explicit = await fit(linearModel(key(2)), good.x, good.y, {
      ...opts,
      validationData: [bad.x, bad.y],
    })
    // the same training rows in the same order, the same validation rows: bitwise the same run
    expect(modelBits(split.model)).toEqual(modelBits(explicit.model))
    expect(split.history).toEqual(explicit.history)
    const onLast = evaluate(split.model, bad.x, bad.y, { loss, metrics: ['accuracy'], batchSize: 8 })
    const onFirst = evaluate(split.model, good.x, good.y, { loss, metrics: ['accuracy'], batchSize: 8 })
    expect(split.history.history.val_loss!.at(-1)).toBe(onLast.loss)
    expect(onLast.accuracy!).toBeLessThan(0.2)
    expect(onFirst.accuracy!).toBeGreaterThan(0.8)
  })

  it("validationSplit keeps floor(n·(1 − s)) rows for training, as Keras' split_at", async () => {
    // 10 rows, 0.25: Keras trains on int(floor(10 · 0.75)) = 7 rows and validates on 3
    const d = blobs(key(7), 10)
    const opts = { ...quiet, optimizer: sgd({ learningRate: 0.1 }), epochs: 1, batchSize: 4, key: key(8) }
    const split = await fit(linearModel(key(2)), d.x, d.y, { ...opts, validationSplit: 0.25 })
    const first = rowsOf(d, 0, 7)
    const last = rowsOf(d, 7, 3)
    const explicit = await fit(linearModel(key(2)), first.x, first.y, {
      ...opts,
      validationData: [last.x, last.y],
    })
    expect(modelBits(split.model)).toEqual(modelBits(explicit.model))
    expect(split.history).toEqual(explicit.history)
  })

  it('rejects bad options with a message naming them', async () => {
    const o = { loss, optimizer: sgd(), verbose: 0 } as const
    const m = linearModel(key(0))
    await expect(fit(m, p.x, p.y, { ...o, validationSplit: 1 })).rejects.toThrow(
      /validationSplit must be in \(0, 1\)/,
    )
    const one = rowsOf(p, 0, 1)
    await expect(fit(m, one.x, one.y, { ...o, validationSplit: 0.5 })).rejects.toThrow(
      /of 1 rows leaves an empty split/,
    )
    await expect(
      fit(m, p.x, p.y, { ...o, validationSplit: 0.5, validationData: [p.x, p.y] }),
    ).rejects.toThrow(/not both/)
    await expect(fit(m, p.x, p.y, { ...o, batchSize: 0 })).rejects.toThrow(
      /batchSize must be a positive integer/,
    )
    await expect(fit(m, p.x, p.y, { ...o, epochs: 1.5 })).rejects.toThrow(
      /epochs must be a non-negative integer/,
    )
    await expect(fit(m, p.x, tensor([0, 1]), o)).rejects.toThrow(/x has 64 rows but y has 2/)
  })

  it('runs ceil(n / batchSize) steps per epoch, the last batch smaller', async () => {
    const seen: BatchEnd[] = []
    const spy: Callback<null> = {
      name: 'spy',
      init: () => null,
      onBatchEnd: (state, b) => {
        seen.push(b)
        return { state }
      },
    }
    await fit(linearModel(key(2)), p.x, p.y, {
      ...quiet,
      optimizer: sgd(),
      epochs: 2,
      batchSize: 10,
      callbacks: [spy],
    })
    expect(seen.map((b) => [b.epoch, b.step, b.steps])).toEqual(
      [0, 1].flatMap((e) => [1, 2, 3, 4, 5, 6, 7].map((s) => [e, s, 7])),
    )
  })

  it('is the pure training step looped over the batches (shuffle: false)', async () => {
    const opts = { loss: getLoss(loss), metrics: [], optimizer: sgd({ learningRate: 0.1, momentum: 0.9 }) }
    const model = linearModel(key(2))
    const fitted = await fit(model, p.x, p.y, {
      ...opts,
      verbose: 0,
      epochs: 2,
      batchSize: 24,
      shuffle: false,
    })
    const trainer = makeTrainer(opts)
    let s = trainer.init(model)
    for (let epoch = 0; epoch < 2; epoch++)
      for (const [start, size] of [
        [0, 24],
        [24, 24],
        [48, 16],
      ] as const) {
        const b = rowsOf(p, start, size)
        s = trainer.step(s, b, key(99)).state // no dropout: the key does not matter
      }
    expect(modelBits(fitted.model)).toEqual(modelBits(s.model))
  })

  it('does not change the model passed in', async () => {
    const model = bnModel(key(2))
    const { params, state, trainable, layer } = model
    const before = modelBits(model)
    const { model: trained } = await fit(model, p.x, p.y, {
      ...quiet,
      optimizer: adam({ learningRate: 0.05 }),
      epochs: 2,
      batchSize: 8,
    })
    expect(modelBits(model)).toEqual(before)
    expect(model.params).toBe(params)
    expect(model.state).toBe(state)
    expect(model.trainable).toBe(trainable)
    expect(model.layer).toBe(layer)
    expect(modelBits(trained)).not.toEqual(before)
  })

  it('same key, bitwise the same run; another key, another run (shuffling and dropout)', async () => {
    const run = (k: number) =>
      fit(dropoutModel(key(2), 0.3), p.x, p.y, {
        loss: 'sparseCategoricalCrossentropy',
        verbose: 0,
        optimizer: sgd({ learningRate: 0.05 }),
        epochs: 2,
        batchSize: 8,
        key: key(k),
      })
    const a = await run(10)
    const b = await run(10)
    const c = await run(11)
    expect(modelBits(a.model)).toEqual(modelBits(b.model))
    expect(a.history).toEqual(b.history)
    expect(modelBits(a.model)).not.toEqual(modelBits(c.model))
    expect(a.history.history.loss).not.toEqual(c.history.history.loss)
  })

  it('epochs: 0 returns the model as it is, with an empty history', async () => {
    const model = linearModel(key(2))
    const r = await fit(model, p.x, p.y, { ...quiet, optimizer: sgd(), epochs: 0 })
    expect(r.model).toBe(model)
    expect(r.history).toEqual({ history: {}, epoch: [], learningRate: [] })
  })
})

describe('fit with frozen params', () => {
  const p = blobs(key(20), 48)
  const train = (model: Model, optimizer: GradientTransformation<unknown>) =>
    fit(model, p.x, p.y, { ...quiet, optimizer, epochs: 2, batchSize: 8, key: key(21) })

  it('leaves a frozen dense layer bitwise unchanged and trains the others (sgd)', async () => {
    const model = freeze(bnModel(key(22)), ['dense'])
    const { model: trained } = await train(model, sgd({ learningRate: 0.1, momentum: 0.9 }))
    const before = modelBits(model)
    const after = modelBits(trained)
    for (const path of ['dense.kernel', 'dense.bias']) expect(after.params[path]).toEqual(before.params[path])
    for (const path of ['dense_1.kernel', 'dense_1.bias', 'batch_normalization.gamma'])
      expect(after.params[path]).not.toEqual(before.params[path])
    expect(trained.trainable).toEqual(model.trainable)
  })

  it('gives frozen params no weight decay (adamw)', async () => {
    const model = freeze(bnModel(key(22)), ['dense', 'dense_1'])
    const { model: trained } = await train(model, adamw({ learningRate: 0.05, weightDecay: 0.5 }))
    const before = modelBits(model)
    const after = modelBits(trained)
    for (const path of ['dense.kernel', 'dense.bias', 'dense_1.kernel', 'dense_1.bias'])
      expect(after.params[path]).toEqual(before.params[path])
    expect(after.params['batch_normalization.gamma']).not.toEqual(before.params['batch_normalization.gamma'])
  })

  it("keeps a frozen batch-norm layer's params and moving statistics (inference mode, as Keras)", async () => {
    const model = freeze(bnModel(key(22)), ['batch_normalization'])
    const { model: trained } = await train(model, sgd({ learningRate: 0.1 }))
    const before = modelBits(model)
    const after = modelBits(trained)
    for (const group of ['params', 'state'] as const)
      for (const [path, values] of Object.entries(before[group]))
        if (path.startsWith('batch_normalization.')) expect(after[group][path], path).toEqual(values)
    expect(after.params['dense.kernel']).not.toEqual(before.params['dense.kernel'])
    // not frozen, the moving statistics move
    const { model: free } = await train(bnModel(key(22)), sgd({ learningRate: 0.1 }))
    expect(modelBits(free).state['batch_normalization.movingMean']).not.toEqual(
      before.state['batch_normalization.movingMean'],
    )
  })

  it('changes nothing when every param is frozen', async () => {
    const model = freeze(bnModel(key(22)))
    const { model: trained } = await train(model, adamw({ learningRate: 0.1 }))
    expect(modelBits(trained)).toEqual(modelBits(model))
  })

  it('frozen params unchanged for any frozen layers and optimizer (property)', async () => {
    const names = ['dense', 'batch_normalization', 'dense_1'] as const
    const optimizers = [
      () => sgd({ learningRate: 0.1 }),
      () => sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true }),
      () => adam({ learningRate: 0.05 }),
      () => adamw({ learningRate: 0.05, weightDecay: 0.1 }),
    ]
    await fc.assert(
      fc.asyncProperty(
        fc.subarray([...names]),
        fc.integer({ min: 0, max: optimizers.length - 1 }),
        fc.integer({ min: 0, max: 1000 }),
        async (frozen, o, seed) => {
          const model = freeze(bnModel(key(seed)), frozen)
          const { model: trained } = await fit(model, p.x, p.y, {
            loss,
            verbose: 0,
            optimizer: optimizers[o]!(),
            epochs: 1,
            batchSize: 16,
            key: foldIn(key(seed), 1),
          })
          const before = modelBits(model)
          const after = modelBits(trained)
          for (const [path, values] of Object.entries(before.params))
            if (frozen.some((n) => path.startsWith(`${n}.`))) expect(after.params[path], path).toEqual(values)
            else expect(after.params[path], path).not.toEqual(values)
        },
      ),
      { seed: 23, numRuns: 12 },
    )
  })
})
