// generated from docs/guides/testing-your-own-layer.md by guide.test.ts

import type { CustomLayers, Layer } from '@purenn/layers'
import { adam, chain, clipByGlobalNorm } from '@purenn/optim'
import {
  add,
  key,
  mean,
  mul,
  ones,
  rsqrt,
  stopGradient,
  sub,
  type Tensor,
  tensor,
  variance,
  zeros,
} from '@purenn/tensor'
import { checkGrads, checkLayer, checkTransformation, tensorArb } from '@purenn/testing'
import fc from 'fast-check'

type LayerNormParams = { readonly gamma: Tensor; readonly beta: Tensor }
type NoState = { readonly [key: string]: never }

const layerNormalization = (opts: { epsilon?: number } = {}): Layer<LayerNormParams, NoState> => {
  const epsilon = opts.epsilon ?? 1e-3
  return {
    kind: 'LayerNormalization',
    config: { epsilon },
    init: (_key, inputShape) => {
      const features = inputShape.at(-1)!
      return {
        params: { gamma: ones([features]), beta: zeros([features]) },
        state: {},
        outputShape: inputShape,
      }
    },
    apply: ({ gamma, beta }, state, x) => {
      const centered = sub(x, mean(x, -1, true))
      const scale = rsqrt(add(variance(x, -1, true), epsilon))
      return { y: add(mul(mul(centered, scale), gamma), beta), state }
    },
  }
}

const ln = layerNormalization()
const { params } = ln.init(key(0), [3])
console.log(ln.apply(params, {}, tensor([[1, 2, 3]]), { training: false }).y.toString()) // tensor([[-1.22383, 0, 1.22383]])

const customLayers: CustomLayers = {
  LayerNormalization: (config) => {
    const epsilon = (config as { epsilon?: unknown }).epsilon
    return typeof epsilon === 'number' && epsilon > 0
      ? { _tag: 'Right', right: layerNormalization({ epsilon }) }
      : {
          _tag: 'Left',
          left: `LayerNormalization config: epsilon must be a positive number, got ${String(epsilon)}`,
        }
  },
}

const report = await checkLayer(layerNormalization(), { inputShape: [4], customLayers, numRuns: 10 })
console.log(report.checked.join(', ')) // init determinism, output shape, purity, inference, state threading, gradients, config round trip, save/load round trip

/** Layer norm of rows of 4 features, in float64. */
const layerNorm64 = (x: Float64Array, gamma: Float64Array, beta: Float64Array): Float64Array => {
  const y = new Float64Array(x.length)
  for (let r = 0; r < x.length / 4; r++) {
    const row = x.subarray(4 * r, 4 * r + 4)
    const mu = row.reduce((s, v) => s + v, 0) / 4
    const v2 = row.reduce((s, v) => s + (v - mu) ** 2, 0) / 4
    row.forEach((v, j) => {
      y[4 * r + j] = (gamma[j]! * (v - mu)) / Math.sqrt(v2 + 1e-3) + beta[j]!
    })
  }
  return y
}

const apply = (x: Tensor, gamma: Tensor, beta: Tensor) =>
  ln.apply({ gamma, beta }, {}, x, { training: false }).y
fc.assert(
  fc.property(tensorArb([2, 4]), tensorArb([4]), tensorArb([4]), (x, gamma, beta) => {
    checkGrads(apply, [x, gamma, beta], { reference: layerNorm64, order: 2 })
  }),
  { seed: 42, numRuns: 20 },
)
console.log('layer norm: first and second derivatives match') // layer norm: first and second derivatives match

const buggy = (x: Tensor, gamma: Tensor, beta: Tensor) => {
  const centered = sub(x, stopGradient(mean(x, -1, true)))
  const scale = rsqrt(add(variance(x, -1, true), 1e-3))
  return add(mul(mul(centered, scale), gamma), beta)
}
let message = ''
try {
  fc.assert(
    fc.property(tensorArb([2, 4]), tensorArb([4]), tensorArb([4]), (x, gamma, beta) => {
      checkGrads(buggy, [x, gamma, beta], { reference: layerNorm64 })
    }),
    { seed: 42, numRuns: 20, includeErrorInReport: true },
  )
} catch (e) {
  message = (e as Error).message
}
console.log(message.split('\n')[0]) // Property failed after 1 tests
console.log(/Shrunk \d+ time\(s\)/.test(message), message.includes('checkGrads: d/d(args[0])')) // true true

console.log(checkTransformation(chain(clipByGlobalNorm(1), adam()), { numRuns: 5 }).checked.join(', ')) // purity, shapes, identity, masking
