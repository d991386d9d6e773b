import { key, mul, sum, type Tensor, tree, valueAndGrad } from '@purenn/tensor'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { type Conv2dParams, conv2d, fromConfig, initModel, l2, sequential, summary } from '../src/index.js'

const conv2dFromConfig = (config: unknown) =>
  fromConfig({ kind: 'Conv2D', config: config as { [k: string]: unknown } })

import { expectClose, gridValue, t32, valuesArb } from './helpers/fd64.js'
import { checkLayerGrad, conv64, flat, fromNested, kerasFixture, type Padding } from './helpers/window64.js'

/** Runs a Keras fixture case through a purenn layer with the case's weights. */
const againstKeras = (name: string, layer: ReturnType<typeof conv2d>) => {
  const c = kerasFixture[name]!
  const x = fromNested(c.x, c.xShape)
  const init = layer.init(key(0), c.xShape.slice(1))
  expect(tree.count(init.params)).toBe(c.paramCount)
  expect(init.outputShape).toEqual(c.yShape.slice(1))
  const [kernel, bias] = c.weights.map((w, i) => fromNested(w, c.weightShapes[i]!))
  const params: Conv2dParams = bias === undefined ? { kernel: kernel! } : { kernel: kernel!, bias }
  const u = fromNested(c.u, c.yShape)
  const { value, grad } = valueAndGrad((p: { x: Tensor; params: Conv2dParams }) => {
    const y = layer.apply(p.params, {}, p.x, { training: true }).y
    return sum(mul(y, u))
  })({ x, params })
  const y = layer.apply(params, {}, x, { training: false }).y
  expect(y.shape).toEqual(c.yShape)
  // float32 sums of ≤ 18 products in a different order: within 1e-5 relative
  expectClose(`${name} forward`, y.data, flat(c.y), 1e-5)
  const grads = c.grads!
  expectClose(`${name} dx`, grad.x.data, flat(grads[0]), 1e-5)
  expectClose(`${name} dkernel`, grad.params.kernel.data, flat(grads[1]), 1e-5)
  if (bias !== undefined) expectClose(`${name} dbias`, grad.params.bias!.data, flat(grads[2]), 1e-5)
  expect(Number.isFinite(value.item())).toBe(true)
}

describe('conv2d layer: Keras semantics (fixture from real Keras 3, scripts/fixtures/conv_layers.py)', () => {
  it("3x3, strides 2, 'same', relu: output, shapes, param count and gradients", () =>
    againstKeras(
      'conv_same_stride2_relu',
      conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
    ))
  it("a 2x3 kernel dilated 2, 'valid', no bias", () =>
    againstKeras(
      'conv_valid_dilation2',
      conv2d({ filters: 2, kernelSize: [2, 3], dilationRate: 2, useBias: false }),
    ))
  it("strides (2, 1) with 'same' padding: TF's padding split per axis", () =>
    againstKeras(
      'conv_same_stride_2x1',
      conv2d({ filters: 2, kernelSize: 2, strides: [2, 1], padding: 'same' }),
    ))

  it('Keras defaults: glorotUniform kernel with the receptive field in the fans, zero bias, stride 1, valid', () => {
    const layer = conv2d({ filters: 8, kernelSize: 3 })
    expect(layer.config).toMatchObject({
      strides: [1, 1],
      padding: 'valid',
      dilationRate: [1, 1],
      useBias: true,
    })
    const { params, outputShape } = layer.init(key(3), [10, 10, 4])
    expect(outputShape).toEqual([8, 8, 8])
    expect(Array.from(params.bias!.data)).toEqual(new Array(8).fill(0))
    // Glorot uniform limit sqrt(6 / (fanIn + fanOut)), fanIn = 3·3·4, fanOut = 3·3·8
    const limit = Math.sqrt(6 / (36 + 72))
    const k = Array.from(params.kernel.data)
    expect(Math.max(...k.map(Math.abs))).toBeLessThanOrEqual(limit)
    expect(Math.max(...k.map(Math.abs))).toBeGreaterThan(0.9 * limit)
  })

  it('summary shows Keras output shapes and param counts', () => {
    const model = initModel(
      sequential(
        [
          conv2d({ filters: 32, kernelSize: 3, padding: 'same' }),
          conv2d({ filters: 4, kernelSize: 5, strides: 2 }),
        ],
        {
          inputShape: [28, 28, 1],
        },
      ),
      { key: key(0) },
    )
    const lines = summary(model).split('\n')
    expect(lines[4]!.trimEnd()).toBe(' conv2d (Conv2D)             (None, 28, 28, 32)        320')
    expect(lines[6]!.trimEnd()).toBe(' conv2d_1 (Conv2D)           (None, 12, 12, 4)         3204')
  })
})

