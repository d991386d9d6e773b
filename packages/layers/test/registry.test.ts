import { key, tensor } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  type AnyLayer,
  activation,
  activations,
  alphaDropout,
  averagePooling2d,
  batchNormalization,
  type CustomLayers,
  conv2d,
  dense,
  dropout,
  embedding,
  flatten,
  fromConfig,
  gaussianDropout,
  gaussianNoise,
  globalAveragePooling2d,
  l1l2,
  layerKinds,
  layerNormalization,
  leakyRelu,
  maxPooling2d,
  mcAlphaDropout,
  mcDropout,
  normalization,
  prelu,
  reshape,
  rrelu,
  sequential,
  toSpec,
} from '../src/index.js'

const known =
  'known kinds: Dense, Flatten, Activation, LeakyReLU, BatchNormalization, Dropout, MCDropout, Sequential, PReLU, RReLU, AlphaDropout, MCAlphaDropout, GaussianDropout, GaussianNoise, Normalization, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, LayerNormalization, Reshape, Embedding, Serial, Parallel, FanOut, FanInSum, FanInConcat, Identity, Residual, Add, Concatenate'

const rebuild = (l: AnyLayer, custom?: CustomLayers): AnyLayer => {
  const r = fromConfig(JSON.parse(JSON.stringify(toSpec(l))), custom)
  if (E.isLeft(r)) throw new Error(r.left)
  return r.right
}

describe('fromConfig: built-in kinds', () => {
  const layers: AnyLayer[] = [
    dense({
      units: 3,
      activation: activations.leakyRelu(0.1),
      kernelRegularizer: l1l2({ l1: 0.1, l2: 0.2 }),
    }),
    flatten({ name: 'f' }),
    activation('gelu'),
    leakyRelu({ alpha: 0.25 }),
    batchNormalization({ axis: [1, 2], momentum: 0.9, epsilon: 1e-5, center: false }),
    dropout({ rate: 0.3 }),
    mcDropout({ rate: 0.4, name: 'mc' }),
    sequential([sequential([dense({ units: 2 })], { name: 'inner' }), dense({ units: 1 })], {
      name: 'outer',
      inputShape: [4],
    }),
    prelu({
      alphaInitializer: 'ones',
      alphaRegularizer: l1l2({ l1: 0.1, l2: 0 }),
      alphaConstraint: 'nonNeg',
      sharedAxes: [1],
    }),
    rrelu({ lower: 0.1, upper: 0.2, name: 'r' }),
    alphaDropout({ rate: 0.1 }),
    mcAlphaDropout({ rate: 0.2, name: 'mca' }),
    gaussianDropout({ rate: 0.3 }),
    gaussianNoise({ stddev: 0.5 }),
    normalization({ mean: [1, 2], variance: [3, 4], name: 'norm' }),
    conv2d({
      filters: 4,
      kernelSize: [3, 1],
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelRegularizer: l1l2({ l2: 0.1 }),
    }),
    maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }),
    averagePooling2d({ name: 'avg' }),
    globalAveragePooling2d({ keepdims: true }),
    layerNormalization({ axis: [1, 2], epsilon: 1e-5, center: false }),
    reshape({ targetShape: [-1, 2] }),
    embedding({ inputDim: 5, outputDim: 2, embeddingsInitializer: 'ones' }),
  ]

  it('knows exactly the thirty-one built-in kinds, in a constant list', () => {
    expect(layerKinds).toEqual([
      'Dense',
      'Flatten',
      'Activation',
      'LeakyReLU',
      'BatchNormalization',
      'Dropout',
      'MCDropout',
      'Sequential',
      'PReLU',
      'RReLU',
      'AlphaDropout',
      'MCAlphaDropout',
      'GaussianDropout',
      'GaussianNoise',
      'Normalization',
      'Conv2D',
      'MaxPooling2D',
      'AveragePooling2D',
      'GlobalAveragePooling2D',
      'LayerNormalization',
      'Reshape',
      'Embedding',
      'Serial',
      'Parallel',
      'FanOut',
      'FanInSum',
      'FanInConcat',
      'Identity',
      'Residual',
      'Add',
      'Concatenate',
    ])
    expect(Object.isFrozen(layerKinds)).toBe(true)
    // the combinators and merge layers are rebuilt in serial.test.ts
    expect(layers.map((l) => l.kind)).toEqual(layerKinds.slice(0, 22))
  })

  it('rebuilds every kind from its JSON config: same kind, same config', () => {
    for (const l of layers) {
      const r = rebuild(l)
      expect(r.kind).toBe(l.kind)
      expect(r.config).toEqual(l.config)
    }
  })

  it('a rebuilt layer behaves like the original', () => {
    const l = layers[7]!
    const r = rebuild(l)
    const a = l.init(key(1), [4])
    const b = r.init(key(1), [4])
    const x = tensor([[1, 2, 3, 4]])
    expect(r.apply(b.params, b.state, x, { training: false }).y.toArray()).toEqual(
      l.apply(a.params, a.state, x, { training: false }).y.toArray(),
    )
  })
})

