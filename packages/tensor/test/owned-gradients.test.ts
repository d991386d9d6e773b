import { afterAll, describe, expect, it } from 'vitest'
import {
  denseOp,
  getKernels,
  key,
  mean,
  setKernels,
  type Tensor,
  uniform,
  valueAndGrad,
} from '../src/index.js'
import { isOwnedFloats, releaseFloats } from '../src/internal/index.js'

// valueAndGrad's internal `ownedGradients`: the fused dense layer's VJP writes the kernel's
// gradient into an owned buffer of the kernels' memory (the trainer frees it after its
// step). Only for a leaf no enclosing trace differentiates; the values are the same bits.

const bitsOf = (t: Tensor) => Array.from(new Uint32Array(Float32Array.from(t.data).buffer))

const x = uniform(key(1), [32, 40], { minval: -1, maxval: 1 })
const params = {
  kernel: uniform(key(2), [40, 30], { minval: -0.3, maxval: 0.3 }),
  bias: uniform(key(3), [30], { minval: -0.1, maxval: 0.1 }),
}
const loss = (p: typeof params) => mean(denseOp(x, p.kernel, p.bias, 'relu'))

afterAll(() => setKernels('wasm'))

describe('owned gradients', () => {
  it("put the dense kernel's gradient in an owned buffer when asked (wasm kernels), with the same bits", () => {
    expect(getKernels()).toBe('wasm')
    const plain = valueAndGrad(loss)(params)
    const owned = valueAndGrad((p: typeof params) => [loss(p), null] as const, {
      hasAux: true,
      ownedGradients: true,
    })(params)
    expect(isOwnedFloats(plain.grad.kernel.data)).toBe(false)
    expect(isOwnedFloats(owned.grad.kernel.data)).toBe(true)
    expect(bitsOf(owned.grad.kernel)).toEqual(bitsOf(plain.grad.kernel))
    expect(bitsOf(owned.grad.bias)).toEqual(bitsOf(plain.grad.bias))
    // the caller frees it, once; then the tensor refuses to be read
    const block = owned.grad.kernel.data as Float32Array
    expect(releaseFloats(block)).toBe(true)
    expect(releaseFloats(block)).toBe(false)
    expect(() => owned.grad.kernel.toArray()).toThrow(/shape \[40,30\]\) was made during a step of fit/)
  })

  it('never for a leaf an enclosing trace differentiates (a gradient of a gradient)', () => {
    let inner: Tensor | undefined
    const outer = valueAndGrad((p: typeof params) => {
      const g = valueAndGrad((q: typeof params) => [loss(q), null] as const, {
        hasAux: true,
        ownedGradients: true,
      })(p)
      inner = g.grad.kernel
      return mean(g.grad.kernel)
    })(params)
    expect(inner).toBeDefined()
    expect(isOwnedFloats(inner!.data)).toBe(false)
    expect(outer.grad.kernel.shape).toEqual([40, 30])
  })

  it('never with the js kernels', () => {
    setKernels('js')
    const owned = valueAndGrad((p: typeof params) => [loss(p), null] as const, {
      hasAux: true,
      ownedGradients: true,
    })(params)
    expect(isOwnedFloats(owned.grad.kernel.data)).toBe(false)
    setKernels('wasm')
  })
})
