/**
 * Elementwise ops and sums as WebAssembly SIMD kernels, generated with the assembler of
 * `asm.ts`. Each kernel walks its elements four at a time in `f32x4` (or two at a time in
 * `f64x2` for the sums' accumulators), then finishes the last one to three scalar.
 *
 * - `bin_<op>(a, b, out, rows, m)`: `out[r·m + j] = a[r·m + j] op b[j]` for `rows` rows of
 *   `m` (equal shapes are one row; a bias row broadcast over a batch is `rows` of them);
 * - `sca_<op>(a, s, out, n, flip)`: `out[i] = a[i] op s`, or `s op a[i]` when `flip` is 1;
 * - `un_<op>(x, out, n)`: `neg`, `abs`, `relu` (`max(x, 0)`), `sqrt`.
 *
 * These are exact in float32, so they are bitwise what the plain loops give (JavaScript
 * computes `x op y` in float64 and rounds once on the store: for `+ − × ÷ √` of float32
 * operands that double rounding is innocuous, the result is the correctly rounded float32
 * one), NaN payloads aside.
 *
 * - `colsum(x, acc, out, outer, red, inner)`: for each of `outer` blocks of `red × inner`
 *   elements, the `inner` sums over `red`, each accumulated in float64 in order of `r`,
 *   then rounded once: operation for operation the plain loop, so bitwise equal too;
 * - `rowsum(x, out, rows, len)`: the sum of each row of `len` elements in four float64
 *   partial sums (elements `i ≡ 0, 1, 2, 3 (mod 4)`), combined as `(p0 + p2) + (p1 + p3)`,
 *   then the last `len mod 4` in order, rounded once: another order than the plain loop's,
 *   so equal within the tolerance stated at {@link wasmSumInto}.
 *
 * Pointers and lengths are byte offsets and element counts in the module's memory.
 */

import {
  add,
  type Code,
  eqz,
  type Func,
  f32,
  f32Load,
  f32Store,
  f32x4Add,
  f32x4Max,
  f32x4Mul,
  f32x4Splat,
  f32x4Sub,
  f64,
  f64x2Add,
  f64x2PromoteLow,
  frame,
  get,
  i32,
  i32c,
  if_,
  ltS,
  module,
  mul,
  seq,
  set,
  shuffle32,
  v128,
  v128Load,
  v128Store,
  v128Zero,
  while_,
} from './asm.js'

// --- the few instructions asm.ts does not have ------------------------------------------

const op1 = (code: number) => (a: Code) => seq(a, code)
const op2 = (code: number) => (a: Code, b: Code) => seq(a, b, code)
const simd1 = (code: number) => (a: Code) => seq(a, 0xfd, (code & 0x7f) | 0x80, code >> 7)
const simd2 = (code: number) => (a: Code, b: Code) => seq(a, b, 0xfd, (code & 0x7f) | 0x80, code >> 7)

const f32Sub = op2(0x93)
const f32Div = op2(0x95)
const f32Add = op2(0x92)
const f32Mul = op2(0x94)
const f32Max = op2(0x97)
const f32Abs = op1(0x8b)
const f32Neg = op1(0x8c)
const f32Sqrt = op1(0x91)
const f32x4Abs = simd1(0xe0)
const f32x4Neg = simd1(0xe1)
const f32x4Sqrt = simd1(0xe3)
const f32x4Div = simd2(0xe7)
const f64Add = op2(0xa0)
const f64Promote = op1(0xbb)
const f32Demote = op1(0xb6)
const f64Load = (addr: Code): number[] => seq(addr, 0x2b, 3, 0)
const f64Store = (addr: Code, v: Code): number[] => seq(addr, v, 0x39, 3, 0)
const f64x2Lane = (v: Code, lane: number): number[] => seq(v, 0xfd, 0x21, lane)
const f64c = (x: number): number[] => [0x44, ...new Uint8Array(new Float64Array([x]).buffer)]

// --- kernels -----------------------------------------------------------------------------

