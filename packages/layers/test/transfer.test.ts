import { key, mul, sub, type Tensor, tensor, tree, valueAndGrad } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import {
  type AnyLayer,
  append,
  applyModel,
  binaryCrossentropy,
  cloneModel,
  dense,
  dropout,
  flatten,
  freeze,
  getWeights,
  initModel,
  type Model,
  popLayer,
  sequential,
  setWeights,
  sliceLayers,
  unfreeze,
  withMcDropout,
} from '../src/index.js'
import { trainableFlags } from '../src/internal/walk.js'

/** Model A of the chapter's transfer-learning section, small: 8x8 inputs, 8 classes. */
const modelA = () =>
  initModel(
    sequential(
      [
        flatten(),
        dense({ units: 16, activation: 'relu', kernelInitializer: 'heNormal' }),
        dense({ units: 12, activation: 'relu', kernelInitializer: 'heNormal' }),
        dense({ units: 8, activation: 'softmax' }),
      ],
      { inputShape: [8, 8] },
    ),
    { key: key(42) },
  )

const snapshot = (m: Model) => tree.leaves(m.params).map((t) => Float32Array.from(t.data))
const x = tensor(
  Float32Array.from({ length: 4 * 64 }, (_, i) => Math.sin(i)),
  [4, 8, 8],
)
const yBinary = tensor([[1], [0], [1], [0]])

/** One plain gradient-descent step on binary crossentropy, skipping frozen params. */
const sgdStep = <L extends AnyLayer>(m: Model<L>, lr = 0.5): Model<L> => {
  const loss = binaryCrossentropy()
  const { grad } = valueAndGrad((p: Model<L>['params']) =>
    loss.fn(yBinary, applyModel({ ...m, params: p }, x, { training: true }).y),
  )(m.params)
  const trainable = trainableFlags(m.params, m.trainable)
  let i = 0
  const params = tree.map2(m.params, grad, (p: Tensor, g: Tensor) =>
    trainable[i++] ? sub(p, mul(g, lr)) : p,
  )
  return { ...m, params }
}

describe('popLayer, sliceLayers, append', () => {
  it('popLayer keeps every layer but the last, with its name, params, state and mask', () => {
    const a = freeze(modelA(), ['dense'])
    const base = popLayer(a)
    expect(base.layer.names).toEqual(['flatten', 'dense', 'dense_1'])
    expect(base.params.dense).toBe(a.params.dense)
    expect(base.params.dense_1).toBe(a.params.dense_1)
    expect(base.trainable).toEqual({
      flatten: {},
      dense: { kernel: false, bias: false },
      dense_1: { kernel: true, bias: true },
    })
    expect(base.inputShape).toEqual([8, 8])
    expect(applyModel(base, x).y.shape).toEqual([4, 12])
    expect(() => popLayer(initModel(dense({ units: 1 }), { key: key(0), inputShape: [2] }))).toThrow(
      /single layer/,
    )
  })

  it('sliceLayers takes children [start, end): input shape from the previous layer, negative indices', () => {
    const a = modelA()
    const mid = sliceLayers(a, 1, -1)
    expect(mid.layer.names).toEqual(['dense', 'dense_1'])
    expect(mid.inputShape).toEqual([64])
    const flat = applyModel(sliceLayers(a, 0, 1), x).y
    expect([...applyModel(mid, flat).y.data]).toEqual([...applyModel(popLayer(a), x).y.data])
    expect(sliceLayers(a, -1).layer.names).toEqual(['dense_2'])
    expect(() => sliceLayers(a, 2, 2)).toThrow(/empty/)
  })

  it('append initializes only the new layer, for the current output shape, and names it the Keras way', () => {
    const a = modelA()
    const b = append(popLayer(a), dense({ units: 1, activation: 'sigmoid' }), { key: key(7) })
    expect(b.layer.names).toEqual(['flatten', 'dense', 'dense_1', 'dense_2'])
    expect(b.params.dense).toBe(a.params.dense)
    expect(b.params.dense_2.kernel.shape).toEqual([12, 1])
    const alone = initModel(dense({ units: 1, activation: 'sigmoid' }), { key: key(7), inputShape: [12] })
    expect([...b.params.dense_2.kernel.data]).toEqual([...alone.params.kernel.data])
    expect((b.trainable as Record<string, unknown>).dense_2).toEqual({ kernel: true, bias: true })
    expect(applyModel(b, x).y.shape).toEqual([4, 1])
    expect(b.layer.config.inputShape).toEqual([8, 8])
  })

  it('a single-layer model is a one-child sequential', () => {
    const m = initModel(dense({ units: 3 }), { key: key(0), inputShape: [2] })
    const b = append(m, dense({ units: 1 }), { key: key(1) })
    expect(b.layer.names).toEqual(['dense', 'dense_1'])
    expect(b.params.dense).toBe(m.params)
  })
})

describe('cloneModel', () => {
  it('same architecture and mask, fresh weights from the key (Keras clone_model)', () => {
    const a = freeze(modelA(), ['dense'])
    const c = cloneModel(a, { key: key(1) })
    expect(c.layer.config).toEqual(a.layer.config)
    expect(c.trainable).toEqual(a.trainable)
    expect([...c.params.dense.kernel.data]).not.toEqual([...a.params.dense.kernel.data])
    expect(getWeights(cloneModel(a, { key: key(42) })).map((t) => [...t.data])).toEqual(
      getWeights(a).map((t) => [...t.data]),
    )
  })
})

