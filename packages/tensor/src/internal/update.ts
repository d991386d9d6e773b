/**
 * Optimizer updates for `@purenn/optim`, on the kernel set in use: the WebAssembly kernels
 * when it is `'wasm'` and the tensor is large enough to pay for the copies in and out of
 * their memory, else nothing (the caller's plain loop does all).
 */

import type { ReadonlyFloat32Array } from '../tensor.js'
import { kernelSet } from './kernel-set.js'
import { wasmAdamInto } from './wasm/matmul-run.js'

/** Leaves with fewer elements stay with the plain loop. */
export const UPDATE_WASM_MIN = 1024

/**
 * Adam's step on the first elements of a leaf, bitwise what the plain loop
 * `m = fround(b1·mu + (1 − b1)·g); v = fround(b2·nu + (1 − b2)·g·g); out = (c·m)/(√v + eps)`
 * (float64 arithmetic, float32 stores) gives. Writes `muOut`, `nuOut` and `out` on
 * [0, n) and returns n: a multiple of 4, or 0 when the plain loop should do it all. The
 * caller runs its loop on [n, length).
 *
 * @internal
 */
export const adamInto = (
  g: ReadonlyFloat32Array,
  mu: ReadonlyFloat32Array,
  nu: ReadonlyFloat32Array,
  muOut: Float32Array,
  nuOut: Float32Array,
  out: Float32Array,
  b1: number,
  b2: number,
  c: number,
  eps: number,
): number =>
  g.length < UPDATE_WASM_MIN || kernelSet() !== 'wasm'
    ? 0
    : wasmAdamInto(g, mu, nu, muOut, nuOut, out, b1, b2, c, eps)