/** The binary ops, as `[f32x4, f32]` instruction pairs. */
const BINARY = {
  add: [f32x4Add, f32Add],
  sub: [f32x4Sub, f32Sub],
  mul: [f32x4Mul, f32Mul],
  div: [f32x4Div, f32Div],
} as const
export type BinaryOp = keyof typeof BINARY
/** The binary ops with a kernel. */
export const BINARY_OPS = Object.keys(BINARY) as readonly BinaryOp[]

/** The unary ops, as `[f32x4, f32]` instruction makers. */
const UNARY = {
  neg: [f32x4Neg, f32Neg],
  abs: [f32x4Abs, f32Abs],
  relu: [(x: Code) => f32x4Max(x, v128Zero()), (x: Code) => f32Max(x, seq(0x43, 0, 0, 0, 0))],
  sqrt: [f32x4Sqrt, f32Sqrt],
} as const
export type UnaryOp = keyof typeof UNARY
/** The unary ops with a kernel. */
export const UNARY_OPS = Object.keys(UNARY) as readonly UnaryOp[]

/** `for (i = from; i + step <= end; i += step) body` over byte offsets held in locals. */
const steps = (i: number, end: number, step: number, ...body: Code[]): number[] =>
  while_(ltS(add(get(i), i32c(step - 1)), get(end)), ...body, set(i, add(get(i), i32c(step))))

const binary = (op: BinaryOp): Func => {
  const [vec, one] = BINARY[op]
  const f = frame(
    [
      ['a', i32],
      ['b', i32],
      ['out', i32],
      ['rows', i32],
      ['m', i32],
    ],
    [
      ['r', i32],
      ['i', i32],
      ['end', i32],
    ],
  )
  const { a, b, out, rows, m, r, i, end } = f.ix
  // i: byte offset inside the row
  const at = (p: number): Code => add(get(p), get(i))
  const body = seq(
    set(end, mul(get(m), i32c(4))),
    while_(
      ltS(get(r), get(rows)),
      set(i, i32c(0)),
      steps(i, end, 16, v128Store(at(out), vec(v128Load(at(a)), v128Load(at(b))))),
      steps(i, end, 4, f32Store(at(out), one(f32Load(at(a)), f32Load(at(b))))),
      set(a, add(get(a), get(end))),
      set(out, add(get(out), get(end))),
      set(r, add(get(r), i32c(1))),
    ),
  )
  return { name: `bin_${op}`, params: f.params, locals: f.locals, body }
}

const scalar = (op: BinaryOp): Func => {
  const [vec, one] = BINARY[op]
  const f = frame(
    [
      ['a', i32],
      ['s', f32],
      ['out', i32],
      ['n', i32],
      ['flip', i32],
    ],
    [
      ['i', i32],
      ['end', i32],
      ['S', v128],
    ],
  )
  const { a, s, out, n, flip, i, end, S } = f.ix
  const at = (p: number): Code => add(get(p), get(i))
  const loops = (flipped: boolean): Code =>
    seq(
      set(i, i32c(0)),
      steps(
        i,
        end,
        16,
        v128Store(at(out), flipped ? vec(get(S), v128Load(at(a))) : vec(v128Load(at(a)), get(S))),
      ),
      steps(
        i,
        end,
        4,
        f32Store(at(out), flipped ? one(get(s), f32Load(at(a))) : one(f32Load(at(a)), get(s))),
      ),
    )
  const body = seq(
    set(end, mul(get(n), i32c(4))),
    set(S, f32x4Splat(get(s))),
    if_(get(flip), loops(true)),
    if_(eqz(get(flip)), loops(false)),
  )
  return { name: `sca_${op}`, params: f.params, locals: f.locals, body }
}

const unary = (op: UnaryOp): Func => {
  const [vec, one] = UNARY[op]
  const f = frame(
    [
      ['x', i32],
      ['out', i32],
      ['n', i32],
    ],
    [
      ['i', i32],
      ['end', i32],
    ],
  )
  const { x, out, n, i, end } = f.ix
  const at = (p: number): Code => add(get(p), get(i))
  const body = seq(
    set(end, mul(get(n), i32c(4))),
    steps(i, end, 16, v128Store(at(out), vec(v128Load(at(x))))),
    steps(i, end, 4, f32Store(at(out), one(f32Load(at(x))))),
  )
  return { name: `un_${op}`, params: f.params, locals: f.locals, body }
}

