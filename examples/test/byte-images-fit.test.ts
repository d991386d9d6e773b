/**
 * Training on images kept as bytes (scaled per batch) gives bit for bit the weights that
 * training on the images scaled up front gives, which is what `pnpm train` did before it
 * kept the bytes: the chapter's batch-norm model with Adam, on a subset of synthetic images.
 */
import { data, layers, optim, tensor, train } from 'purenn'
import { describe, expect, it } from 'vitest'
import { bnAfter } from '../lib/chapter.js'

const n = 96
let s = 12345
const bytes = Uint8Array.from({ length: n * 784 }, () => {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0
  return s >>> 24
})
const labels = tensor.tensor(Float32Array.from({ length: n }, (_, i) => (i * 7) % 10))
// the reference: the conversion done up front, as the float loader does it
const floats = new Float32Array(bytes.length)
for (let i = 0; i < bytes.length; i++) floats[i] = bytes[i]! / 255
const asFloat = tensor.tensor(floats, [n, 28, 28])
const asBytes = data.byteImages(bytes, [n, 28, 28])

const bits = (m: layers.Model) =>
  tensor.tree
    .leaves({ params: m.params, state: m.state } as never)
    .map((t) => Array.from(new Uint32Array(Float32Array.from(t.data).buffer)))

const run = (x: train.Rows, opts: { shuffle: boolean; split: boolean }) =>
  train.fit(layers.initModel(bnAfter(), { key: tensor.key(3) }), x, labels, {
    loss: 'sparseCategoricalCrossentropy',
    optimizer: optim.adam(),
    metrics: ['accuracy'],
    epochs: 1,
    batchSize: 32,
    key: tensor.key(4),
    shuffle: opts.shuffle,
    verbose: 0,
    ...(opts.split ? { validationSplit: 0.25 } : { validationData: [x, labels] as const }),
  })

describe('fit on byte images', () => {
  for (const opts of [
    { shuffle: true, split: false },
    { shuffle: false, split: true },
  ])
    it(`gives the weights and history of fit on floats scaled up front (shuffle ${opts.shuffle}, validationSplit ${opts.split})`, async () => {
      const a = await run(asFloat, opts)
      const b = await run(asBytes, opts)
      expect(b.history.history).toEqual(a.history.history)
      expect(bits(b.model)).toEqual(bits(a.model))
      // and the training changed the model (the comparison is not of two initial models)
      expect(bits(a.model)).not.toEqual(bits(layers.initModel(bnAfter(), { key: tensor.key(3) })))
      const p = train.predict(a.model, asFloat)
      expect(Array.from(train.predict(a.model, asBytes).data)).toEqual(Array.from(p.data))
    })
})
