/**
 * Which kernel set heavy ops use: `'js'`, the plain TypeScript kernels (the readable
 * reference, and the fallback), or `'wasm'`, the WebAssembly SIMD kernels generated at
 * start-up (`internal/wasm/`). Process configuration like the thread count: the default
 * comes from `PURENN_KERNELS`, else `'wasm'` where WebAssembly SIMD works, else `'js'`.
 */

import { wasmReady } from './wasm/matmul-run.js'

/** The two kernel sets. */
export type KernelSet = 'js' | 'wasm'

/**
 * The choice is kept on `globalThis` under a registered symbol, not in a module variable:
 * a process can load two copies of this module (a script that imports
 * `packages/tensor/src` while `@purenn/layers` resolves `@purenn/tensor` to `dist/`, or two
 * bundles in one page), and the choice of one copy must be the choice of all, as the kernel
 * set decides the bits of every result. A module variable made `setKernels('wasm')` of one
 * copy leave the other on `PURENN_KERNELS=js`. The thread count needs no such care: it
 * never changes a bit.
 */
const SLOT = Symbol.for('@purenn/tensor:kernelSet')
const slot = globalThis as { [SLOT]?: KernelSet }

const env = (): string | undefined =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.PURENN_KERNELS

const unavailable = (where: string): Error =>
  new Error(
    `${where}: the 'wasm' kernels need WebAssembly with SIMD, which this runtime does not provide; use 'js'`,
  )

const parseEnv = (): KernelSet => {
  const raw = env()?.trim()
  if (raw === undefined || raw === '') return wasmReady() ? 'wasm' : 'js'
  if (raw !== 'js' && raw !== 'wasm') throw new Error(`PURENN_KERNELS must be 'js' or 'wasm', got '${raw}'`)
  if (raw === 'wasm' && !wasmReady()) throw unavailable('PURENN_KERNELS=wasm')
  return raw
}

/** The kernel set in use. */
export const kernelSet = (): KernelSet => {
  const k = slot[SLOT]
  if (k !== undefined) return k
  const parsed = parseEnv()
  slot[SLOT] = parsed
  return parsed
}

/** Chooses the kernel set; `'wasm'` throws where WebAssembly SIMD is missing. */
export const setKernelSet = (k: KernelSet): void => {
  if (k !== 'js' && k !== 'wasm') throw new TypeError(`setKernels: expected 'js' or 'wasm', got ${String(k)}`)
  if (k === 'wasm' && !wasmReady()) throw unavailable('setKernels')
  slot[SLOT] = k
}
