import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { add, div, key, mean, mul, ones, sqrt, square, sub, type Tensor, tensor } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  applyModel,
  type CustomLayers,
  defineContainer,
  defineLayer,
  dense,
  fromConfig,
  getWeights,
  initModel,
  type Json,
  layerFromConfig,
  loadModel,
  maxNorm,
  saveModel,
  sequential,
  toSpec,
  weightNames,
} from '../src/index.js'

let root = ''
beforeAll(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'purenn-define-test-'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

const infer = { training: false } as const

const scale = defineLayer({
  kind: 'Scale',
  config: { factor: 'number' },
  build: ({ factor }) => ({ apply: (_p, _s, x) => mul(x, factor) }),
})

// a layer normalization over the last axis with a learned gain: params typed { gain }
const layerNorm = defineLayer({
  kind: 'MyLayerNorm',
  config: { epsilon: 'number?' },
  build: ({ epsilon = 1e-3 }) => ({
    init: (_key, inputShape) => ({
      params: { gain: ones([inputShape.at(-1)!]) },
      state: {},
      outputShape: inputShape,
    }),
    apply: (params: { gain: Tensor }, _s, x) => {
      const centred = sub(x, mean(x, -1, true))
      return mul(params.gain, div(centred, sqrt(add(mean(square(centred), -1, true), epsilon))))
    },
  }),
})

const twoPath = defineContainer({
  kind: 'TwoPath',
  config: { weight: 'number' },
  build: ({ weight }) => ({
    init: (shape, initChild) => {
      const a = initChild(0, shape)
      initChild(1, shape)
      return a
    },
    apply: (x, run) => add(run(0, x), mul(run(1, x), weight)),
  }),
})

describe('defineLayer', () => {
  it('builds a layer from its maths: config stored as JSON, name kept, apply may return a tensor', () => {
    const layer = scale({ factor: 2, name: 's' })
    expect(layer.kind).toBe('Scale')
    expect(layer.config).toEqual({ factor: 2, name: 's' })
    const { params, state, outputShape } = layer.init(key(0), [3])
    expect(outputShape).toEqual([3])
    expect([...layer.apply(params, state, tensor([[1, 2, 3]]), infer).y.data]).toEqual([2, 4, 6])
  })
  it('params of its own: a layer norm, checked against the formula', () => {
    const layer = layerNorm({})
    const { params, state } = layer.init(key(0), [4])
    expect(params.gain.shape).toEqual([4])
    const y = layer.apply(params, state, tensor([[1, 2, 3, 4]]), infer).y
    // mean 2.5, variance 1.25: (x − 2.5)/sqrt(1.25 + 0.001)
    const want = [1, 2, 3, 4].map((v) => (v - 2.5) / Math.sqrt(1.251))
    for (const [i, v] of [...y.data].entries()) expect(v).toBeCloseTo(want[i]!, 5)
  })
  it('throws plain errors naming the field, for users and for saved configs', () => {
    // @ts-expect-error: factor must be a number
    expect(() => scale({ factor: 'two' })).toThrow(
      'Scale config: factor: expected a finite number, got "two"',
    )
    expect(() => scale({ factor: 1, extra: 1 } as never)).toThrow(
      'Scale config: unknown field "extra"; fields are factor, name',
    )
    const seq = {
      kind: 'Sequential',
      config: { name: 's', layers: [toSpec(dense({ units: 1 })), { kind: 'Scale', config: {} }] },
    }
    expect(() => layerFromConfig(seq, { Scale: scale })).toThrow(
      'layers[1]: Scale config: factor: expected a finite number, got nothing',
    )
    const r = fromConfig(seq, { Scale: scale })
    expect(E.isLeft(r) && r.left).toBe(
      'layers[1]: Scale config: factor: expected a finite number, got nothing',
    )
  })
  it('saves and loads with the factory itself in customLayers', async () => {
    const arch = sequential([dense({ units: 3 }), layerNorm({ epsilon: 0.01 }), scale({ factor: 0.5 })], {
      inputShape: [2],
    })
    const model = initModel(arch, { key: key(4) })
    expect(weightNames(model)).toEqual(['dense.kernel', 'dense.bias', 'my_layer_norm.gain'])
    expect(model.params.my_layer_norm.gain.shape).toEqual([3])
    const dir = join(root, 'custom')
    await saveModel(model, dir)
    await expect(loadModel(dir)).rejects.toThrow(/unknown layer kind "MyLayerNorm" at layers\[1\]/)
    const custom: CustomLayers = { Scale: scale, MyLayerNorm: layerNorm }
    const loaded = await loadModel(dir, { customLayers: custom })
    const x = tensor([[0.5, -1]])
    expect([...applyModel(loaded, x).y.data]).toEqual([...applyModel(model, x).y.data])
    expect(getWeights(loaded).map((w) => [...w.data])).toEqual(getWeights(model).map((w) => [...w.data]))
  })
  it('toSpec fits a Json config with no cast', () => {
    const spec: Json = toSpec(scale({ factor: 1 }))
    expect(JSON.parse(JSON.stringify(spec))).toEqual({ kind: 'Scale', config: { factor: 1 } })
  })
})

describe('defineContainer', () => {
  const make = () =>
    twoPath({ weight: 0.5 }, [
      dense({ units: 2, kernelInitializer: 'ones' }),
      dense({ units: 2, kernelInitializer: 'ones', biasInitializer: 'ones' }),
    ])
  it('keys the children by name and runs them: y = a(x) + 0.5·b(x)', () => {
    const layer = make()
    const { params, state } = layer.init(key(0), [3])
    expect(Object.keys(params)).toEqual(['dense', 'dense_1'])
    expect(params.dense_1.bias?.shape).toEqual([2])
    // a: 1+1+1 = 3; b: 3 + 1 = 4; 3 + 2 = 5
    expect([...layer.apply(params, state, ones([1, 3]), infer).y.data]).toEqual([5, 5])
  })
  it('rebuilds its children on load: the rebuilder gets them built', async () => {
    const model = initModel(sequential([make()], { inputShape: [3] }), { key: key(1) })
    expect(weightNames(model)).toEqual([
      'two_path.dense.kernel',
      'two_path.dense.bias',
      'two_path.dense_1.kernel',
      'two_path.dense_1.bias',
    ])
    const dir = join(root, 'container')
    await saveModel(model, dir)
    const loaded = await loadModel(dir, { customLayers: { TwoPath: twoPath } })
    const x = tensor([[1, -2, 0.25]])
    expect([...applyModel(loaded, x).y.data]).toEqual([...applyModel(model, x).y.data])
    const broken = {
      kind: 'TwoPath',
      config: { weight: 1, layers: [toSpec(dense({ units: 1 })), { kind: 'Nope', config: {} }] },
    }
    const r = fromConfig(broken, { TwoPath: twoPath })
    expect(E.isLeft(r) && r.left.startsWith('unknown layer kind "Nope" at layers[1]')).toBe(true)
  })
  it('refuses an init that leaves a child out', () => {
    const lazy = defineContainer({
      kind: 'Lazy',
      config: {},
      build: () => ({ init: (shape, initChild) => initChild(0, shape), apply: (x, run) => run(0, x) }),
    })
    expect(() => lazy({}, [dense({ units: 1 }), dense({ units: 1 })]).init(key(0), [2])).toThrow(
      'Lazy.init: child 1 (dense_1) was not initialized',
    )
  })
  it("projects each child's params with the child's own constraint (maxNorm: column norm ≤ 1)", () => {
    const layer = twoPath({ weight: 1 }, [
      dense({ units: 2, kernelInitializer: 'ones', kernelConstraint: maxNorm(1) }),
      dense({ units: 2, kernelInitializer: 'ones' }),
    ])
    const { params } = layer.init(key(0), [4])
    const projected = layer.constrain!(params)
    // a column of four ones has norm 2: maxNorm(1) scales it by 1/2 (Keras: w · min(‖w‖, 1)/(ε + ‖w‖), ε = 1e-7)
    for (const v of projected.dense.kernel.data) expect(v).toBeCloseTo(0.5, 6)
    expect([...projected.dense_1.kernel.data]).toEqual([1, 1, 1, 1, 1, 1, 1, 1])
    expect(twoPath({ weight: 1 }, [dense({ units: 1 }), dense({ units: 1 })]).constrain).toBeUndefined()
  })
  it('a saved child that is not { kind, config } is refused naming its place', () => {
    const r = fromConfig(
      { kind: 'TwoPath', config: { weight: 1, layers: [toSpec(dense({ units: 1 })), 3] } },
      {
        TwoPath: twoPath,
      },
    )
    expect(E.isLeft(r) && r.left).toBe(
      'TwoPath config: layers[1]: expected a layer spec { kind, config }, got 3',
    )
  })
})
