import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from '@fast-check/vitest'
import { key, mul, sum, type Tensor, tensor, valueAndGrad } from '@purenn/tensor'
import { checkGrads } from '@purenn/testing'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  add,
  applyModel,
  batchNormalization,
  concatenate,
  dense,
  fanInConcat,
  fanInSum,
  fanOut,
  flatten,
  freeze,
  fromConfig,
  getWeights,
  identity,
  initModel,
  loadModel,
  named,
  parallel,
  residual,
  saveModel,
  sequential,
  serial,
  setWeights,
  summary,
  toSpec,
  weightNames,
} from '../src/index.js'
import { expectClose, matmul64, t32, valuesArb } from './helpers/fd64.js'

const infer = { training: false } as const
const bitsOf = (ts: readonly Tensor[]) =>
  ts.map((t) => [...new Uint32Array(Float32Array.from(t.data).buffer)])

let root = ''
beforeAll(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'purenn-serial-test-'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

describe('serial, fanOut, parallel, fanInSum, fanInConcat, identity: stax semantics', () => {
  it('serial chains; fanOut copies; parallel maps; fanInSum adds; fanInConcat joins on the last axis', () => {
    const x = tensor([[1, 2]])
    const branch = serial(
      fanOut(2),
      parallel(dense({ units: 3, kernelInitializer: 'ones', biasInitializer: 'ones' }), identity()),
      fanInConcat(),
    )
    const { params, state, outputShape } = branch.init(key(0), [2])
    expect(outputShape).toEqual([5])
    // dense: 1 + 2 + 1 = 4 on each unit; identity: 1, 2
    expect([...branch.apply(params, state, x, infer).y.data]).toEqual([4, 4, 4, 1, 2])
    const sum = serial(fanOut(3), fanInSum())
    const s = sum.init(key(0), [2])
    expect([...sum.apply(s.params, s.state, x, infer).y.data]).toEqual([3, 6])
  })
  it('fanInConcat counts the batch axis as Keras does: axis 1 of [2, 3] and [4, 3] inputs', () => {
    const c = fanInConcat({ axis: 1 })
    expect(
      c.init(key(0), [
        [2, 3],
        [4, 3],
      ]).outputShape,
    ).toEqual([6, 3])
    const a = tensor([
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
    ])
    const b = tensor([[[3, 3, 3]]])
    const y = c.apply({}, {}, [a, b], infer).y
    expect(y.shape).toEqual([1, 3, 3])
    expect([...y.data]).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3])
    expect(() => fanInConcat({ axis: 0 }).init(key(0), [[2], [2]])).toThrow(
      /out of range \(or the batch axis\)/,
    )
    expect(() =>
      c.init(key(0), [
        [2, 3],
        [4, 2],
      ]),
    ).toThrow('fanInConcat: inputs must agree except on axis 1, got [2,3], [4,2]')
  })
  it('refuses mismatched inputs with the shapes in the message', () => {
    expect(() => fanInSum().init(key(0), [[3], [4]])).toThrow(
      'fanInSum: inputs must have one shape, got [3], [4]',
    )
    expect(() => parallel(identity(), identity()).init(key(0), [[3], [3], [3]])).toThrow(
      'parallel.init: expected a list of 2 inputs, got 3',
    )
    // @ts-expect-error: a parallel takes a list of shapes; checked at run time too
    expect(() => parallel(identity()).init(key(0), [3])).toThrow(
      'parallel.init: expected a list of 1 input shapes, got [3]',
    )
    expect(() => residual(dense({ units: 2 })).init(key(0), [3])).toThrow(
      'residual: the block (Dense) maps [3] to [2]; it must keep the shape',
    )
    expect(() => fanOut(0)).toThrow('fanOut: n must be a positive integer, got 0')
    expect(() => serial(dense({ units: 1, name: 'a' }), dense({ units: 1, name: 'a' }))).toThrow(
      'serial: two layers are named "a"',
    )
  })
})

