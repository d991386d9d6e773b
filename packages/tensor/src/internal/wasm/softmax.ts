/**
 * Row-wise softmax, its VJP, and softmax crossentropy with integer labels, as WebAssembly
 * SIMD kernels written with the assembler of `asm.ts` (`exp` and `log` from `vmath.ts`).
 * Rows are `n4` vectors of four floats (the caller pads each row to a multiple of four:
 * −∞ in the logits, whose `exp` is 0, and 0 in cotangents). Per row:
 *
 * ```text
 * softmax     m = max z;  e = exp(z − m);  s = Σ e;  y = e / s
 * softmaxVjp  d = Σ g·y;  dz = y·(g − d)
 * softmaxXent y as softmax, then y[label] −= 1 (the gradient of the loss);
 *             loss = log s − (z[label] − m)
 * ```
 *
 * Sums run in four lanes over the row's vectors in order, then (l₀ + l₂) + (l₁ + l₃): fixed
 * by the row length alone. The kernels run on the calling thread (rows of ten classes
 * are far below the pool's threshold), so they are deterministic for any thread count.
 */

import {
  add,
  type Code,
  f32c,
  f32Load,
  f32Store,
  f32x4Add,
  f32x4ExtractLane,
  f32x4Mul,
  frame,
  gtS,
  i32,
  i32c,
  ltS,
  mul,
  seq,
  sub,
  v128,
  v128Load,
  v128Store,
  while_,
} from './asm.js'
import { expV, f32Sub, f32x4Div, f32x4Max, f32x4Sub, hmax, hsum, i32Load, logV, splat } from './vmath.js'

const locals = [
  ['r', i32],
  ['p', i32],
  ['q', i32],
  ['end', i32],
  ['lab', i32],
  ['v', v128],
  ['acc', v128],
  ['mx', v128],
  ['t', v128],
  ['n', v128],
  ['rr', v128],
] as const

/** The three kernels share their row loop; `xent` adds the labels and losses. */
const rowKernel = (name: 'softmax' | 'softmaxXent') => {
  const xent = name === 'softmaxXent'
  const f = frame(
    [
      ['x', i32],
      ['labels', i32],
      ['out', i32],
      ['loss', i32],
      ['rows', i32],
      ['n4', i32],
    ],
    locals,
  )
  const L = f.ix as Record<string, number>
  const { g, s } = f
  const step = (n: string): Code => s(n, add(g(n), i32c(16)))
  const body = seq(
    s('r', g('rows')),
    while_(
      gtS(g('r'), i32c(0)),
      s('end', add(g('x'), mul(g('n4'), i32c(16)))),
      // m = max z
      s('acc', splat(-Infinity)),
      s('p', g('x')),
      while_(ltS(g('p'), g('end')), s('acc', f32x4Max(g('acc'), v128Load(g('p')))), step('p')),
      s('mx', hmax(L.acc!, L.t!)),
      // e = exp(z − m) into out, s = Σ e
      s('acc', splat(0)),
      s('p', g('x')),
      s('q', g('out')),
      while_(
        ltS(g('p'), g('end')),
        s('v', f32x4Sub(v128Load(g('p')), g('mx'))),
        s('v', expV(L.v!, L.t!, L.n!, L.rr!)),
        v128Store(g('q'), g('v')),
        s('acc', f32x4Add(g('acc'), g('v'))),
        step('p'),
        step('q'),
      ),
      s('acc', hsum(L.acc!, L.t!)),
      // y = e / s
      s('q', g('out')),
      s('end', add(g('out'), mul(g('n4'), i32c(16)))),
      while_(ltS(g('q'), g('end')), v128Store(g('q'), f32x4Div(v128Load(g('q')), g('acc'))), step('q')),
      ...(xent
        ? [
            s('lab', mul(i32Load(g('labels')), i32c(4))),
            // y[label] −= 1
            s('q', add(g('out'), g('lab'))),
            f32Store(g('q'), f32Sub(f32Load(g('q')), f32c(1))),
            // loss = log s − (z[label] − m)
            s('v', logV(L.acc!, L.t!, L.n!, L.rr!)),
            f32Store(
              g('loss'),
              f32Sub(
                f32x4ExtractLane(g('v'), 0),
                f32Sub(f32Load(add(g('x'), g('lab'))), f32x4ExtractLane(g('mx'), 0)),
              ),
            ),
            s('labels', add(g('labels'), i32c(4))),
            s('loss', add(g('loss'), i32c(4))),
          ]
        : []),
      s('x', add(g('x'), mul(g('n4'), i32c(16)))),
      s('out', g('end')),
      s('r', sub(g('r'), i32c(1))),
    ),
  )
  return { name, params: f.params, locals: f.locals, body }
}

/** `softmax(x, 0, out, 0, rows, n4)`: y = softmax of each row of x, into out. */
export const softmaxRows = () => rowKernel('softmax')

/**
 * `softmaxXent(x, labels, out, loss, rows, n4)`: out = softmax − onehot(label) per row
 * (labels i32, one per row) and loss[r] = −log softmax(x)[label].
 */
export const softmaxXent = () => rowKernel('softmaxXent')

/** `softmaxVjp(y, g, out, rows, n4)`: out = y·(g − Σ g·y) per row. */
export const softmaxVjp = () => {
  const f = frame(
    [
      ['y', i32],
      ['g', i32],
      ['out', i32],
      ['rows', i32],
      ['n4', i32],
    ],
    [
      ['r', i32],
      ['i', i32],
      ['end', i32],
      ['acc', v128],
      ['t', v128],
    ],
  )
  const L = f.ix as Record<string, number>
  const { g, s } = f
  const body = seq(
    s('r', g('rows')),
    while_(
      gtS(g('r'), i32c(0)),
      s('end', mul(g('n4'), i32c(16))),
      s('acc', splat(0)),
      s('i', i32c(0)),
      while_(
        ltS(g('i'), g('end')),
        s('acc', f32x4Add(g('acc'), f32x4Mul(v128Load(add(g('g'), g('i'))), v128Load(add(g('y'), g('i')))))),
        s('i', add(g('i'), i32c(16))),
      ),
      s('acc', hsum(L.acc!, L.t!)),
      s('i', i32c(0)),
      while_(
        ltS(g('i'), g('end')),
        v128Store(
          add(g('out'), g('i')),
          f32x4Mul(v128Load(add(g('y'), g('i'))), f32x4Sub(v128Load(add(g('g'), g('i'))), g('acc'))),
        ),
        s('i', add(g('i'), i32c(16))),
      ),
      s('y', add(g('y'), g('end'))),
      s('g', add(g('g'), g('end'))),
      s('out', add(g('out'), g('end'))),
      s('r', sub(g('r'), i32c(1))),
    ),
  )
  return { name: 'softmaxVjp', params: f.params, locals: f.locals, body }
}
