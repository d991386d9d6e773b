import type { Tensor } from '@purenn/tensor'

// Inputs and bit views shared by the tests of the WebAssembly passes (wasm-*.test.ts).

/** `n` floats from a seed: magnitudes from 1e-40 (subnormal) to 1e30, with ±0, ±Infinity and NaN mixed in. */
export const values = (seed: number, n: number): Float32Array => {
  let s = seed >>> 0
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
  const special = [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 1e-45, -1e-40]
  return Float32Array.from({ length: n }, () =>
    next() < 0.1
      ? special[Math.floor(next() * special.length)]!
      : (next() - 0.5) * 10 ** Math.floor(next() * 70 - 40),
  )
}

/** Bits of each element, NaN (whatever its payload) as one marker. */
export const bits = (t: Tensor): (number | 'NaN')[] => {
  const d = t.data as Float32Array
  const u = new Uint32Array(d.buffer, d.byteOffset, d.length)
  return Array.from(d, (x, i) => (Number.isNaN(x) ? 'NaN' : u[i]!))
}
