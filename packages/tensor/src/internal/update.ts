/**
 * Optimizer updates for `@purenn/optim`, on the kernel set in use: the WebAssembly kernels
 * when it is `'wasm'` and the tensor is large enough to pay for the copies in and out of
 * their memory (`wasm/update-run.ts`, which copies in only what its memory does not
 * already hold), else nothing (the caller's plain loop does all).
 */

import type { ReadonlyFloat32Array } from '../tensor.js'
import { kernelSet } from './kernel-set.js'
import type { StepKernel } from './wasm/update.js'
import {
  residentAdamInto as wasmAdamInto,
  residentAddUpdateInto as wasmAddUpdateInto,
  residentMomentumInto as wasmMomentumInto,
  residentNadamInto as wasmNadamInto,
  residentRmsInto as wasmRmsInto,
  residentScaleInto as wasmScaleInto,
  residentStepInto as wasmStepInto,
} from './wasm/update-run.js'

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

/**
 * `out = f32(x·c)` on the first elements, bitwise the plain loop `out[i] = x[i] * c`, with
 * the WebAssembly kernel when the kernel set is `'wasm'` and the leaf has at least
 * {@link UPDATE_WASM_MIN} elements. Returns how many elements it did (a multiple of 4, or
 * 0); the caller's loop does the rest.
 *
 * @internal
 */
export const scaleInto = (x: ReadonlyFloat32Array, c: number, out: Float32Array): number =>
  x.length < UPDATE_WASM_MIN || kernelSet() !== 'wasm' ? 0 : wasmScaleInto(x as Float32Array, c, out)

/**
 * `out = u === 0 ? w : w + u` (w kept bit for bit where u is ±0) on the first elements,
 * bitwise the plain loop (NaN payloads aside), as {@link scaleInto} does.
 *
 * @internal
 */
export const addUpdateInto = (w: ReadonlyFloat32Array, u: ReadonlyFloat32Array, out: Float32Array): number =>
  w.length < UPDATE_WASM_MIN || kernelSet() !== 'wasm'
    ? 0
    : wasmAddUpdateInto(w as Float32Array, u as Float32Array, out)

/**
 * Momentum's trace `tr = f32(mu·v + u)` and, with `out`, the Nesterov update
 * `out = f32(mu·tr + u)` on the first elements, bitwise the plain loops of `traceMomentum`
 * (NaN payloads aside), as {@link scaleInto} does: returns how many elements it did (a
 * multiple of 4, or 0); the caller's loop does the rest.
 *
 * @internal
 */
export const momentumInto = (
  v: ReadonlyFloat32Array,
  u: ReadonlyFloat32Array,
  tr: Float32Array,
  out: Float32Array | undefined,
  mu: number,
): number =>
  v.length < UPDATE_WASM_MIN || kernelSet() !== 'wasm'
    ? 0
    : wasmMomentumInto(v as Float32Array, u as Float32Array, tr, out, mu)

/**
 * RMSprop's step on the first elements (`mu`, `muOut` given: centered), bitwise the plain
 * loops of `scaleByRms`, as {@link adamInto} does.
 *
 * @internal
 */
export const rmsInto = (
  g: ReadonlyFloat32Array,
  nu: ReadonlyFloat32Array,
  mu: ReadonlyFloat32Array | undefined,
  nuOut: Float32Array,
  muOut: Float32Array | undefined,
  out: Float32Array,
  rho: number,
  eps: number,
): number =>
  g.length < UPDATE_WASM_MIN || kernelSet() !== 'wasm'
    ? 0
    : wasmRmsInto(
        g as Float32Array,
        nu as Float32Array,
        mu as Float32Array | undefined,
        nuOut,
        muOut,
        out,
        rho,
        eps,
      )

/**
 * Nadam's step on the first elements, bitwise the plain loop of `scaleByNadam`, as
 * {@link adamInto} does.
 *
 * @internal
 */
export const nadamInto = (
  g: ReadonlyFloat32Array,
  mu: ReadonlyFloat32Array,
  nu: ReadonlyFloat32Array,
  muOut: Float32Array,
  nuOut: Float32Array,
  out: Float32Array,
  b1: number,
  b2: number,
  cm: number,
  cg: number,
  cv: number,
  eps: number,
): number =>
  g.length < UPDATE_WASM_MIN || kernelSet() !== 'wasm'
    ? 0
    : wasmNadamInto(
        g as Float32Array,
        mu as Float32Array,
        nu as Float32Array,
        muOut,
        nuOut,
        out,
        b1,
        b2,
        cm,
        cg,
        cv,
        eps,
      )

/**
 * A whole optimizer step (`kernel`, one of `wasm/update.ts`'s `stepKernels`) on the first
 * elements of a leaf, with the WebAssembly kernel when the kernel set is `'wasm'` and the
 * leaf has at least {@link UPDATE_WASM_MIN} elements: `ins` are `g`, `w` and the old state,
 * `outs` the new state and the new weights, `consts` the kernel's parameters, all in the
 * order of its signature. Bitwise the plain loops of `@purenn/optim`'s fused steps; returns
 * how many elements it did (a multiple of 4, or 0), the caller's loop does the rest.
 *
 * @internal
 */
export const stepInto = (
  kernel: StepKernel,
  ins: readonly ReadonlyFloat32Array[],
  outs: readonly Float32Array[],
  consts: readonly number[],
): number =>
  ins[0]!.length < UPDATE_WASM_MIN || kernelSet() !== 'wasm'
    ? 0
    : wasmStepInto(kernel, ins as readonly Float32Array[], outs, consts)

export type { StepKernel }
