import { key, split, type Tensor, tensor } from '@purenn/tensor'
import { checkGrads, tensorArb } from '@purenn/testing'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  type AnyLayer,
  activation,
  batchNormalization,
  dense,
  dropout,
  flatten,
  fromConfig,
  isSequential,
  l2,
  leakyRelu,
  mcDropout,
  sequential,
  snakeCase,
} from '../src/index.js'
import { dense64, expectClose } from './helpers/fd64.js'

describe('sequential: names', () => {
  it('names children the Keras way: snake-case kind, then _1, _2, ... per kind', () => {
    const model = sequential([
      flatten(),
      batchNormalization(),
      dense({ units: 3 }),
      batchNormalization(),
      dense({ units: 2 }),
      leakyRelu(),
      mcDropout({ rate: 0.1 }),
      dense({ units: 1 }),
    ])
    expect(model.names).toEqual([
      'flatten',
      'batch_normalization',
      'dense',
      'batch_normalization_1',
      'dense_1',
      'leaky_re_lu',
      'mc_dropout',
      'dense_2',
    ])
    expect(model.name).toBe('sequential')
  })

  it("snakeCase is Keras' to_snake_case", () => {
    expect(['Dense', 'BatchNormalization', 'LeakyReLU', 'MCDropout', 'Flatten'].map(snakeCase)).toEqual([
      'dense',
      'batch_normalization',
      'leaky_re_lu',
      'mc_dropout',
      'flatten',
    ])
  })

  it('keeps explicit names, and automatic names skip them', () => {
    const model = sequential([
      dense({ units: 3, name: 'dense' }),
      dense({ units: 3 }),
      dense({ units: 1, name: 'dense_1' }),
    ])
    expect(model.names).toEqual(['dense', 'dense_2', 'dense_1'])
  })

  it('rejects two children with the same explicit name', () => {
    expect(() => sequential([dense({ units: 1, name: 'out' }), dense({ units: 1, name: 'out' })])).toThrow(
      /two layers are named "out"/,
    )
  })
})

