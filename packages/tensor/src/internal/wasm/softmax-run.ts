/**
 * Running the softmax kernels of `softmax.ts` on the calling thread. Rows whose length is
 * a multiple of four are read and written where they are when on the kernels' heap
 * (`heap.ts`); others are copied into scratch padded to a multiple of four floats (−∞ in
 * logits, 0 in cotangents), computed, and copied back without the padding. Each returns
 * false (having written nothing) when the kernels are not available; the caller then uses
 * its js loop.
 */

import { type Stage, staged } from './heap.js'
import { wasmExports } from './matmul-run.js'

/** The byte offset of `rows` rows of `C` floats of src, rows `C4` apart, padded with `pad`. */
const padIn = (st: Stage, src: Float32Array, rows: number, C: number, C4: number, pad: number): number => {
  if (C === C4) return st.read(src, rows * C)
  const at = st.raw(4 * rows * C4)
  if (!st.ok) return 0
  const view = st.f32()
  const a = at / 4
  for (let r = 0; r < rows; r++) {
    view.set(src.subarray(r * C, r * C + C), a + r * C4)
    view.fill(pad, a + r * C4 + C, a + (r + 1) * C4)
  }
  return at
}

/** Where the kernel writes `rows` rows (`C4` apart) of dst; `padOut` copies them when not in place. */
const padAt = (st: Stage, dst: Float32Array, rows: number, C: number, C4: number): number =>
  C === C4 ? st.write(dst, rows * C) : st.raw(4 * rows * C4)

const padOut = (st: Stage, at: number, dst: Float32Array, rows: number, C: number, C4: number): void => {
  if (C === C4 || !st.ok) return
  const view = st.f32()
  for (let r = 0; r < rows; r++) dst.set(view.subarray(at / 4 + r * C4, at / 4 + r * C4 + C), r * C)
}

type Kernel = (...args: number[]) => void

/** y = softmax of each of the `rows` rows of `C` floats of x, into `out`. */
export const wasmSoftmaxInto = (x: Float32Array, out: Float32Array, rows: number, C: number): boolean => {
  return staged(wasmExports(), (ex, st) => {
    const C4 = (C + 3) & ~3
    const px = padIn(st, x, rows, C, C4, -Infinity)
    const po = padAt(st, out, rows, C, C4)
    if (st.ok) (ex.softmax as Kernel)(px, 0, po, 0, rows, C4 / 4)
    padOut(st, po, out, rows, C, C4)
  })
}

/** out = y·(g − Σ g·y) per row of `C` floats. */
export const wasmSoftmaxVjpInto = (
  y: Float32Array,
  g: Float32Array,
  out: Float32Array,
  rows: number,
  C: number,
): boolean => {
  return staged(wasmExports(), (ex, st) => {
    const C4 = (C + 3) & ~3
    const py = padIn(st, y, rows, C, C4, 0)
    const pg = padIn(st, g, rows, C, C4, 0)
    const po = padAt(st, out, rows, C, C4)
    if (st.ok) (ex.softmaxVjp as Kernel)(py, pg, po, rows, C4 / 4)
    padOut(st, po, out, rows, C, C4)
  })
}

/**
 * Per row of `C` logits with class `labels[r]` (checked by the caller to lie in [0, C)):
 * `dz` = softmax − onehot(label) and `loss[r]` = −log softmax(z)[label].
 */
export const wasmSoftmaxXentInto = (
  z: Float32Array,
  labels: Int32Array,
  dz: Float32Array,
  loss: Float32Array,
  rows: number,
  C: number,
): boolean => {
  return staged(wasmExports(), (ex, st) => {
    const C4 = (C + 3) & ~3
    const pz = padIn(st, z, rows, C, C4, -Infinity)
    const pl = st.raw(4 * rows)
    const pd = padAt(st, dz, rows, C, C4)
    const ploss = st.write(loss, rows)
    if (st.ok) {
      new Int32Array(st.f32().buffer, pl, rows).set(labels)
      ;(ex.softmaxXent as Kernel)(pz, pl, pd, ploss, rows, C4 / 4)
    }
    padOut(st, pd, dz, rows, C, C4)
  })
}