/** Lanes 2-3 of an f32x4 as f64x2. */
const highHalf = (v: Code): Code => f64x2PromoteLow(shuffle32(v, v, [2, 3, 2, 3]))

const colsum = (): Func => {
  const f = frame(
    [
      ['x', i32],
      ['acc', i32],
      ['out', i32],
      ['outer', i32],
      ['red', i32],
      ['inner', i32],
    ],
    [
      ['o', i32],
      ['r', i32],
      ['i', i32],
      ['end', i32],
      ['X', v128],
    ],
  )
  const { x, acc, out, outer, red, inner, o, r, i, end, X } = f.ix
  // i: byte offset of a float32 in the row; its float64 accumulator is at acc + 2·i
  const xa = (): Code => add(get(x), get(i))
  const aa = (): Code => add(get(acc), add(get(i), get(i)))
  const body = seq(
    set(end, mul(get(inner), i32c(4))),
    while_(
      ltS(get(o), get(outer)),
      set(i, i32c(0)),
      steps(i, end, 4, f64Store(aa(), f64c(0))),
      set(r, i32c(0)),
      while_(
        ltS(get(r), get(red)),
        set(i, i32c(0)),
        steps(
          i,
          end,
          16,
          set(X, v128Load(xa())),
          v128Store(aa(), f64x2Add(v128Load(aa()), f64x2PromoteLow(get(X)))),
          v128Store(aa(), f64x2Add(v128Load(aa(), 16), highHalf(get(X))), 16),
        ),
        steps(i, end, 4, f64Store(aa(), f64Add(f64Load(aa()), f64Promote(f32Load(xa()))))),
        set(x, add(get(x), get(end))),
        set(r, add(get(r), i32c(1))),
      ),
      set(i, i32c(0)),
      steps(i, end, 4, f32Store(add(get(out), get(i)), f32Demote(f64Load(aa())))),
      set(out, add(get(out), get(end))),
      set(o, add(get(o), i32c(1))),
    ),
  )
  return { name: 'colsum', params: f.params, locals: f.locals, body }
}

const rowsum = (): Func => {
  const f = frame(
    [
      ['x', i32],
      ['out', i32],
      ['rows', i32],
      ['len', i32],
    ],
    [
      ['r', i32],
      ['i', i32],
      ['end', i32],
      ['X', v128],
      ['A', v128],
      ['B', v128],
      ['s', f64],
    ],
  )
  const { x, out, rows, len, r, i, end, X, A, B, s } = f.ix
  const xa = (): Code => add(get(x), get(i))
  const body = seq(
    set(end, mul(get(len), i32c(4))),
    while_(
      ltS(get(r), get(rows)),
      set(i, i32c(0)),
      set(A, v128Zero()),
      set(B, v128Zero()),
      steps(
        i,
        end,
        16,
        set(X, v128Load(xa())),
        set(A, f64x2Add(get(A), f64x2PromoteLow(get(X)))),
        set(B, f64x2Add(get(B), highHalf(get(X)))),
      ),
      set(A, f64x2Add(get(A), get(B))),
      set(s, f64Add(f64x2Lane(get(A), 0), f64x2Lane(get(A), 1))),
      steps(i, end, 4, set(s, f64Add(get(s), f64Promote(f32Load(xa()))))),
      f32Store(get(out), f32Demote(get(s))),
      set(x, add(get(x), get(end))),
      set(out, add(get(out), i32c(4))),
      set(r, add(get(r), i32c(1))),
    ),
  )
  return { name: 'rowsum', params: f.params, locals: f.locals, body }
}

/** Pages of 64 KiB the module's memory may grow to (1 GiB: byte offsets stay below 2³¹). */
export const ELEMENTWISE_MAX_PAGES = 16384

/** The bytes of the module: every kernel above, on an imported memory (`shared` or not). */
export const elementwiseModuleBytes = (shared = false): Uint8Array =>
  module({ min: 1, max: ELEMENTWISE_MAX_PAGES, shared }, [
    ...BINARY_OPS.flatMap((op) => [binary(op), scalar(op)]),
    ...UNARY_OPS.map(unary),
    colsum(),
    rowsum(),
  ])
