import { afterAll, describe, expect, it } from 'vitest'
import { map, zip } from '../src/internal/kernels.js'
import { setKernels } from '../src/kernelset.js'

// The js kernels' written-out loops (rowLoops, leftLoops, unaryLoops in internal/kernels.ts)
// must give exactly what the op's own `f` gives, on every kind of float32: ±0, ±Infinity,
// NaN, subnormals, huge and tiny magnitudes. The reference is the loop over `f` written here.

const specials = [
  0,
  -0,
  1,
  -1,
  0.5,
  3,
  -7.25,
  Infinity,
  -Infinity,
  Number.NaN,
  1e-40,
  -1e-44,
  3e38,
  -3e38,
  1e-7,
]
/** n float32 values: the specials, then a deterministic spread of magnitudes and signs. */
const values = (n: number, seed: number): Float32Array =>
  Float32Array.from({ length: n }, (_, i) =>
    i < specials.length
      ? specials[(i + seed) % specials.length]!
      : Math.sin(i * 12.9898 + seed) * 10 ** ((i % 13) - 6),
  )
const bits = (x: Float32Array): number[] =>
  Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length), (b, i) => (Number.isNaN(x[i]) ? -1 : b))

const binary: Record<string, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
}
const unary: Record<string, (v: number) => number> = {
  neg: (v) => -v,
  abs: Math.abs,
  relu: (v) => Math.max(v, 0),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
}

afterAll(() => setKernels('wasm'))

describe("the js kernels' written-out loops", () => {
  // below the wasm kernels' size, and with the js kernels, so the js loops run either way
  setKernels('js')
  const a = values(3000, 1)
  const b = values(3000, 5)
  const row = values(12, 9)

  for (const [op, f] of Object.entries(binary))
    it(`${op}: equal shapes, a scalar on either side and a row give f's bits`, () => {
      setKernels('js')
      const same = zip(op, a, [250, 12], b, [250, 12], f).data
      expect(bits(same)).toEqual(bits(Float32Array.from(a, (x, i) => f(x, b[i]!))))
      const right = zip(op, a, [250, 12], b.subarray(3, 4), [], f).data
      expect(bits(right)).toEqual(bits(Float32Array.from(a, (x) => f(x, b[3]!))))
      const left = zip(op, b.subarray(3, 4), [1], a, [250, 12], f).data
      expect(bits(left)).toEqual(bits(Float32Array.from(a, (y) => f(b[3]!, y))))
      const rows = zip(op, a, [250, 12], row, [12], f).data
      expect(bits(rows)).toEqual(bits(Float32Array.from(a, (x, i) => f(x, row[i % 12]!))))
    })

  for (const [op, f] of Object.entries(unary))
    it(`${op}: f's bits`, () => {
      setKernels('js')
      expect(bits(map(a, f, op))).toEqual(bits(Float32Array.from(a, f)))
    })

  it('an op without a loop of its own still uses its f', () => {
    setKernels('js')
    const f = (x: number, y: number) => x * 2 - y
    expect(bits(zip('custom', a, [3000], b, [3000], f).data)).toEqual(
      bits(Float32Array.from(a, (x, i) => f(x, b[i]!))),
    )
  })
})