describe('freeze and unfreeze', () => {
  it('by layer names, by a predicate on paths, or everything; params untouched', () => {
    const a = modelA()
    const f = freeze(a, ['dense', 'dense_1'])
    expect(f.params).toBe(a.params)
    expect(f.trainable).toEqual({
      flatten: {},
      dense: { kernel: false, bias: false },
      dense_1: { kernel: false, bias: false },
      dense_2: { kernel: true, bias: true },
    })
    expect(freeze(a, (p) => p.endsWith('.bias')).trainable).toEqual({
      flatten: {},
      dense: { kernel: true, bias: false },
      dense_1: { kernel: true, bias: false },
      dense_2: { kernel: true, bias: false },
    })
    expect(tree.leaves(freeze(a).params).length).toBe(6)
    expect(Object.values(freeze(a).trainable).flatMap((m) => Object.values(m as object))).toEqual(
      new Array(6).fill(false),
    )
  })

  it('unfreeze undoes freeze, selectively or entirely', () => {
    const f = freeze(modelA())
    expect(unfreeze(f, ['dense_2']).trainable).toEqual({
      flatten: {},
      dense: { kernel: false, bias: false },
      dense_1: { kernel: false, bias: false },
      dense_2: { kernel: true, bias: true },
    })
    expect(unfreeze(f).trainable).toEqual(modelA().trainable)
  })

  it('an unknown layer name is an error listing the layers', () => {
    expect(() => freeze(modelA(), ['dense_9'])).toThrow(
      'freeze: no layer named "dense_9"; the model\'s layers are flatten, dense, dense_1, dense_2',
    )
  })
})

describe('models as values: training model B never changes model A', () => {
  it('B built from A with popLayer + append trains without touching A, frozen or not', () => {
    const a = modelA()
    const before = snapshot(a)
    const b0 = append(popLayer(a), dense({ units: 1, activation: 'sigmoid' }), { key: key(3) })
    // phase 1: reused layers frozen, only the new output layer learns
    let b = freeze(b0, ['dense', 'dense_1'])
    for (let i = 0; i < 3; i++) b = sgdStep(b)
    expect(b.params.dense.kernel).toBe(a.params.dense.kernel) // frozen: the very same tensors
    expect([...b.params.dense_2.kernel.data]).not.toEqual([...b0.params.dense_2.kernel.data])
    // phase 2: unfreeze and fine-tune everything
    b = unfreeze(b)
    for (let i = 0; i < 3; i++) b = sgdStep(b)
    expect([...b.params.dense.kernel.data]).not.toEqual([...a.params.dense.kernel.data])
    // A is bitwise what it was, whatever happened to B
    expect(snapshot(a)).toEqual(before)
    const keep = snapshot(a)
    setWeights(
      b,
      getWeights(b).map((w) => mul(w, 0)),
    )
    expect(snapshot(a)).toEqual(keep)
  })
})

describe('withMcDropout', () => {
  const dropoutModel = () =>
    initModel(
      sequential(
        [
          flatten(),
          dropout({ rate: 0.2 }),
          dense({ units: 16, activation: 'relu' }),
          dropout({ rate: 0.3 }),
          sequential([dense({ units: 12, activation: 'relu' }), dropout({ rate: 0.4 })], { name: 'block' }),
          dense({ units: 8, activation: 'softmax' }),
        ],
        { inputShape: [8, 8] },
      ),
      { key: key(5) },
    )

  it('turns Dropout layers into MCDropout layers of the same rate (also nested), keeping every weight', () => {
    const m = dropoutModel()
    const mc = withMcDropout(m)
    expect(mc.layer.names).toEqual(['flatten', 'mc_dropout', 'dense', 'mc_dropout_1', 'block', 'dense_1'])
    expect(mc.layer.layers.map((l) => [l.kind, l.config.rate])).toEqual([
      ['Flatten', undefined],
      ['MCDropout', 0.2],
      ['Dense', undefined],
      ['MCDropout', 0.3],
      ['Sequential', undefined],
      ['Dense', undefined],
    ])
    const block = mc.layer.layers[4]!.config.layers as { kind: string; config: { rate?: number } }[]
    expect(block.map((l) => [l.kind, l.config.rate])).toEqual([
      ['Dense', undefined],
      ['MCDropout', 0.4],
    ])
    expect(getWeights(mc)).toEqual(getWeights(m))
    expect(mc.params.dense).toBe(m.params.dense)
    expect(mc.params.block.dense).toBe(m.params.block.dense)
  })

  it('predicts stochastically, exactly as the original with { dropout: true } and the same key', () => {
    const m = dropoutModel()
    const mc = withMcDropout(m)
    const a = applyModel(mc, x, { key: key(1) }).y
    const b = applyModel(mc, x, { key: key(2) }).y
    expect([...a.data]).not.toEqual([...b.data])
    expect([...a.data]).toEqual([...applyModel(m, x, { dropout: true, key: key(1) }).y.data])
    expect([...applyModel(m, x).y.data]).not.toEqual([...a.data])
  })
})
