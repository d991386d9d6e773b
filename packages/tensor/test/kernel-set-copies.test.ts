import { afterAll, describe, expect, it, vi } from 'vitest'

// A process can hold two copies of @purenn/tensor's modules (a script importing
// `packages/tensor/src` while the layers resolve `@purenn/tensor` to `dist/`): the kernel
// set chosen through one copy must be the one every copy runs, whatever PURENN_KERNELS said.

afterAll(() => {
  vi.unstubAllEnvs()
})

describe('the kernel set across copies of the module', () => {
  it('setKernels through one copy is what another copy, loaded with PURENN_KERNELS=js, uses', async () => {
    const one = await import('../src/internal/kernel-set.js')
    const before = one.kernelSet()
    vi.stubEnv('PURENN_KERNELS', 'js')
    vi.resetModules()
    const two = await import('../src/internal/kernel-set.js')
    expect(two).not.toBe(one) // a second copy, with its own module variables
    try {
      one.setKernelSet('wasm')
      expect(two.kernelSet()).toBe('wasm')
      two.setKernelSet('js')
      expect(one.kernelSet()).toBe('js')
    } finally {
      one.setKernelSet(before)
    }
  })
})
