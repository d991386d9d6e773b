import {
  batchNormalization,
  dense,
  freeze,
  initModel,
  type Layer,
  type Model,
  regularizers,
  sequential,
  sparseCategoricalCrossentropy,
} from '@purenn/layers'
import { adam, chain, type GradientTransformation, sgd } from '@purenn/optim'
import {
  add,
  getKernels,
  type Key,
  key,
  mul,
  normal,
  setKernels,
  stopGradient,
  type Tensor,
  tensor,
  tree,
} from '@purenn/tensor'
import { heapStats, isOwnedFloats } from '@purenn/tensor/internal'
import { afterAll, describe, expect, it } from 'vitest'
import { type Callback, evaluate, fit, makeTrainer, predict, type RowSource } from '../src/index.js'
import { rows } from '../src/predict.js'
import { bits, modelBits, probeLayer } from './helpers/problems.js'

// fit puts each step's params, Adam moments and dense kernels' gradients in owned buffers of
// the kernels' memory and frees them itself (makeLedger, the trainer, valueAndGrad): results
// must be bitwise those of the plain loop, the buffers must really be freed (the heap must
// not grow with steps or epochs), and nothing anyone else holds may ever be freed.

/**
 * Dense 32 → 64 relu → batch norm → dense 10 softmax: leaves large enough for the heap (≥ 256
 * floats); with `l2`, an L2 penalty on the first kernel (whose gradient is then a sum of two).
 */
