/**
 * Fused classifier heads: softmax over the last axis as one op, and softmax crossentropy
 * with integer labels from logits as one op, each with its VJP beside it. The plain loops
 * here are the reference (float64 inside each row, one float32 rounding); with the
 * `'wasm'` kernel set the generated SIMD kernels of `internal/wasm/softmax.ts` run
 * instead. Second derivatives go through the composition of primitives (`compose`).
 */

import { neg } from './arith.js'
import { ShapeError } from './errors.js'
import { kernelSet } from './internal/kernel-set.js'
import { fmt, sizeOf } from './internal/shape.js'
import { record } from './internal/tape.js'
import { wasmSoftmaxInto, wasmSoftmaxVjpInto, wasmSoftmaxXentInto } from './internal/wasm/softmax-run.js'
import { logSoftmax, softmax } from './nn.js'
import { gather, reshape } from './shape.js'
import { alloc, buf, fromBuffer, type Tensor } from './tensor.js'

// ---------------------------------------------------------------------------------------
// Reference kernels: one row at a time, float64 inside, one float32 rounding

/** y = softmax of each row of C floats. */
const softmaxKernel = (x: Float32Array, rows: number, C: number): Float32Array => {
  const y = alloc(rows * C)
  if (kernelSet() === 'wasm' && wasmSoftmaxInto(x, y, rows, C)) return y
  const e = new Float64Array(C)
  for (let r = 0, o = 0; r < rows; r++, o += C) {
    let m = -Infinity
    for (let j = 0; j < C; j++) m = Math.max(m, x[o + j]!)
    let s = 0
    for (let j = 0; j < C; j++) s += e[j] = Math.exp(x[o + j]! - m)
    for (let j = 0; j < C; j++) y[o + j] = e[j]! / s
  }
  return y
}

/** dx = y·(g − Σ g·y) per row. */
const softmaxVjpKernel = (y: Float32Array, g: Float32Array, rows: number, C: number): Float32Array => {
  const dx = alloc(rows * C)
  if (kernelSet() === 'wasm' && wasmSoftmaxVjpInto(y, g, dx, rows, C)) return dx
  for (let r = 0, o = 0; r < rows; r++, o += C) {
    let d = 0
    for (let j = 0; j < C; j++) d += g[o + j]! * y[o + j]!
    for (let j = 0; j < C; j++) dx[o + j] = y[o + j]! * (g[o + j]! - d)
  }
  return dx
}

/** Per row with label k: loss = log Σ exp(z − m) − (z_k − m), dz = softmax(z) − onehot(k). */
const xentKernel = (
  z: Float32Array,
  labels: Int32Array,
  rows: number,
  C: number,
): { loss: Float32Array; dz: Float32Array } => {
  const loss = alloc(rows)
  const dz = alloc(rows * C)
  if (kernelSet() === 'wasm' && wasmSoftmaxXentInto(z, labels, dz, loss, rows, C)) return { loss, dz }
  const e = new Float64Array(C)
  for (let r = 0, o = 0; r < rows; r++, o += C) {
    let m = -Infinity
    for (let j = 0; j < C; j++) m = Math.max(m, z[o + j]!)
    let s = 0
    for (let j = 0; j < C; j++) s += e[j] = Math.exp(z[o + j]! - m)
    const k = labels[r]!
    for (let j = 0; j < C; j++) dz[o + j] = e[j]! / s - (j === k ? 1 : 0)
    loss[r] = Math.log(s) - (z[o + k]! - m)
  }
  return { loss, dz }
}

// ---------------------------------------------------------------------------------------
// Ops

/**
 * Softmax over the last axis as one fused op: the same function as
 * `softmax(x, -1)` of this package, with one kernel for the forward pass and one for its VJP.
 *
 * @remarks
 * Per row, $m = \max_j x_j$, $y_i = e^{x_i - m} / \sum_j e^{x_j - m}$; VJP
 * $y \odot (g - \sum_j g_j y_j)$. The js kernels sum in float64 and round once; the wasm
 * kernels compute in float32 with a Cephes `exp` (relative error within about
 * $(|x_i - m| + 8)\cdot 2^{-23}$ of the js value per probability). Second derivatives
 * differentiate the composition `softmax(x, -1)`.
 *
 * @param x - at least one axis; rows are all axes but the last
 * @returns a tensor of `x`'s shape whose rows sum to 1
 * @throws ShapeError when `x` is a scalar
 * @example
 * ```ts
 * import { fusedSoftmax, tensor } from '@purenn/tensor'
 * console.log(fusedSoftmax(tensor([[0, 0], [0, Math.log(3)]])).toString()) // tensor([[0.5, 0.5], [0.25, 0.75]])
 * ```
 * @category Activations
 */