describe('conv2d layer: gradients (float64 central differences)', () => {
  const caseArb = fc
    .record({
      n: fc.integer({ min: 1, max: 2 }),
      h: fc.integer({ min: 3, max: 5 }),
      w: fc.integer({ min: 3, max: 5 }),
      c: fc.integer({ min: 1, max: 2 }),
      f: fc.integer({ min: 1, max: 2 }),
      k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      s: fc.integer({ min: 1, max: 2 }),
      padding: fc.constantFrom<Padding>('valid', 'same'),
      useBias: fc.boolean(),
    })
    .chain((r) =>
      fc.record({
        r: fc.constant(r),
        x: valuesArb(r.n * r.h * r.w * r.c),
        kernel: valuesArb(r.k[0] * r.k[1] * r.c * r.f),
        bias: valuesArb(r.f),
        w: fc.array(gridValue, { minLength: 16, maxLength: 16 }),
      }),
    )
  it('input, kernel and bias, with and without bias, both paddings', () =>
    fc.assert(
      fc.property(caseArb, ({ r, x, kernel, bias, w }) => {
        const layer = conv2d({
          filters: r.f,
          kernelSize: r.k,
          strides: r.s,
          padding: r.padding,
          useBias: r.useBias,
        })
        const kShape = [...r.k, r.c, r.f]
        const params: Conv2dParams = r.useBias
          ? { kernel: t32(kernel, kShape), bias: t32(bias, [r.f]) }
          : { kernel: t32(kernel, kShape) }
        checkLayerGrad(
          'conv2d',
          layer,
          params,
          t32(x, [r.n, r.h, r.w, r.c]),
          (x64, ...ps) => {
            const [k64, b64] = [ps[0]!, ps[1]] // tree.flatten order: kernel, bias
            const { y } = conv64(x64, [r.n, r.h, r.w, r.c], k64, kShape, [r.s, r.s], [1, 1], r.padding)
            if (b64 !== undefined) for (let i = 0; i < y.length; i++) y[i] = y[i]! + b64[i % r.f]!
            return y
          },
          w,
        )
      }),
      { seed: 1201, numRuns: 25 },
    ))
})

describe('conv2d layer: options and config', () => {
  it('rebuilds from its JSON config with every option', () => {
    const layer = conv2d({
      filters: 4,
      kernelSize: [3, 1],
      strides: 2,
      padding: 'same',
      activation: 'tanh',
      useBias: false,
      kernelInitializer: 'heNormal',
      kernelRegularizer: l2(0.1),
      name: 'c',
    })
    const r = conv2dFromConfig(JSON.parse(JSON.stringify(layer.config)))
    expect(E.isRight(r) && r.right.config).toEqual(layer.config)
    expect(E.isRight(r) && r.right.penalty !== undefined).toBe(true)
  })
  it("regularizers: the penalty is Keras' c·Σw² on the kernel (and bias)", () => {
    const layer = conv2d({ filters: 2, kernelSize: 1, kernelRegularizer: l2(0.1), biasRegularizer: l2(1) })
    const params: Conv2dParams = { kernel: t32([1, 2, 3, 4], [1, 1, 2, 2]), bias: t32([0.5, -1], [2]) }
    // 0.1·(1 + 4 + 9 + 16) + 1·(0.25 + 1) = 3 + 1.25
    expect(layer.penalty!(params).item()).toBeCloseTo(4.25, 5)
    expect(conv2d({ filters: 1, kernelSize: 1 }).penalty).toBeUndefined()
  })
  it('rejects bad options, naming them', () => {
    expect(() => conv2d({ filters: 0, kernelSize: 3 })).toThrow(
      'conv2d: filters must be a positive integer, got 0',
    )
    expect(() => conv2d({ filters: 1, kernelSize: [3, 0] })).toThrow(/kernelSize must be a positive integer/)
    expect(() => conv2d({ filters: 1, kernelSize: 3, strides: 2, dilationRate: 2 })).toThrow(
      /cannot both exceed 1/,
    )
    expect(() => conv2d({ filters: 1, kernelSize: 3, padding: 'full' as Padding })).toThrow(/padding must be/)
    expect(() => conv2d({ filters: 1, kernelSize: 5 }).init(key(0), [4, 4, 1])).toThrow(/does not fit/)
    expect(() => conv2d({ filters: 1, kernelSize: 3 }).init(key(0), [28, 28])).toThrow(
      /\(height, width, channels\)/,
    )
    const bad = conv2dFromConfig({ ...conv2d({ filters: 1, kernelSize: 3 }).config, kernelSize: [3, -1] })
    expect(E.isLeft(bad) && bad.left).toMatch(/^Conv2D config: kernelSize must be/)
    const missing = conv2dFromConfig({ filters: 1 })
    expect(E.isLeft(missing) && missing.left).toMatch(/^Conv2D config: kernelSize: expected/)
  })
})
