import { dense, initModel, sequential } from '@purenn/layers'
import { sgd } from '@purenn/optim'
import { key, tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { divergenceGuard, evaluate, fit } from '../src/index.js'
import { allFinite, blobs, bnModel, linearModel } from './helpers/problems.js'

// Training that fails safe: a fault (non-finite loss, state or weights, a diverging loss) stops
// fit, which returns the last model whose loss was finite and marks history.fault.

const p = blobs(key(70), 64)

describe('fit: faults', () => {
  it('SGD at learning rate 1e30: stops, and the model returned has a finite loss on the data', async () => {
    const regression = initModel(sequential([dense({ units: 1 })], { inputShape: [2] }), { key: key(71) })
    const { model, history } = await fit(regression, p.x, p.y, {
      loss: 'meanSquaredError',
      optimizer: sgd({ learningRate: 1e30 }),
      epochs: 3,
      batchSize: 8,
      verbose: 0,
    })
    expect(history.fault).toBe(true)
    expect(allFinite(model.params)).toBe(true)
    expect(history.stopReason).toMatch(
      /^Epoch 1, step \d\/8: invalid loss \((NaN|Infinity)\), terminating training$/,
    )
    // the weights that produced the non-finite loss are not the ones returned
    expect(Number.isFinite(evaluate(model, p.x, p.y, { loss: 'meanSquaredError' }).loss!)).toBe(true)
  })

  it('an input of 1e30 that would put Inf into the batch-norm moving statistics stops training; no checkpoint holds it', async () => {
    const x = tensor(
      Array.from(p.x.data, (v, i) => (i === 20 ? 1e30 : v)),
      p.x.shape,
    )
    const saved: unknown[] = []
    const { model, history } = await fit(bnModel(key(72)), x, p.y, {
      loss: 'sparseCategoricalCrossentropy',
      optimizer: sgd({ learningRate: 0.01 }),
      epochs: 2,
      batchSize: 8,
      shuffle: false,
      verbose: 0,
      callbacks: [
        {
          name: 'spy',
          init: () => null,
          onEpochEnd: (s, e) => {
            saved.push(e.model)
            return { state: s }
          },
        },
      ],
    })
    expect(history.fault).toBe(true)
    expect(history.stopReason).toMatch(
      /^Epoch 1, step 2\/8: (invalid loss \((NaN|Infinity)\)|non-finite value in the model's state \(batch_normalization\.moving(Mean|Variance)\)), terminating training$/,
    )
    expect(allFinite(model.state)).toBe(true)
    expect(allFinite(model.params)).toBe(true)
    expect(saved).toEqual([]) // no epoch ended: no callback ever saw a faulty model
  })

  it('a clean run has no fault', async () => {
    const { history } = await fit(linearModel(key(73)), p.x, p.y, {
      loss: 'sparseCategoricalCrossentropy',
      optimizer: sgd({ learningRate: 0.1 }),
      epochs: 3,
      batchSize: 8,
      verbose: 0,
      callbacks: [divergenceGuard({ patience: 5 })],
    })
    expect(history.fault).toBeUndefined()
    expect(history.stopReason).toBeUndefined()
  })
})

describe('divergenceGuard', () => {
  it('stops a run whose loss goes up and stays finite (cross-entropy at learning rate 1e6)', async () => {
    const { model, history } = await fit(linearModel(key(74)), p.x, p.y, {
      loss: 'sparseCategoricalCrossentropy',
      optimizer: sgd({ learningRate: 1e6 }),
      epochs: 20,
      batchSize: 4,
      verbose: 0,
      callbacks: [divergenceGuard({ factor: 3, patience: 10 })],
    })
    expect(history.fault).toBe(true)
    expect(history.stopReason).toMatch(
      /^Epoch \d+, step \d+\/16: the loss diverged \(smoothed [\d.]+, more than 3x its minimum/,
    )
    expect(allFinite(model.params)).toBe(true)
  })

  it('fires exactly when the smoothed loss has stayed above factor x its running minimum for patience steps', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: Math.fround(0.01), max: 100, noNaN: true }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.double({ min: 1.5, max: 5, noNaN: true }),
        fc.integer({ min: 1, max: 5 }),
        fc.double({ min: 0, max: 0.95, noNaN: true }),
        (losses, factor, patience, smoothing) => {
          const g = divergenceGuard({ factor, patience, smoothing })
          let s = g.init()
          // the reference, written from the formula
          let sm: number | undefined
          let best = Number.POSITIVE_INFINITY
          let above = 0
          for (const [i, loss] of losses.entries()) {
            sm = sm === undefined ? loss : smoothing * sm + (1 - smoothing) * loss
            best = Math.min(best, sm)
            above = sm > factor * best ? above + 1 : 0
            const v = g.onBatchEnd!(s, { epoch: 0, step: i + 1, steps: losses.length, loss })
            s = v.state
            expect(v.stop === true).toBe(above >= patience)
            if (v.stop === true) return
          }
        },
      ),
      { numRuns: 200, seed: 75 },
    )
  })

  it('refuses meaningless settings', () => {
    expect(() => divergenceGuard({ factor: 1 })).toThrow('divergenceGuard: factor must be > 1, got 1')
    expect(() => divergenceGuard({ patience: 0 })).toThrow(
      'divergenceGuard: patience must be a positive integer, got 0',
    )
    expect(() => divergenceGuard({ smoothing: 1 })).toThrow(
      'divergenceGuard: smoothing must be in [0, 1), got 1',
    )
  })
})
