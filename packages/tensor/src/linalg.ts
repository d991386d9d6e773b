import { ShapeError } from './errors.js'
import { matmulInto } from './internal/matmul.js'
import { broadcastShapes, fmt, sizeOf, stridesOf } from './internal/shape.js'
import { record } from './internal/tape.js'
import { allocWritten, buf, type Tensor } from './tensor.js'

/**
 * Options of {@link matmul}.
 * @category Linear algebra
 */
export interface MatmulOptions {
  /** Use the transpose of the last two axes of `a`. Default false. */
  readonly transposeA?: boolean
  /** Use the transpose of the last two axes of `b`. Default false. */
  readonly transposeB?: boolean
}

/**
 * Matrix product of the last two axes, batched over the leading ones (which broadcast).
 *
 * @remarks
 * `C = op(A)·op(B)` with `op` the optional transpose, `C[i,j] = Σₖ op(A)[i,k]·op(B)[k,j]`.
 * Each transposed form is as fast as the plain one: the WebAssembly SIMD kernels read
 * transposed operands in place (packing B into panels); the plain TypeScript kernels read
 * a transposed `b` in place and copy a transposed `a` first (see {@link setKernels}). VJPs (for the plain
 * form): `dA = g·Bᵀ`, `dB = Aᵀ·g`, themselves matmuls with transpose flags.
 *
 * @throws ShapeError when the inner dimensions differ, e.g.
 * `matmul: inner dimensions differ: [32,784] x [300,100]`.
 * @example
 * ```ts
 * import { matmul, tensor } from '@purenn/tensor'
 * const a = tensor([[1, 2], [3, 4]])
 * console.log(matmul(a, a).toString()) // tensor([[7, 10], [15, 22]])
 * console.log(matmul(a, a, { transposeA: true }).toString()) // tensor([[10, 14], [14, 20]])
 * ```
 * @category Linear algebra
 */
export const matmul = (a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor => {
  const tA = opts.transposeA ?? false
  const tB = opts.transposeB ?? false
  const ra = a.shape.length
  const rb = b.shape.length
  if (ra < 2 || rb < 2)
    throw new ShapeError(`matmul: both operands need at least 2 axes: ${fmt(a.shape)} x ${fmt(b.shape)}`)
  const [M, Ka] = tA ? [a.shape[ra - 1]!, a.shape[ra - 2]!] : [a.shape[ra - 2]!, a.shape[ra - 1]!]
  const [Kb, N] = tB ? [b.shape[rb - 1]!, b.shape[rb - 2]!] : [b.shape[rb - 2]!, b.shape[rb - 1]!]
  const flags = `${tA ? ' (transposeA)' : ''}${tB ? ' (transposeB)' : ''}`
  if (Ka !== Kb)
    throw new ShapeError(`matmul: inner dimensions differ: ${fmt(a.shape)} x ${fmt(b.shape)}${flags}`)
  const aBatch = a.shape.slice(0, -2)
  const bBatch = b.shape.slice(0, -2)
  let batch: number[]
  try {
    batch = broadcastShapes('matmul', aBatch, bBatch)
  } catch {
    throw new ShapeError(`matmul: batch dimensions do not broadcast: ${fmt(a.shape)} x ${fmt(b.shape)}`)
  }
  const K = Ka
  // the kernels read transposed operands in place (the js kernels copy a transposed A)
  const A = buf(a)
  const B = buf(b)
  const nb = sizeOf(batch)
  const out = allocWritten(nb * M * N)
  const as = stridesOf(aBatch)
  const bs = stridesOf(bBatch)
  for (let i = 0; i < nb; i++) {
    // batch offsets with broadcasting: walk the batch index through each operand's own strides
    let rem = i
    let ia = 0
    let ib = 0
    for (let d = batch.length - 1; d >= 0; d--) {
      const di = rem % batch[d]!
      rem = (rem - di) / batch[d]!
      const da = d - (batch.length - aBatch.length)
      const db = d - (batch.length - bBatch.length)
      if (da >= 0 && aBatch[da] !== 1) ia += di * as[da]!
      if (db >= 0 && bBatch[db] !== 1) ib += di * bs[db]!
    }
    matmulInto(A, ia * M * K, B, ib * K * N, out, i * M * N, M, K, N, tB, tA)
  }
  return record(
    'matmul',
    [...batch, M, N],
    out,
    [a, b],
    [
      (g) => (tA ? matmul(b, g, { transposeA: tB, transposeB: true }) : matmul(g, b, { transposeB: !tB })),
      (g) => (tB ? matmul(g, a, { transposeA: true, transposeB: tA }) : matmul(a, g, { transposeA: !tA })),
    ],
  )
}
