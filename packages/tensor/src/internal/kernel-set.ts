/**
 * Which kernel set heavy ops use: `'js'`, the plain TypeScript kernels (the readable
 * reference, and the fallback), or `'wasm'`, the WebAssembly SIMD kernels generated at
 * start-up (`internal/wasm/`). Process configuration like the thread count: the default
 * comes from `PURENN_KERNELS`, else `'wasm'` where WebAssembly SIMD works, else `'js'`.
 */

import { wasmReady } from './wasm/matmul-run.js'

/** The two kernel sets. */
export type KernelSet = 'js' | 'wasm'

let configured: KernelSet | undefined

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
  if (configured === undefined) configured = parseEnv()
  return configured
}

/** Chooses the kernel set; `'wasm'` throws where WebAssembly SIMD is missing. */
export const setKernelSet = (k: KernelSet): void => {
  if (k !== 'js' && k !== 'wasm') throw new TypeError(`setKernels: expected 'js' or 'wasm', got ${String(k)}`)
  if (k === 'wasm' && !wasmReady()) throw unavailable('setKernels')
  configured = k
}
