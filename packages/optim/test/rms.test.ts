import { tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { scaleByRms } from '../src/index.js'
import {
  expectRelClose,
  fixedGradients,
  mapValues,
  nonZeroFloat,
  problemArb,
  run,
  runFixed,
  values,
} from './helpers/trees.js'

describe('scaleByRms', () => {
  it('is g / √(ν + ε) with ν ← ρν + (1 − ρ)g², ε inside the root', () => {
    const gs = fixedGradients
    const steps = runFixed(scaleByRms({ rho: 0.8, epsilon: 0.01 }))
    let nu = [0, 0]
    steps.forEach((s, k) => {
      const g = gs[k]!
      nu = nu.map((v, i) => 0.8 * v + 0.2 * g[i]! ** 2)
      expectRelClose(values(s.state.nu), nu)
      expectRelClose(
        values(s.updates),
        g.map((x, i) => x / Math.sqrt(nu[i]! + 0.01)),
      )
    })
  })

  it('centered divides by √(ν − m² + ε) with m the moving average of g', () => {
    const gs = fixedGradients
    const steps = runFixed(scaleByRms({ centered: true }))
    let nu = [0, 0]
    let mu = [0, 0]
    steps.forEach((s, k) => {
      const g = gs[k]!
      nu = nu.map((v, i) => 0.9 * v + 0.1 * g[i]! ** 2)
      mu = mu.map((m, i) => 0.9 * m + 0.1 * g[i]!)
      expectRelClose(values(s.state.mu ?? {}), mu)
      expectRelClose(
        values(s.updates),
        g.map((x, i) => x / Math.sqrt(nu[i]! - mu[i]! ** 2 + 1e-7)),
      )
    })
  })

  it('makes the update scale-free: scaling all gradients by a power of 2 leaves the updates unchanged when ε = 0', () => {
    fc.assert(
      fc.property(
        problemArb({ min: 1, max: 4 }, nonZeroFloat),
        fc.integer({ min: -6, max: 6 }),
        ([params, grads], k) => {
          const c = 2 ** k
          const scaled = grads.map((g) => mapValues(g, (x) => x * c))
          const a = run(scaleByRms({ epsilon: 0 }), params, grads)
          const b = run(scaleByRms({ epsilon: 0 }), params, scaled)
          a.forEach((s, i) => {
            expectRelClose(values(b[i]!.updates), values(s.updates), 1e-6)
          })
        },
      ),
      { seed: 61, numRuns: 20 },
    )
  })

  it('has no mean estimate unless centered', () => {
    expect(Object.keys(scaleByRms().init({ w: tensor([1]) }))).toEqual(['nu'])
    expect(() => scaleByRms({ rho: 1 })).toThrow(RangeError)
    expect(() => scaleByRms({ epsilon: -1 })).toThrow(RangeError)
  })
})
