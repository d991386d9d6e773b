import {
  batchNormalization,
  dense,
  initModel,
  type Model,
  sequential,
  sparseCategoricalCrossentropy,
} from '@purenn/layers'
import { adam, chain, type GradientTransformation, sgd } from '@purenn/optim'
import { getKernels, type Key, key, normal, setKernels, type Tensor, tensor, tree } from '@purenn/tensor'
import { heapStats, isOwnedFloats } from '@purenn/tensor/internal'
import { afterAll, describe, expect, it } from 'vitest'
import { type Callback, fit, makeTrainer } from '../src/index.js'
import { rows } from '../src/predict.js'
import { bits, modelBits } from './helpers/problems.js'

// fit puts each step's params and Adam moments in owned buffers of the kernels' memory and
// frees them two steps later (makeLedger): results must be bitwise those of the plain loop,
// the buffers must really be freed, and nothing anyone else holds may ever be freed.

/** Dense 32 → 64 relu → batch norm → dense 10 softmax: leaves large enough for the heap (≥ 256 floats). */
const model = (k: Key): Model =>
  initModel(
    sequential(
      [
        dense({ units: 64, activation: 'relu' }),
        batchNormalization(),
        dense({ units: 10, activation: 'softmax' }),
      ],
      { inputShape: [32] },
    ),
    { key: k },
  )
const n = 256
const batchSize = 16
const x = normal(key(1), [n, 32])
const y = tensor(Array.from({ length: n }, (_, i) => i % 10))
const opts = {
  loss: 'sparseCategoricalCrossentropy',
  optimizer: adam({ learningRate: 0.01 }),
  batchSize,
  shuffle: false,
  verbose: 0,
} as const

/** A callback that keeps the model of every epoch end, with its bits at that moment. */
const keeper = (): Callback<{ models: Model[]; bits: unknown[] }> => ({
  name: 'keeper',
  init: () => ({ models: [], bits: [] }),
  reportState: true,
  onEpochEnd: (s, e) => ({
    state: { models: [...s.models, e.model], bits: [...s.bits, modelBits(e.model)] },
  }),
})

const owned = (m: Model) => tree.leaves(m.params).filter((t: Tensor) => isOwnedFloats(t.data)).length

afterAll(() => setKernels('wasm'))

describe("fit's ledger of owned buffers", () => {
  it('gives bitwise the plain loop of trainer.step, and its params are owned buffers', async () => {
    expect(getKernels()).toBe('wasm')
    const start = model(key(0))
    const r = await fit(start, x, y, { ...opts, epochs: 2 })
    // the reference: the pure step, plain buffers (no dropout: the keys do not matter)
    const trainer = makeTrainer({
      loss: sparseCategoricalCrossentropy(),
      metrics: [],
      optimizer: opts.optimizer,
    })
    let s = trainer.init(start)
    const losses: number[] = []
    for (let epoch = 0; epoch < 2; epoch++) {
      let sum = 0
      for (let i = 0; i < n; i += batchSize) {
        const step = trainer.step(
          s,
          { x: rows(x, i, batchSize), y: rows(y, i, batchSize) },
          key(epoch * 100 + i),
        )
        s = step.state
        sum += step.logs.loss * batchSize
      }
      losses.push(sum / n)
    }
    expect(modelBits(r.model)).toEqual(modelBits(s.model))
    expect(r.history.history.loss!.map(Math.fround)).toEqual(losses.map(Math.fround))
    expect(owned(r.model)).toBeGreaterThan(0)
    expect(owned(s.model)).toBe(0)
  })

  it("frees each step's buffers: the heap holds a few steps' worth, not one per step", async () => {
    const seen: number[] = []
    const probe: Callback<null> = {
      name: 'probe',
      init: () => null,
      // the epoch's loop never yields, so no FinalizationRegistry callback can free anything meanwhile
      onBatchEnd: (s) => {
        seen.push(heapStats().tensorBytes)
        return { state: s }
      },
    }
    await fit(model(key(2)), x, y, { ...opts, epochs: 1, callbacks: [probe] })
    // per step: params, mu, nu of the two kernels (2048 + 640 floats) ≈ 33 KB in owned blocks
    const perStep = 3 * 4 * (2048 + 640)
    const growth = seen.at(-1)! - seen[2]!
    expect(seen.length).toBe(n / batchSize)
    expect(growth).toBeLessThan(2 * perStep)
  })

  it('never frees what a callback was given, nor the model fit started from', async () => {
    const first = await fit(model(key(3)), x, y, { ...opts, epochs: 1 })
    expect(owned(first.model)).toBeGreaterThan(0)
    const before = modelBits(first.model)
    const r = await fit(first.model, x, y, { ...opts, epochs: 3, callbacks: [keeper()] })
    // the model fit started from (owned buffers of the first fit) is as it was
    expect(modelBits(first.model)).toEqual(before)
    // each epoch's model, as the callback saw it, after later epochs ran 16 steps each
    const kept = r.history.callbackStates!.keeper as { models: Model[]; bits: unknown[] }
    expect(kept.models).toHaveLength(3)
    kept.models.forEach((m, i) => {
      expect(modelBits(m)).toEqual(kept.bits[i])
    })
  })

  it('never frees a gradient the new state holds (a transformation that keeps the last gradients)', () => {
    // keeps the gradients it was given in its state, passes them on unchanged
    const keepLast: GradientTransformation<{ last: unknown }> = {
      init: () => ({ last: null }),
      update: (grads, _state) => ({ updates: grads, state: { last: grads } }),
    }
    const trainer = makeTrainer({
      loss: sparseCategoricalCrossentropy(),
      metrics: [],
      optimizer: chain(keepLast, sgd({ learningRate: 0.1 })) as GradientTransformation<unknown>,
      ownedBuffers: true,
    })
    let s = trainer.init(model(key(4)))
    const batch = (i: number) => ({
      x: rows(x, i * batchSize, batchSize),
      y: rows(y, i * batchSize, batchSize),
    })
    const kept: { grads: unknown; bits: unknown }[] = []
    for (let i = 0; i < 6; i++) {
      s = trainer.step(s, batch(i), key(i)).state
      // fit's optimizer runs under `masked`: its state is { inner: the chain's states }
      const last = (s.optState as { inner: [{ last: unknown }] }).inner[0].last
      kept.push({ grads: last, bits: bits(last) })
      // the case in question: the state holds owned gradients
      expect(tree.leaves(last as never).some((t: Tensor) => isOwnedFloats(t.data))).toBe(true)
    }
    // each step's kept gradients still hold their bits after the later steps ran
    for (const k of kept) expect(bits(k.grads)).toEqual(k.bits)
  })
})