describe('residual: y = x + block(x)', () => {
  // block = dense(tanh) of a 3×3 kernel: y = x + tanh(x·W + b), in float64
  const ref = (xs: readonly Float64Array[]) => {
    const [x, w, b] = xs as [Float64Array, Float64Array, Float64Array]
    const z = matmul64(x, w, 2, 3, 3)
    return z.map((v, i) => x[i]! + Math.tanh(v + b[i % 3]!))
  }
  test.prop([valuesArb(6), valuesArb(9), valuesArb(3), valuesArb(6)], { seed: 9, numRuns: 25 })(
    'forward and gradients (params and input) pass checkGrads against float64 (tol 1e-3 relative)',
    (x, w, b, cot) => {
      const r = residual(dense({ units: 3, activation: 'tanh' }))
      const params = { kernel: t32(w, [3, 3]), bias: t32(b, [3]) }
      const xs64 = [x, w, b].map((v) => Float64Array.from(v))
      expectClose('forward', r.apply(params, {}, t32(x, [2, 3]), infer).y.data, ref(xs64), 1e-5)
      // checkGrads of @purenn/testing: objective Σ cot ⊙ y, float64 central differences of `ref`
      // (h = 1e-6), tolerance 1e-3·(1 + |numeric|); tanh is smooth, so no kink may be reported
      const report = checkGrads(
        (xt: Tensor, kernel: Tensor, bias: Tensor) => r.apply({ kernel, bias }, {}, xt, infer).y,
        [t32(x, [2, 3]), params.kernel, params.bias],
        { cotangent: cot, reference: (...xs) => ref(xs), rtol: 1e-3, atol: 1e-3 },
      )
      expect(report.checked).toBe(18)
      expect(report.kinks).toBe(0)
    },
  )
  test.prop([valuesArb(4), valuesArb(6), valuesArb(6)], { seed: 10, numRuns: 25 })(
    'fanOut → parallel(dense, identity) → fanInConcat: gradient of the input sums both branches',
    (x, w, cot) => {
      const net = serial(fanOut(2), parallel(dense({ units: 1, useBias: false }), identity()), fanInConcat())
      const params = {
        fan_out: {},
        parallel: { dense: { kernel: t32(w.slice(0, 2), [2, 1]) }, identity: {} },
        fan_in_concat: {},
      }
      const state = { fan_out: {}, parallel: { dense: {}, identity: {} }, fan_in_concat: {} }
      const cotT = t32(cot, [2, 3])
      const { grad } = valueAndGrad((xt: Tensor) => sum(mul(net.apply(params, state, xt, infer).y, cotT)))(
        t32(x, [2, 2]),
      )
      // y = [x·w, x0, x1] per row: dL/dx_j = cot0·w_j + cot_{1+j}
      const want = [0, 1].flatMap((r) => [0, 1].map((j) => cot[r * 3]! * w[j]! + cot[r * 3 + 1 + j]!))
      expectClose('d/dx', grad.data, want, 1e-5)
    },
  )
  test.prop([valuesArb(6), valuesArb(6)], { seed: 11, numRuns: 25 })(
    'fanOut(3) → fanInSum: y = 3x, and the gradient of the input is 3·cotangent (exact)',
    (x, cot) => {
      const net = serial(fanOut(3), fanInSum())
      const state = { fan_out: {}, fan_in_sum: {} }
      const xt = t32(x, [2, 3])
      expect([...net.apply(state, state, xt, infer).y.data]).toEqual(x.map((v) => Math.fround(3 * v)))
      const { grad } = valueAndGrad((v: Tensor) =>
        sum(mul(net.apply(state, state, v, infer).y, t32(cot, [2, 3]))),
      )(xt)
      expect([...grad.data]).toEqual(cot.map((c) => Math.fround(3 * c)))
    },
  )
})