export const fusedSoftmax = (x: Tensor): Tensor => {
  const C = x.shape.at(-1)
  if (C === undefined) throw new ShapeError('fusedSoftmax: expected at least one axis, got a scalar []')
  const rows = C === 0 ? 0 : x.size / C
  const y = softmaxKernel(buf(x), rows, C)
  return record(
    'fusedSoftmax',
    x.shape,
    y,
    [x],
    [(g) => fromBuffer(x.shape, softmaxVjpKernel(y, buf(g), rows, C))],
    (x) => softmax(x, -1),
  )
}

/**
 * Softmax crossentropy with integer labels, from logits, as one fused op: per row,
 * $-\log \operatorname{softmax}(z)_k$ for the row's class $k$ (TensorFlow's
 * `sparse_softmax_cross_entropy_with_logits`, Optax's
 * `softmax_cross_entropy_with_integer_labels`).
 *
 * @remarks
 * With $m = \max_j z_j$: $\mathrm{loss} = \log \sum_j e^{z_j - m} - (z_k - m)$, exact and
 * finite for any finite logits; the gradient is $g\,(\operatorname{softmax}(z) - \operatorname{onehot}(k))$,
 * computed in the same pass as the loss. The js kernel works in float64 per row and rounds
 * once; the wasm kernel works in float32 (Cephes `exp` and `log`), within
 * $4\cdot 2^{-23}(1 + |\mathrm{loss}| + |z_k - m|)$ of it. Second derivatives
 * differentiate the composition `−gather(logSoftmax(z))`. Labels get no gradient.
 *
 * @param logits - `[..., classes]`, at least 2 axes
 * @param labels - class indices (integers in `[0, classes)`), shape `logits.shape[:-1]` or that with a trailing 1
 * @returns the per-row losses, shape `logits.shape[:-1]`
 * @throws ShapeError when the shapes do not fit; RangeError naming the row of a label that
 * is not a class index
 * @example
 * ```ts
 * import { sparseSoftmaxCrossentropy, tensor } from '@purenn/tensor'
 * console.log(sparseSoftmaxCrossentropy(tensor([[0, 0], [0, Math.log(3)]]), tensor([0, 1])).toString()) // tensor([0.693147, 0.287682])
 * ```
 * @category Losses
 */
export const sparseSoftmaxCrossentropy = (logits: Tensor, labels: Tensor): Tensor => {
  const op = 'sparseSoftmaxCrossentropy'
  const C = logits.shape.at(-1)
  if (logits.shape.length < 2 || C === undefined || C === 0)
    throw new ShapeError(`${op}: logits must have shape [batch, classes], got ${fmt(logits.shape)}`)
  const lead = logits.shape.slice(0, -1)
  const rows = sizeOf(lead)
  const ls = labels.shape
  const fits =
    (ls.length === lead.length || (ls.length === lead.length + 1 && ls.at(-1) === 1)) &&
    lead.every((d, i) => d === ls[i])
  if (!fits)
    throw new ShapeError(
      `${op}: labels of shape ${fmt(ls)} do not fit logits of shape ${fmt(logits.shape)}; expected ${fmt(lead)} or ${fmt([...lead, 1])}`,
    )
  const classes = new Int32Array(rows)
  const ld = buf(labels)
  for (let r = 0; r < rows; r++) {
    const k = ld[r]!
    if (!Number.isInteger(k) || k < 0 || k >= C)
      throw new RangeError(`${op}: label ${k} of row ${r} is not a class index in [0, ${C})`)
    classes[r] = k
  }
  const { loss, dz } = xentKernel(buf(logits), classes, rows, C)
  return record(
    op,
    lead,
    loss,
    [logits],
    [
      (g) => {
        const gd = buf(g)
        const d = alloc(rows * C)
        for (let r = 0, o = 0; r < rows; r++) for (let j = 0; j < C; j++, o++) d[o] = gd[r]! * dz[o]!
        return fromBuffer(logits.shape, d)
      },
    ],
    (z) => {
      const flat = Int32Array.from(classes, (k, r) => r * C + k)
      return reshape(neg(gather(reshape(logSoftmax(z, -1), [-1]), flat)), lead)
    },
  )
}
