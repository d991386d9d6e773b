import { batchNormalization, dense, initModel, type Model, sequential } from '@purenn/layers'
import { getKernels, key, normal, type Tensor, tensor } from '@purenn/tensor'
import { heapStats, isOwnedFloats } from '@purenn/tensor/internal'
import { describe, expect, it } from 'vitest'
import { evaluate, mcPredict, predict } from '../src/index.js'
import { probeLayer } from './helpers/problems.js'

// predict, evaluate and mcPredict run each batch's forward pass in a step scope: the batch
// and the intermediates are owned blocks of the kernels' memory, freed when the pass returns.
// The results must be bitwise those of the plain forward pass, the heap must be as before,
// and what predict returns must be an ordinary buffer.

/** The bit patterns of a tensor's values. */
const bits = (t: Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.data).buffer))

const n = 100
const x = normal(key(1), [n, 32])
const y = tensor(Array.from({ length: n }, (_, i) => i % 30))

/** 32 → 64 relu → probe → batch norm → 30 softmax (30 outputs: a batch of 20 rows is 600 floats). */
const model = (where: boolean[]): Model =>
  initModel(
    sequential(
      [
        dense({ units: 64, activation: 'relu' }),
        probeLayer(where),
        batchNormalization(),
        dense({ units: 30, activation: 'softmax' }),
      ],
      { inputShape: [32] },
    ),
    { key: key(0) },
  )

/** The model's forward pass over all rows at once, outside any scope. */
const plain = (m: Model) => m.layer.apply(m.params, m.state, x, { training: false }).y

describe('inference in step scopes', () => {
  it('predict: the bits of the plain forward pass, intermediates on owned blocks, nothing left on the heap', () => {
    expect(getKernels()).toBe('wasm')
    const where: boolean[] = []
    const m = model(where)
    const before = heapStats().ownedBytes
    where.length = 0
    const out = predict(m, x, { batchSize: 20 })
    expect(where).toEqual([true, true, true, true, true])
    expect(heapStats().ownedBytes).toBe(before)
    expect(isOwnedFloats(out.data)).toBe(false)
    expect(bits(out)).toEqual(bits(plain(m)))
    // one batch: its output is copied out of its block before the block is freed
    const one = predict(m, x, { batchSize: n })
    expect(isOwnedFloats(one.data)).toBe(false)
    expect(bits(one)).toEqual(bits(plain(m)))
    expect(heapStats().ownedBytes).toBe(before)
  })

  it('evaluate and mcPredict leave the heap as it was, with the values of the plain pass', () => {
    const where: boolean[] = []
    const m = model(where)
    const before = heapStats().ownedBytes
    const r = evaluate(m, x, y, { loss: 'sparseCategoricalCrossentropy', batchSize: 25 })
    expect(where.slice(-4)).toEqual([true, true, true, true])
    expect(heapStats().ownedBytes).toBe(before)
    // the mean of the per-batch means, against the loss of the whole pass (float32 sums)
    const p = plain(m).data
    let loss = 0
    for (let i = 0; i < n; i++) loss -= Math.log(p[i * 30 + (i % 30)]!)
    expect(r.loss).toBeCloseTo(loss / n, 5)
    const mc = mcPredict(m, x, { key: key(3), samples: 2, batchSize: 50, returnSamples: true })
    expect(heapStats().ownedBytes).toBe(before)
    // no dropout in this model: every sample is the plain pass
    expect(bits(mc.samples!)).toEqual([...bits(plain(m)), ...bits(plain(m))])
  })
})