describe('containers in models: names, weights, freeze by path, summary, save/load', () => {
  const arch = () =>
    sequential(
      [
        flatten(),
        dense({ units: 4 }),
        named('block1', residual(serial(dense({ units: 4, activation: 'relu' }), batchNormalization()))),
        residual(serial(dense({ units: 4 }))),
        dense({ units: 2, activation: 'softmax' }),
      ],
      { inputShape: [2, 2] },
    )
  const x = tensor(
    Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)),
    [3, 2, 2],
  )

  it('weights are listed child by child, through residuals (no extra level)', () => {
    const model = initModel(arch(), { key: key(1) })
    expect(weightNames(model)).toEqual([
      'dense.kernel',
      'dense.bias',
      'block1.dense.kernel',
      'block1.dense.bias',
      'block1.batch_normalization.gamma',
      'block1.batch_normalization.beta',
      'block1.batch_normalization.movingMean',
      'block1.batch_normalization.movingVariance',
      'residual.dense.kernel',
      'residual.dense.bias',
      'dense_1.kernel',
      'dense_1.bias',
    ])
    expect(model.params.block1.dense.kernel.shape).toEqual([4, 4])
    expect(model.params.residual.dense.kernel.shape).toEqual([4, 4])
  })
  it('setWeights(b, getWeights(a)) makes b compute what a computes', () => {
    const a = initModel(arch(), { key: key(1) })
    const b = initModel(arch(), { key: key(2) })
    expect([...applyModel(b, x).y.data]).not.toEqual([...applyModel(a, x).y.data])
    expect([...applyModel(setWeights(b, getWeights(a)), x).y.data]).toEqual([...applyModel(a, x).y.data])
  })
  it("freeze('block1/dense') freezes that layer only; an unknown path names the layers there", () => {
    const model = freeze(initModel(arch(), { key: key(1) }), ['block1/dense'])
    expect(model.trainable).toEqual({
      flatten: {},
      dense: { kernel: true, bias: true },
      block1: { dense: { kernel: false, bias: false }, batch_normalization: { gamma: true, beta: true } },
      residual: { dense: { kernel: true, bias: true } },
      dense_1: { kernel: true, bias: true },
    })
    expect(() => freeze(model, ['block1/dens'])).toThrow(
      'freeze: no layer named "block1/dens"; the layers of block1 are dense, batch_normalization',
    )
  })
  it('summary draws the nested rows inside | frames (Keras expand_nested layout)', () => {
    const lines = summary(initModel(arch(), { key: key(1) })).split('\n')
    const block = lines.findIndex((l) => l.startsWith(' block1 (Residual)'))
    // block1: dense 4·4+4 = 20, batch norm 4·4 = 16
    expect(lines[block]!.trimEnd()).toBe(' block1 (Residual)           (None, 4)                 36')
    expect(lines[block + 1]).toBe(`|${'¯'.repeat(63)}|`)
    expect(lines[block + 2]).toBe(`| dense (Dense)              (None, 4)                 20       |`)
    expect(lines[block + 3]).toBe(`|${' '.repeat(63)}|`)
    expect(lines[block + 4]).toBe(`| batch_normalization (BatchN  (None, 4)               16       |`)
    expect(lines[block + 5]).toBe(`| ormalization)                                                 |`)
    expect(lines[block + 6]).toBe('¯'.repeat(65))
    expect(lines[block + 7]).toBe(' '.repeat(65))
    // 4·4+4 + 36 + 20 + 4·2+2 = 86 params; 8 of them moving statistics
    expect(lines.slice(-4, -1)).toEqual([
      'Total params: 86',
      'Trainable params: 78',
      'Non-trainable params: 8',
    ])
    expect(summary(initModel(arch(), { key: key(1) }), { expandNested: false }).includes('¯')).toBe(false)
  })
  it('saves and loads bitwise (weights, outputs, architecture, mask)', async () => {
    const model = freeze(initModel(arch(), { key: key(3) }), ['residual/dense'])
    const trained = { ...model, state: applyModel(model, x, { training: true }).state }
    const dir = join(root, 'resnet')
    await saveModel(trained, dir)
    const loaded = await loadModel(dir)
    expect(bitsOf(getWeights(loaded))).toEqual(bitsOf(getWeights(trained)))
    expect(loaded.layer.config).toEqual(trained.layer.config)
    expect(loaded.trainable).toEqual(trained.trainable)
    expect([...applyModel(loaded, x).y.data]).toEqual([...applyModel(trained, x).y.data])
  })
  it('every combinator rebuilds from its spec', () => {
    const layers = [
      serial(dense({ units: 2 }), named('id', identity())),
      parallel(identity(), dense({ units: 1 })),
      fanOut(3, { name: 'f' }),
      fanInSum(),
      fanInConcat({ axis: 2 }),
      residual(dense({ units: 3 }), { name: 'r' }),
      add(),
      concatenate({ axis: 1 }),
    ]
    for (const l of layers) {
      const r = fromConfig(toSpec(l))
      expect(E.isRight(r) && r.right.kind).toBe(l.kind)
      expect(E.isRight(r) && r.right.config).toEqual(l.config)
    }
    const badDense = { ...toSpec(dense({ units: 1 })).config, units: -1 }
    const bad = fromConfig({ kind: 'Residual', config: { block: { kind: 'Dense', config: badDense } } })
    expect(E.isLeft(bad) && bad.left).toMatch(/^block: Dense config: units/)
    const fan = fromConfig({ kind: 'FanOut', config: { n: 0 } })
    expect(E.isLeft(fan) && fan.left).toBe('FanOut config: n must be a positive integer, got 0')
  })
})