describe('sequential: init and apply', () => {
  it('splits the key once per child, passes shapes forward and keys params by name', () => {
    const layers = [flatten(), dense({ units: 4, kernelInitializer: 'heNormal' }), dense({ units: 2 })]
    const model = sequential(layers, { inputShape: [2, 3] })
    const { params, state, outputShape } = model.init(key(5), [2, 3])
    expect(outputShape).toEqual([2])
    expect(Object.keys(params)).toEqual(['flatten', 'dense', 'dense_1'])
    expect(Object.keys(state)).toEqual(['flatten', 'dense', 'dense_1'])
    const keys = split(key(5), 3)
    const d0 = layers[1]!.init(keys[1]!, [6]).params
    const d1 = layers[2]!.init(keys[2]!, [4]).params
    expect([...params.dense.kernel.data]).toEqual([...d0.kernel.data])
    expect([...params.dense_1.kernel.data]).toEqual([...d1.kernel.data])
  })

  it('apply is the composition of the children', () => {
    const layers: AnyLayer[] = [
      flatten(),
      dense({ units: 4, activation: 'tanh' }),
      dense({ units: 2, activation: 'softmax' }),
    ]
    const model = sequential(layers)
    const { params, state } = model.init(key(1), [2, 2])
    const x = tensor([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [-1, 0.5],
        [0, 2],
      ],
    ])
    const o = { training: false }
    const y = model.apply(params, state, x, o).y
    const h = layers[1]!.apply(params.dense, {}, layers[0]!.apply({}, {}, x, o).y, o).y
    expect(y.toArray()).toEqual(layers[2]!.apply(params.dense_1, {}, h, o).y.toArray())
  })

  it('threads the state: batch normalization returns new moving statistics in training only', () => {
    const model = sequential([
      dense({ units: 2, kernelInitializer: 'ones' }),
      batchNormalization({ momentum: 0.5 }),
    ])
    const { params, state } = model.init(key(0), [1])
    const x = tensor([[1], [3]])
    const train = model.apply(params, state, x, { training: true })
    expect(train.state.batch_normalization.movingMean.toArray()).toEqual([1, 1]) // 0·0.5 + 2·0.5
    expect(train.state.dense).toEqual(state.dense)
    expect(model.apply(params, state, x, { training: false }).state).toEqual(state)
  })

  it('passes each child its own key (dropout masks differ between two dropout layers)', () => {
    const model = sequential([dropout({ rate: 0.5 }), dropout({ rate: 0.5 })])
    const { params, state } = model.init(key(0), [64])
    const k = key(9)
    const y = model.apply(params, state, tensor(new Float32Array(64).fill(1), [1, 64]), {
      training: true,
      key: k,
    }).y
    const [k0, k1] = split(k, 2)
    const only0 = dropout({ rate: 0.5 }).apply({}, {}, tensor(new Float32Array(64).fill(1), [1, 64]), {
      training: true,
      key: k0!,
    }).y
    const both = dropout({ rate: 0.5 }).apply({}, {}, only0, { training: true, key: k1! }).y
    expect([...y.data]).toEqual([...both.data])
    expect(() => model.apply(params, state, tensor([[1]]), { training: true })).toThrow(/needs a key/)
  })

  it('passes each child its part of the trainable mask (a frozen batch-norm layer stays in inference mode)', () => {
    const model = sequential([batchNormalization()])
    const { params, state } = model.init(key(0), [2])
    const x = tensor([
      [1, 2],
      [3, 6],
    ])
    const trainable = { batch_normalization: { gamma: false, beta: false } }
    const r = model.apply(params, state, x, { training: true, trainable })
    expect(r.state).toEqual(state)
  })

  it('penalty is the sum of the children penalties; absent when no child has one', () => {
    const model = sequential([
      dense({ units: 2, kernelRegularizer: l2(0.1) }),
      dense({ units: 1, kernelRegularizer: l2(1) }),
    ])
    const { params } = model.init(key(0), [3])
    const sq = (t: Tensor) => [...t.data].reduce((s, v) => s + v * v, 0)
    expect(model.penalty!(params).item()).toBeCloseTo(
      0.1 * sq(params.dense.kernel) + sq(params.dense_1.kernel),
      5,
    )
    expect(sequential([dense({ units: 1 })]).penalty).toBeUndefined()
  })

  it('gradients through two dense layers, for both layers and the input, match float64 finite differences', () =>
    fc.assert(
      fc.property(
        tensorArb([2, 3]),
        tensorArb([3, 4]),
        tensorArb([4]),
        tensorArb([4, 2]),
        tensorArb([2]),
        tensorArb([4]),
        (x, w0, b0, w1, b1, cot) => {
          const model = sequential([
            dense({ units: 4, activation: 'tanh' }),
            dense({ units: 2, activation: 'sigmoid' }),
          ])
          const ref = (...xs: Float64Array[]) => {
            const h = dense64('tanh', xs[0]!, xs[1]!, xs[2]!, 2, 3, 4).y
            return dense64('sigmoid', h, xs[3]!, xs[4]!, 2, 4, 2).y
          }
          const apply = (xt: Tensor, k0: Tensor, c0: Tensor, k1: Tensor, c1: Tensor) =>
            model.apply(
              { dense: { kernel: k0, bias: c0 }, dense_1: { kernel: k1, bias: c1 } },
              { dense: {}, dense_1: {} },
              xt,
              {
                training: false,
              },
            ).y
          const args = [x, w0, b0, w1, b1]
          expectClose(
            'forward',
            apply(x, w0, b0, w1, b1).data,
            ref(...args.map((t) => Float64Array.from(t.data))),
            1e-5,
          )
          // args[0] is x, then dense.kernel, dense.bias, dense_1.kernel, dense_1.bias
          checkGrads(apply, args, { reference: ref, cotangent: cot.data })
        },
      ),
      { seed: 77, numRuns: 25 },
    ))
})

describe('sequential: config', () => {
  it('config lists the children as {kind, config} and rebuilds through the registry', () => {
    const model = sequential(
      [flatten(), dense({ units: 3, activation: 'relu' }), activation('softmax'), leakyRelu({ alpha: 0.2 })],
      { inputShape: [2, 2], name: 'm' },
    )
    const json = JSON.parse(JSON.stringify(model.config))
    expect(json.layers.map((l: { kind: string }) => l.kind)).toEqual([
      'Flatten',
      'Dense',
      'Activation',
      'LeakyReLU',
    ])
    const rebuilt = fromConfig({ kind: 'Sequential', config: json })
    if (E.isLeft(rebuilt)) throw new Error(rebuilt.left)
    if (!isSequential(rebuilt.right)) throw new Error(`rebuilt a ${rebuilt.right.kind}`)
    expect(rebuilt.right.config).toEqual(model.config)
    expect(rebuilt.right.names).toEqual(model.names)
    expect(rebuilt.right.inputShape).toEqual([2, 2])
  })

  it('a config with duplicate names is a Left, not a throw', () => {
    const config = {
      name: 's',
      layers: [flatten({ name: 'a' }), flatten({ name: 'a' })].map((l) => ({
        kind: l.kind,
        config: l.config,
      })),
    }
    const r = fromConfig({ kind: 'Sequential', config })
    expect(E.isLeft(r) && r.left).toMatch(/^Sequential config: .*two layers are named "a"/)
  })
})
