/**
 * Float64 references for the layer, loss and model tests: plain loops over Float64Array that
 * never call the code under test, plus float32-exact grid arbitraries. The gradients
 * themselves are checked by `checkGrads` of `@purenn/testing`, with these references as its
 * float64 side.
 */

import { type Tensor, tensor } from '@purenn/tensor'
import fc from 'fast-check'

/**
 * Float32-exact values in [−3, 3]: a grid of step 2⁻¹², so that a float32 tensor and its
 * float64 reference hold the very same numbers.
 */
export const gridValue = fc.integer({ min: -3 * 4096, max: 3 * 4096 }).map((i) => i / 4096)

/** `n` grid values. */
export const valuesArb = (n: number): fc.Arbitrary<number[]> =>
  fc.array(gridValue, { minLength: n, maxLength: n })

/** A float32 tensor holding exactly these (float32-representable) values. */
export const t32 = (values: readonly number[], shape: readonly number[]): Tensor =>
  tensor(Float32Array.from(values), shape)

/**
 * Throws unless `|got − want| ≤ tol·(1 + |want|)` elementwise. The default 1e-3 is the
 * gradient tolerance of the tensor package's checks: a float32 analytic gradient is good to
 * ~1e-5 relative and the float64 central difference to ~1e-7 here, while a wrong gradient
 * is off by O(1).
 */
export const expectClose = (
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol = 1e-3,
): void => {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, expected ${want.length}`)
  for (let i = 0; i < want.length; i++)
    if (!(Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!))))
      throw new Error(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`)
}

/** `[rows, cols]` row-major product in float64. */
export const matmul64 = (a: Float64Array, b: Float64Array, rows: number, inner: number, cols: number) => {
  const out = new Float64Array(rows * cols)
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let s = 0
      for (let k = 0; k < inner; k++) s += a[i * inner + k]! * b[k * cols + j]!
      out[i * cols + j] = s
    }
  return out
}

/** Float64 activations over rows of length `cols` (softmax is per row, the others elementwise). */
export const activation64: { readonly [name: string]: (z: Float64Array, cols: number) => Float64Array } = {
  linear: (z) => z.slice(),
  relu: (z) => z.map((v) => Math.max(v, 0)),
  tanh: (z) => z.map(Math.tanh),
  sigmoid: (z) => z.map((v) => 1 / (1 + Math.exp(-v))),
  elu: (z) => z.map((v) => (v > 0 ? v : Math.expm1(v))),
  softmax: (z, cols) => {
    const out = new Float64Array(z.length)
    for (let r = 0; r < z.length / cols; r++) {
      const row = z.subarray(r * cols, (r + 1) * cols)
      const m = Math.max(...row)
      const e = row.map((v) => Math.exp(v - m))
      const s = e.reduce((a, v) => a + v, 0)
      e.forEach((v, j) => {
        out[r * cols + j] = v / s
      })
    }
    return out
  },
}

/** `act(x·W + b)` in float64 for `x` `[rows, nIn]`, `W` `[nIn, units]`, `b` `[units]` (or none). */
export const dense64 = (
  act: string,
  x: Float64Array,
  w: Float64Array,
  b: Float64Array | undefined,
  rows: number,
  nIn: number,
  units: number,
): { z: Float64Array; y: Float64Array } => {
  const z = matmul64(x, w, rows, nIn, units)
  if (b !== undefined) for (let i = 0; i < z.length; i++) z[i] = z[i]! + b[i % units]!
  return { z, y: activation64[act]!(z, units) }
}

/** `Σ w·y` with `w` cycled over `y`: the objective whose gradient is the VJP of `w`. */
export const dot64 = (y: ArrayLike<number>, w: readonly number[]): number => {
  let s = 0
  for (let i = 0; i < y.length; i++) s += y[i]! * w[i % w.length]!
  return s
}