describe('fromConfig: errors say what and where', () => {
  it('an unknown kind lists the known ones', () => {
    const r = fromConfig({ kind: 'Conv3D', config: {} })
    expect(r).toEqual(E.left(`unknown layer kind "Conv3D"; ${known}`))
  })

  it('an unknown kind inside a sequential says at which index', () => {
    const spec = toSpec(sequential([flatten(), dense({ units: 2 }), dense({ units: 2 }), flatten()]))
    const layersJson = (spec.config.layers as { kind: string; config: object }[]).map((l, i) =>
      i === 3 ? { ...l, kind: 'X' } : l,
    )
    expect(fromConfig({ kind: 'Sequential', config: { ...spec.config, layers: layersJson } })).toEqual(
      E.left(`unknown layer kind "X" at layers[3]; ${known}`),
    )
  })

  it('nested sequentials give the full path', () => {
    const config = {
      name: 'outer',
      layers: [
        { kind: 'Flatten', config: {} },
        { kind: 'Sequential', config: { name: 'inner', layers: [{ kind: 'Conv3D', config: {} }] } },
      ],
    }
    expect(fromConfig({ kind: 'Sequential', config })).toEqual(
      E.left(`unknown layer kind "Conv3D" at layers[1].config.layers[0]; ${known}`),
    )
  })

  it("a child's invalid config is prefixed with its place", () => {
    const config = {
      name: 's',
      layers: [
        { kind: 'Flatten', config: {} },
        { kind: 'Dense', config: { units: 'ten' } },
      ],
    }
    const r = fromConfig({ kind: 'Sequential', config })
    expect(E.isLeft(r) && r.left).toMatch(/^layers\[1\]: Dense config: /)
  })

  it('prototype property names are not kinds', () => {
    for (const kind of ['toString', '__proto__', 'constructor', 'hasOwnProperty'])
      expect(E.isLeft(fromConfig({ kind, config: {} }))).toBe(true)
  })
})

describe('fromConfig: custom kinds, passed explicitly', () => {
  const relu6 = (): AnyLayer => ({ ...activation('relu'), kind: 'Relu6', config: {} })
  const custom: CustomLayers = { Relu6: () => E.right(relu6()) }

  it('rebuilds user-defined kinds, also inside sequentials', () => {
    const model = sequential([dense({ units: 2 }), relu6()])
    const r = rebuild(model, custom)
    expect(r.config).toEqual(model.config)
  })

  it('lists custom kinds among the known ones, and forgets them afterwards (no global registry)', () => {
    const r = fromConfig({ kind: 'Swish6', config: {} }, custom)
    expect(r).toEqual(E.left(`unknown layer kind "Swish6"; ${known}, Relu6`))
    expect(E.isRight(fromConfig({ kind: 'Relu6', config: {} }, custom))).toBe(true)
    expect(E.isLeft(fromConfig({ kind: 'Relu6', config: {} }))).toBe(true)
  })

  it("custom rebuilders take precedence over built-in ones (as Keras' custom_objects)", () => {
    const mine = dense({ units: 7 })
    const r = fromConfig(toSpec(dense({ units: 1 })), { Dense: () => E.right(mine) })
    expect(E.isRight(r) && r.right).toBe(mine)
  })

  it('a custom Left is located like a built-in one', () => {
    const config = { name: 's', layers: [{ kind: 'Relu6', config: {} }] }
    const r = fromConfig({ kind: 'Sequential', config }, { Relu6: () => E.left('Relu6 config: nope') })
    expect(r).toEqual(E.left('layers[0]: Relu6 config: nope'))
  })
})
