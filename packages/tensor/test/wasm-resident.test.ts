import { afterAll, describe, expect, it } from 'vitest'
import { adamInto, addUpdateInto, scaleInto } from '../src/internal/update.js'
import { kernelHeap, stage } from '../src/internal/wasm/heap.js'
import {
  forgetResident,
  isResident,
  RESIDENT_BYTES,
  setResidentBytes,
} from '../src/internal/wasm/update-run.js'
import { setKernels } from '../src/kernelset.js'
import { matmul } from '../src/linalg.js'
import { fromBuffer } from '../src/tensor.js'

// The optimizer passes read in place the buffers their memory already holds (the outputs
// of earlier passes: tensors, so never written again) and copy in only the others. The
// results must stay bitwise those of the plain loops, across many steps and when the ring
// of remembered copies starts again.

const bits = (x: Float32Array): number[] => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length))
const grads = (seed: number, n: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 0.37) * 1e-2)

/** `steps` of Adam, learning-rate scaling and applyUpdates, as the plain loops or with the wasm passes. */
const train = (wasm: boolean, n: number, steps: number) => {
  setKernels(wasm ? 'wasm' : 'js')
  let w = Float32Array.from({ length: n }, (_, i) => Math.cos(i))
  let mu = new Float32Array(n)
  let nu = new Float32Array(n)
  const [b1, b2, eps] = [0.9, 0.999, 1e-7]
  let hits = 0
  for (let t = 1; t <= steps; t++) {
    const g = grads(t, n)
    const c = Math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    const [muOut, nuOut, u] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)]
    if (wasm && t > 1 && isResident(mu, n & ~3) && isResident(nu, n & ~3) && isResident(w, n & ~3)) hits++
    const s = adamInto(g, mu, nu, muOut, nuOut, u, b1, b2, c, eps)
    for (let i = s; i < n; i++) {
      const m = Math.fround((muOut[i] = b1 * mu[i]! + (1 - b1) * g[i]!))
      const v = Math.fround((nuOut[i] = b2 * nu[i]! + (1 - b2) * g[i]! * g[i]!))
      u[i] = (c * m) / (Math.sqrt(v) + eps)
    }
    const scaled = new Float32Array(n)
    const s2 = scaleInto(u, -1e-3, scaled)
    for (let i = s2; i < n; i++) scaled[i] = u[i]! * -1e-3
    const w2 = new Float32Array(n)
    const s3 = addUpdateInto(w, scaled, w2)
    for (let i = s3; i < n; i++) w2[i] = scaled[i] === 0 ? w[i]! : w[i]! + scaled[i]!
    ;[w, mu, nu] = [w2, muOut, nuOut]
  }
  return { w: bits(w), mu: bits(mu), nu: bits(nu), hits }
}

afterAll(() => {
  setKernels('wasm')
  setResidentBytes(RESIDENT_BYTES)
})

describe('the optimizer passes on remembered copies', () => {
  it('give bitwise the plain loops over 6 steps, reading the moments and weights in place from step 2 on', () => {
    for (const n of [1024, 1027, 5003]) {
      const want = train(false, n, 6)
      const got = train(true, n, 6)
      expect(got.hits).toBe(5)
      expect(got.w).toEqual(want.w)
      expect(got.mu).toEqual(want.mu)
      expect(got.nu).toEqual(want.nu)
    }
  })

  it('give bitwise the plain loops when a step does not fit in what is left of the ring (it starts again)', () => {
    // a ring of 10 regions of 4·n bytes, 6 of them taken per step (9 the first): it starts again
    // at the second step and every other step after, whose inputs are then copied in again
    const n = 4096
    setResidentBytes(10 * 4 * n)
    const want = train(false, n, 6)
    const got = train(true, n, 6)
    setResidentBytes(RESIDENT_BYTES)
    expect(got.hits).toBe(5) // before each step, the last one's outputs are held
    // and a copy made before the ring started again is forgotten
    setResidentBytes(3 * 4 * 1024)
    const x = Float32Array.from({ length: 1024 }, (_, i) => i)
    const [y, z] = [new Float32Array(1024), new Float32Array(1024)]
    scaleInto(x, 2, y) // x copied in, y written: 2 of 3 regions
    expect(isResident(y, 1024)).toBe(true)
    scaleInto(x, 3, z) // 2 more regions: the ring starts again
    expect([isResident(y, 1024), isResident(z, 1024)]).toEqual([false, true])
    setResidentBytes(RESIDENT_BYTES)
    expect(got.w).toEqual(want.w)
    expect(got.mu).toEqual(want.mu)
  })

  it('read a remembered buffer from the memory, not from the buffer (hence tensors must stay immutable); forgetResident copies it again', () => {
    setKernels('wasm')
    const n = 2048
    const x = Float32Array.from({ length: n }, (_, i) => i)
    const y = new Float32Array(n)
    expect(scaleInto(x, 2, y)).toBe(n)
    expect(isResident(y, n)).toBe(true)
    y[0] = 100 // what no code may do to a tensor's buffer: the memory still holds 0
    const z = new Float32Array(n)
    scaleInto(y, 1, z)
    expect(z[0]).toBe(0)
    forgetResident(y)
    expect(isResident(y, n)).toBe(false)
    scaleInto(y, 1, z)
    expect(z[0]).toBe(100)
    expect(z[5]).toBe(10)
  })
})

describe("every op's operands on the optimizer's remembered copies", () => {
  it('a product reads the weights an optimizer pass wrote from the memory, with bitwise the result of a fresh copy; not after the ring starts again', () => {
    setKernels('wasm')
    const [K, N, M] = [96, 40, 8]
    const w0 = Float32Array.from({ length: K * N }, (_, i) => Math.sin(i * 0.7))
    const u = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i * 0.3) * 1e-2)
    const w = new Float32Array(K * N)
    addUpdateInto(w0, u, w) // w: an optimizer's output, remembered
    expect(isResident(w, K * N)).toBe(true)
    const st = stage()!
    const held = st.read(w, K * N)
    const copied = st.read(w.slice(), K * N)
    const f32 = st.f32()
    const inMemory = f32.slice(held / 4, held / 4 + K * N)
    st.finish()
    expect(held).toBe(kernelHeap()!.resident(w, K * N)) // the ring's copy, not a new one
    expect(held).not.toBe(copied)
    expect(bits(inMemory)).toEqual(bits(w))
    const x = fromBuffer(
      [M, K],
      Float32Array.from({ length: M * K }, (_, i) => Math.tan(i * 0.01)),
    )
    const inPlace = matmul(x, fromBuffer([K, N], w))
    const fresh = matmul(x, fromBuffer([K, N], w.slice()))
    expect(bits(inPlace.data as Float32Array)).toEqual(bits(fresh.data as Float32Array))
    // the ring starts again: its old copies are forgotten, so the product copies w in again
    setResidentBytes(RESIDENT_BYTES)
    expect(kernelHeap()!.resident(w, K * N)).toBeUndefined()
    w[N] = 5 // row 1, column 0 (only to show it is read from w now; no code may do this to a tensor's buffer)
    expect(matmul(x, fromBuffer([K, N], w)).data[0]).not.toBe(inPlace.data[0])
  })
})