const model = (k: Key, l2 = false): Model =>
  initModel(
    sequential(
      [
        dense({ units: 64, activation: 'relu', ...(l2 ? { kernelRegularizer: regularizers.l2(1e-3) } : {}) }),
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

/** A callback that records the bytes of owned blocks after each step or each epoch. */
const ownedBytesAt = (when: 'onBatchEnd' | 'onEpochEnd') => {
  const seen: number[] = []
  const record = (s: null) => {
    seen.push(heapStats().ownedBytes)
    return { state: s }
  }
  const probe: Callback<null> = { name: 'probe', init: () => null, [when]: record }
  return { seen, probe }
}

const owned = (m: Model) => tree.leaves(m.params).filter((t: Tensor) => isOwnedFloats(t.data)).length

afterAll(() => setKernels('wasm'))

describe("fit's ledger of owned buffers", () => {
  /** The plain loop of the pure step over the batches in order (no dropout: keys do not matter). */
  const plainLoop = (start: Model, epochs: number, optimizer: GradientTransformation<unknown>) => {
    const trainer = makeTrainer({ loss: sparseCategoricalCrossentropy(), metrics: [], optimizer })
    let s = trainer.init(start)
    const losses: number[] = []
    for (let epoch = 0; epoch < epochs; epoch++) {
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
    return { model: s.model, losses }
  }

  it('gives bitwise the plain loop of trainer.step, returns plain buffers, and used owned ones', async () => {
    expect(getKernels()).toBe('wasm')
    const start = model(key(0))
    const served = heapStats().served
    const r = await fit(start, x, y, { ...opts, epochs: 2 })
    expect(heapStats().served - served).toBeGreaterThan(3 * 2 * (n / batchSize))
    const ref = plainLoop(start, 2, opts.optimizer)
    expect(modelBits(r.model)).toEqual(modelBits(ref.model))
    expect(r.history.history.loss!.map(Math.fround)).toEqual(ref.losses.map(Math.fround))
    expect(owned(r.model)).toBe(0)
  })

  it("frees each step's buffers: the heap does not grow with the steps of an epoch", async () => {
    for (const l2 of [false, true]) {
      // the epoch's loop never yields, so no FinalizationRegistry callback can free anything meanwhile
      const { seen, probe } = ownedBytesAt('onBatchEnd')
      await fit(model(key(2), l2), x, y, { ...opts, epochs: 1, callbacks: [probe] })
      // per step: params, mu, nu and gradient of the two kernels (2048 + 640 floats) ≈ 43 KB
      const perStep = 4 * 4 * (2048 + 640)
      expect(seen.length).toBe(n / batchSize)
      // with l2 the first kernel's gradient is a sum: its owned part must be freed too
      expect(seen.at(-1)! - seen[2]!).toBeLessThan(perStep)
      // from the third step on, each step frees exactly what it made (the batch included)
      expect(seen.slice(2)).toEqual(new Array(seen.length - 2).fill(seen[2]))
    }
  })

  it('does not grow with epochs either (what callbacks see is a plain copy), and stays the plain loop', async () => {
    const { seen, probe } = ownedBytesAt('onEpochEnd')
    const start = model(key(5), true)
    const r = await fit(start, x, y, { ...opts, epochs: 12, callbacks: [probe, keeper()] })
    // one state (params and Adam's moments) is 3 · 4 · 2,688 floats ≈ 32 KB
    expect(seen.at(-1)! - seen[1]!).toBeLessThan(3 * 4 * (2048 + 640))
    expect(modelBits(r.model)).toEqual(modelBits(plainLoop(start, 12, opts.optimizer).model))
  })

  it('never frees what a callback was given, nor owned buffers of the model fit starts from', async () => {
    // a model on owned buffers: one step of a trainer that asks for them
    const trainer = makeTrainer({
      loss: sparseCategoricalCrossentropy(),
      metrics: [],
      optimizer: adam(),
      ownedBuffers: true,
    })
    const first = trainer.step(
      trainer.init(model(key(3))),
      { x: rows(x, 0, batchSize), y: rows(y, 0, batchSize) },
      key(0),
    ).state.model
    expect(owned(first)).toBeGreaterThan(0)
    const before = modelBits(first)
    const r = await fit(first, x, y, { ...opts, epochs: 3, callbacks: [keeper()] })
    expect(modelBits(first)).toEqual(before)
    // each epoch's model, as the callback saw it, after later epochs ran 16 steps each
    const kept = r.history.callbackStates!.keeper as { models: Model[]; bits: unknown[] }
    expect(kept.models).toHaveLength(3)
    kept.models.forEach((m, i) => {
      expect(owned(m)).toBe(0)
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

  it('frees nothing it cannot see: a transformation whose state is a Map of the last gradients', async () => {
    const keepLastInMap: GradientTransformation<Map<string, Tensor>> = {
      init: (p) => new Map(tree.flatten(p).map(([path, t]) => [path, mul(t, 0)])),
      update: (g, s) => ({
        updates: tree.map(g, (gi: Tensor, path: string) => add(gi, mul(s.get(path)!, 0.5))) as typeof g,
        state: new Map(tree.flatten(g)),
      }),
    }
    const optimizer = chain(keepLastInMap, sgd({ learningRate: 0.05 })) as GradientTransformation<unknown>
    const start = model(key(6))
    const r = await fit(start, x, y, { ...opts, optimizer, epochs: 2 })
    expect(modelBits(r.model)).toEqual(modelBits(plainLoop(start, 2, optimizer).model))
  })

  describe("the step's intermediates (a step scope)", () => {
    /** Dense 32 → 300 relu → batch norm → dense 10: the moving statistics (300 floats) are on the heap. */
    const wide = (k: Key): Model =>
      initModel(
        sequential(
          [
            dense({ units: 300, activation: 'relu' }),
            batchNormalization(),
            dense({ units: 10, activation: 'softmax' }),
          ],
          { inputShape: [32] },
        ),
        { key: k },
      )

    it('keeps what the new state holds: the moving statistics the step made', async () => {
      const start = wide(key(7))
      const r = await fit(start, x, y, { ...opts, epochs: 2 })
      const ref = plainLoop(start, 2, opts.optimizer)
      expect(modelBits(r.model)).toEqual(modelBits(ref.model))
      expect(owned(r.model)).toBe(0)
    })

    it("puts the batch and the step's activations on owned blocks and frees them when the step ends", async () => {
      const batches: boolean[] = []
      const activations: boolean[] = []
      const start = initModel(
        sequential(
          [
            probeLayer(batches),
            dense({ units: 64, activation: 'relu' }),
            probeLayer(activations),
            dense({ units: 10, activation: 'softmax' }),
          ],
          { inputShape: [32] },
        ),
        { key: key(8) },
      )
      const { seen, probe: bytes } = ownedBytesAt('onBatchEnd')
      const r = await fit(start, x, y, { ...opts, epochs: 1, callbacks: [bytes] })
      // the last 16 calls are the 16 steps' (initModel may trace the layers outside any step)
      const steps = n / batchSize
      expect(batches.slice(-steps)).toEqual(new Array(steps).fill(true))
      expect(activations.slice(-steps)).toEqual(new Array(steps).fill(true))
      // from the third step on, each step frees exactly what it made
      expect(seen.slice(2)).toEqual(new Array(seen.length - 2).fill(seen[2]))
      expect(modelBits(r.model)).toEqual(modelBits(plainLoop(start, 1, opts.optimizer).model))
    })

    it("keeps a frozen layer's zero gradients, made once, out of every step's scope", async () => {
      const start = freeze(model(key(9)), ['dense'])
      const r = await fit(start, x, y, { ...opts, epochs: 2 })
      expect(modelBits(r.model)).toEqual(modelBits(plainLoop(start, 2, opts.optimizer).model))
      expect(modelBits(r.model).params['dense.kernel']).toEqual(modelBits(start).params['dense.kernel'])
    })

    it('refuses to read a tensor a layer kept past its step, instead of showing reused memory', async () => {
      // an impure layer: keeps every input it sees (the first is its trace by initModel)
      const kept: Tensor[] = []
      const keeper: Layer = {
        kind: 'Keeper',
        config: {},
        init: (_k, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
        apply: (_p, st, input) => {
          kept.push(input as Tensor)
          return { y: input, state: st }
        },
      }
      const start = initModel(
        sequential(
          [dense({ units: 64, activation: 'relu' }), keeper, dense({ units: 10, activation: 'softmax' })],
          {
            inputShape: [32],
          },
        ),
        { key: key(10) },
      )
      await fit(start, x, y, { ...opts, epochs: 1 })
      const fromSteps = kept.slice(-(n / batchSize))
      expect(fromSteps).toHaveLength(n / batchSize)
      for (const t of fromSteps) {
        expect(() => t.data).toThrow(
          /made during a step of fit or a batch of predict.* outside what the step returns/,
        )
        expect(() => t.toArray()).toThrow(/shape \[16,64\]/)
      }
    })

    // found by an audit: things the rules allow that the first version of the scopes broke
    it('keeps a batch the new state holds (a layer keeping its input in its state)', async () => {
      const lastInput: Layer = {
        kind: 'LastInput',
        config: {},
        init: (_k, inputShape) => ({
          params: {},
          state: { last: normal(key(0), [batchSize, ...inputShape]) },
          outputShape: inputShape,
        }),
        apply: (_p, st, input, o) => ({
          y: input,
          state: o.training ? { last: stopGradient(input as Tensor) } : st,
        }),
      }
      const start = initModel(
        sequential(
          [lastInput, dense({ units: 64, activation: 'relu' }), dense({ units: 10, activation: 'softmax' })],
          {
            inputShape: [32],
          },
        ),
        { key: key(11) },
      )
      const r = await fit(start, x, y, { ...opts, epochs: 1 })
      predict(r.model, x, { batchSize: 64 })
      // the last batch, rows 240..255 of x
      const last = (r.model.state as { last_input: { last: Tensor } }).last_input.last
      expect(Array.from(last.data)).toEqual(Array.from(rows(x, n - batchSize, batchSize).data))
      expect(modelBits(r.model)).toEqual(modelBits(plainLoop(start, 1, opts.optimizer).model))
    })

    it('keeps every block when the new state holds what it cannot see into (a Map of the raw input)', async () => {
      const rawInMap: Layer = {
        kind: 'RawInMap',
        config: {},
        init: (_k, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
        apply: (_p, st, input, o) => ({
          y: input,
          state: o.training ? ({ seen: new Map([['last', (input as Tensor).data]]) } as never) : st,
        }),
      }
      const start = initModel(
        sequential([rawInMap, dense({ units: 10, activation: 'softmax' })], { inputShape: [32] }),
        {
          key: key(12),
        },
      )
      const r = await fit(start, x, y, { ...opts, epochs: 1 })
      // later ops must not reuse the block the Map holds
      predict(r.model, x, { batchSize: 64 })
      const seen = (r.model.state as unknown as { raw_in_map: { seen: Map<string, Float32Array> } })
        .raw_in_map.seen
      expect(Array.from(seen.get('last')!)).toEqual(Array.from(rows(x, n - batchSize, batchSize).data))
    })

    it('calls row sources outside the scopes: a source may cache what it makes', async () => {
      let cached: Tensor | undefined
      // standardizes x once, lazily, and serves rows of the cached copy
      const standardized = (): Tensor => (cached ??= mul(add(x, 1), 0.5))
      const source: RowSource = {
        kind: 'rowSource',
        shape: x.shape,
        rows: (start, count) => rows(standardized(), start, count),
        gather: (idx) => rows(standardized(), idx[0]!, idx.length),
        slice: () => source,
      }
      const start = model(key(13))
      const fromSource = await fit(start, source, y, { ...opts, epochs: 1 })
      const fromTensor = await fit(start, mul(add(x, 1), 0.5), y, { ...opts, epochs: 1 })
      expect(modelBits(fromSource.model)).toEqual(modelBits(fromTensor.model))
      expect(bits(predict(fromSource.model, source, { batchSize: 64 }))).toEqual(
        bits(predict(fromSource.model, mul(add(x, 1), 0.5), { batchSize: 64 })),
      )
      expect(evaluate(fromSource.model, source, y, { loss: 'sparseCategoricalCrossentropy' }).loss).toBe(
        evaluate(fromSource.model, mul(add(x, 1), 0.5), y, { loss: 'sparseCategoricalCrossentropy' }).loss,
      )
    })

    it('gives callbacks plain copies of a state made of objects without a prototype', async () => {
      // an exponential moving average of the input, kept in a null-prototype object
      const ema: Layer = {
        kind: 'Ema',
        config: {},
        init: (_k, inputShape) => ({
          params: {},
          state: Object.assign(Object.create(null), {
            m: mul(normal(key(0), [batchSize, ...inputShape]), 0),
          }),
          outputShape: inputShape,
        }),
        apply: (_p, st, input, o) => ({
          y: input,
          state: o.training
            ? Object.assign(Object.create(null), {
                m: add(mul((st as { m: Tensor }).m, 0.9), mul(input as Tensor, 0.1)),
              })
            : st,
        }),
      }
      const start = initModel(
        sequential([ema, dense({ units: 10, activation: 'softmax' })], { inputShape: [32] }),
        {
          key: key(14),
        },
      )
      const r = await fit(start, x, y, { ...opts, epochs: 3, callbacks: [keeper()] })
      const kept = r.history.callbackStates!.keeper as { models: Model[]; bits: unknown[] }
      expect(kept.models).toHaveLength(3)
      for (const [i, m] of kept.models.entries()) expect(modelBits(m)).toEqual(kept.bits[i])
    })
  })
})
