import {
  type AnyLayer,
  activation,
  batchNormalization,
  dense,
  dropout,
  flatten,
  type Layer,
  mcDropout,
  sequential,
} from '@purenn/layers'
import { add, mul, type Tensor, tanh, zeros } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import { checkLayer } from '../src/index.js'

describe('checkLayer on the built-in layers', () => {
  it('dense (with and without bias, relu kinks detected)', async () => {
    const r = await checkLayer(dense({ units: 3, activation: 'relu' }), { inputShape: [4], numRuns: 5 })
    expect(r.checked).toEqual([
      'init determinism',
      'output shape',
      'purity',
      'inference',
      'state threading',
      'gradients',
      'config round trip',
      'save/load round trip',
    ])
    expect(r.derivatives).toBeGreaterThan(0)
    await checkLayer(dense({ units: 2, useBias: false, activation: 'tanh' }), { inputShape: [3], numRuns: 5 })
  })

  it('batch normalization: batch statistics and moving averages, over the last axis and over [1, 2]', async () => {
    const r = await checkLayer(batchNormalization({ momentum: 0.9 }), {
      inputShape: [3],
      batchSize: 4,
      numRuns: 5,
    })
    expect(r.checked).toContain('batch statistics')
    await checkLayer(batchNormalization({ axis: [1, 2], center: false }), {
      inputShape: [2, 2],
      batchSize: 4,
      numRuns: 3,
    })
  })

  it('dropout, flatten, activation and a sequential of them', async () => {
    await checkLayer(dropout({ rate: 0.5 }), { inputShape: [4], numRuns: 5 })
    await checkLayer(flatten(), { inputShape: [2, 2], numRuns: 3 })
    await checkLayer(activation('softmax'), { inputShape: [3], numRuns: 3 })
    await checkLayer(
      sequential([
        flatten(),
        dense({ units: 3, activation: 'elu' }),
        dropout({ rate: 0.2 }),
        dense({ units: 2 }),
      ]),
      { inputShape: [2, 2], numRuns: 3 },
    )
  })

  it('Monte Carlo dropout: stochastic at inference when told so', async () => {
    await checkLayer(mcDropout({ rate: 0.3 }), { inputShape: [4], numRuns: 3, deterministicInference: false })
    await expect(checkLayer(mcDropout({ rate: 0.3 }), { inputShape: [4], numRuns: 3 })).rejects.toThrow(
      /checkLayer\(MCDropout\): inference output depends on the key/,
    )
  })
})

describe('checkLayer finds broken layers', () => {
  const scaleBy = (c: number): Layer<{ w: Tensor }, { [k: string]: never }> => ({
    kind: 'ScaleBy',
    config: { c },
    init: (_k, s) => ({ params: { w: zeros(s.slice(-1)) }, state: {}, outputShape: s }),
    apply: ({ w }, state, x) => ({ y: tanh(mul(add(x, w), c)), state }),
  })
  const custom = {
    ScaleBy: (u: unknown) => ({ _tag: 'Right' as const, right: scaleBy((u as { c: number }).c) as AnyLayer }),
  }

  it('a correct user layer passes, with its custom kind', async () => {
    await checkLayer(scaleBy(0.5), { inputShape: [3], numRuns: 3, customLayers: custom })
  })

  it('a layer whose gradient is wrong: the failing derivative is named', async () => {
    const wrong: Layer<{ w: Tensor }, { [k: string]: never }> = {
      ...scaleBy(1),
      // w is read as a number, so its gradient is lost (what a hand-written VJP that forgets a parent does)
      apply: ({ w }, state, x) => ({ y: tanh(add(x, w.data[0]!)), state }),
    }
    await expect(checkLayer(wrong, { inputShape: [3], numRuns: 3, customLayers: custom })).rejects.toThrow(
      /checkLayer\(ScaleBy\): gradient in inference \(args\[0\] is the input, then the params w\): checkGrads: d\/d\(args\[1\]\)\[0\] is 0 \(reverse mode\)/,
    )
  })

  it('a layer that forgets part of its config', async () => {
    const forgetful = { ...scaleBy(2), config: {} }
    await expect(
      checkLayer(forgetful, { inputShape: [3], numRuns: 2, customLayers: custom }),
    ).rejects.toThrow(
      /checkLayer\(ScaleBy\): the layer rebuilt from its config \(fromConfig\(toSpec\(layer\)\)\) threw in apply/,
    )
  })

  it('a layer whose init draws from hidden state', async () => {
    let calls = 0
    const hidden: Layer<{ w: Tensor }, { [k: string]: never }> = {
      ...scaleBy(1),
      init: (_k, s) => ({
        params: { w: zeros(s.slice(-1)).data.length ? zerosPlus(s, calls++) : zeros(s) },
        state: {},
        outputShape: s,
      }),
    }
    const zerosPlus = (s: readonly number[], v: number) => add(zeros(s.slice(-1)), v)
    await expect(checkLayer(hidden, { inputShape: [3], numRuns: 2, customLayers: custom })).rejects.toThrow(
      /init with the same key gave different params or state: "w" element 0: \d+ vs \d+/,
    )
  })
})
