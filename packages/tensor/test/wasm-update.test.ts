import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { adamInto, UPDATE_WASM_MIN } from '../src/internal/update.js'
import { setKernels } from '../src/kernelset.js'

/** The plain loop of `scaleByAdam` (@purenn/optim), from element `from` on. */
const plainAdam = (
  g: Float32Array,
  mu: Float32Array,
  nu: Float32Array,
  o: [Float32Array, Float32Array, Float32Array],
  b1: number,
  b2: number,
  c: number,
  eps: number,
  from: number,
): void => {
  const [muOut, nuOut, out] = o
  for (let i = from; i < g.length; i++) {
    const gi = g[i]!
    const m = Math.fround((muOut[i] = b1 * mu[i]! + (1 - b1) * gi))
    const v = Math.fround((nuOut[i] = b2 * nu[i]! + (1 - b2) * gi * gi))
    out[i] = (c * m) / (Math.sqrt(v) + eps)
  }
}

const bits = (x: Float32Array): number[] => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length))

afterAll(() => setKernels('wasm'))

describe('adamInto (wasm Adam step)', () => {
  it('is bitwise the plain float64 loop, lengths around multiples of 4, random hyper-parameters', () => {
    setKernels('wasm')
    fc.assert(
      fc.property(
        fc.integer({ min: UPDATE_WASM_MIN, max: UPDATE_WASM_MIN + 9 }),
        fc.float({ min: Math.fround(0.5), max: Math.fround(0.999), noNaN: true }),
        fc.float({ min: Math.fround(0.9), max: Math.fround(0.9999), noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 1000 }),
        (n, b1, b2, t, seed) => {
          // gradients over many magnitudes, moments as a run of Adam would have them
          const g = Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i) * 10 ** ((i % 13) - 8))
          const mu = Float32Array.from(g, (x, i) => x * Math.cos(i))
          const nu = Float32Array.from(g, (x, i) => x * x * (1 + (i % 3)))
          const c = Math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
          const eps = 1e-7
          const want: [Float32Array, Float32Array, Float32Array] = [
            new Float32Array(n),
            new Float32Array(n),
            new Float32Array(n),
          ]
          plainAdam(g, mu, nu, want, b1, b2, c, eps, 0)
          const got: [Float32Array, Float32Array, Float32Array] = [
            new Float32Array(n),
            new Float32Array(n),
            new Float32Array(n),
          ]
          const done = adamInto(g, mu, nu, got[0], got[1], got[2], b1, b2, c, eps)
          if (done !== n - (n % 4)) return false
          plainAdam(g, mu, nu, got, b1, b2, c, eps, done)
          return got.every((x, k) => {
            const w = bits(want[k]!)
            return bits(x).every((b, i) => b === w[i])
          })
        },
      ),
      { seed: 41, numRuns: 40 },
    )
  })

  it('leaves small leaves and the js kernel set to the plain loop', () => {
    const n = UPDATE_WASM_MIN
    const z = new Float32Array(n)
    setKernels('wasm')
    expect(adamInto(z.subarray(1), z, z, z, z, z, 0.9, 0.999, 1, 1e-7)).toBe(0)
    setKernels('js')
    expect(
      adamInto(z, z, z, new Float32Array(n), new Float32Array(n), new Float32Array(n), 0.9, 0.999, 1, 1e-7),
    ).toBe(0)
  })
})
