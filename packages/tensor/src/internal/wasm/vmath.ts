/**
 * `f32x4` functions WebAssembly has no instruction for, `exp` and `log`, as instruction
 * sequences for the kernels of `softmax.ts` and `dense.ts`, with the few SIMD opcodes they
 * need beyond those of `asm.ts` (kept here so that file stays the shared minimum).
 *
 * Both are Cephes' single-precision routines (Moshier, `expf.c` and `logf.c`) in four
 * lanes: reduce the argument by powers of two, evaluate a short polynomial, put the power
 * of two back through the exponent bits. Measured against `Math.exp`/`Math.log` rounded to
 * float32 (test/wasm-softmax.test.ts): relative error at most 4·2⁻²³ for exp on
 * [−87, 88] and absolute error at most 4·2⁻²³ for log on [1, 10⁶]. Below −87, `exp`
 * returns 0 (the true value is below 1.7·10⁻³⁸).
 */

import {
  type Code,
  f32c,
  f32x4Add,
  f32x4Mul,
  f32x4Splat,
  get,
  i32c,
  seq,
  set,
  shuffle32,
  u32,
  v128Bitselect,
} from './asm.js'

const simd = (op: number): number[] => [0xfd, ...u32(op)]
const bin =
  (op: number) =>
  (a: Code, b: Code): number[] =>
    seq(a, b, simd(op))
const un =
  (op: number) =>
  (a: Code): number[] =>
    seq(a, simd(op))

export const f32x4Lt = bin(0x43)
export const f32x4Gt = bin(0x44)
export const v128And = bin(0x4e)
export const v128Or = bin(0x50)
export const f32x4Nearest = un(0x6a)
export const i32x4Shl = bin(0xab)
export const i32x4ShrU = bin(0xad)
export const i32x4Add = bin(0xae)
export const i32x4Sub = bin(0xb1)
export const f32x4Sub = bin(0xe5)
export const f32x4Div = bin(0xe7)
export const f32x4Min = bin(0xe8)
export const f32x4Max = bin(0xe9)
export const i32x4TruncSatF32x4S = un(0xf8)
export const f32x4ConvertI32x4S = un(0xfa)
export const i32x4Splat = un(0x11)

/** Four lanes of the float32 constant `x`. */
export const splat = (x: number): number[] => f32x4Splat(f32c(x))
/** Four lanes of the i32 constant `n`. */
export const splatI = (n: number): number[] => i32x4Splat(i32c(n))

/** Horner's scheme: ((c₀·x + c₁)·x + …) + cₙ, with x in local `x`. */
const horner = (x: number, cs: readonly number[]): Code =>
  cs.slice(1).reduce<Code>((acc, c) => f32x4Add(f32x4Mul(acc, get(x)), splat(c)), splat(cs[0]!))

/** Below this, exp returns 0; the reduction keeps 2ⁿ normal from here to {@link EXP_HI}. */
export const EXP_LO = -87
const EXP_HI = 88

/**
 * `exp` of the `v128` in local `x` (left unchanged), using v128 locals `t`, `n` and `r` as
 * scratch; leaves the result on the stack. NaN gives NaN.
 */
export const expV = (x: number, t: number, n: number, r: number): Code =>
  seq(
    set(t, f32x4Max(f32x4Min(get(x), splat(EXP_HI)), splat(EXP_LO))),
    // n = nearest(t·log₂e), r = t − n·ln 2 with ln 2 split in two parts (exact first product)
    set(n, f32x4Nearest(f32x4Mul(get(t), splat(Math.LOG2E)))),
    set(
      r,
      f32x4Sub(
        f32x4Sub(get(t), f32x4Mul(get(n), splat(0.693359375))),
        f32x4Mul(get(n), splat(-2.1219444e-4)),
      ),
    ),
    // t = r² · P(r) + r + 1
    set(
      t,
      f32x4Add(
        f32x4Add(
          f32x4Mul(
            horner(
              r,
              [
                1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
                5.0000001201e-1,
              ],
            ),
            f32x4Mul(get(r), get(r)),
          ),
          get(r),
        ),
        splat(1),
      ),
    ),
    // · 2ⁿ, built in the exponent bits; 0 below EXP_LO
    v128Bitselect(
      splat(0),
      f32x4Mul(get(t), i32x4Shl(i32x4Add(i32x4TruncSatF32x4S(get(n)), splatI(127)), i32c(23))),
      f32x4Lt(get(x), splat(EXP_LO)),
    ),
  )

/**
 * `log` of the `v128` in local `x` (left unchanged) for positive normal finite lanes, using
 * v128 locals `e`, `m` and `k` as scratch; leaves the result on the stack.
 */
export const logV = (x: number, e: number, m: number, k: number): Code =>
  seq(
    // x = m·2^e with m in [0.5, 1)
    set(e, i32x4Sub(i32x4ShrU(get(x), i32c(23)), splatI(126))),
    set(m, v128Or(v128And(get(x), splatI(0x007fffff)), splatI(0x3f000000))),
    // m < √½: e − 1 and 2m − 1, else m − 1 (k is all ones where m < √½)
    set(k, f32x4Lt(get(m), splat(Math.SQRT1_2))),
    set(e, f32x4ConvertI32x4S(i32x4Add(get(e), get(k)))),
    set(m, f32x4Add(f32x4Sub(get(m), splat(1)), v128And(get(m), get(k)))),
    // k = m²; log = m + (m·k·P(m) − 2.12e-4·e − k/2) + 0.693359375·e
    set(k, f32x4Mul(get(m), get(m))),
    f32x4Add(
      f32x4Add(
        get(m),
        f32x4Sub(
          f32x4Add(
            f32x4Mul(
              f32x4Mul(
                horner(
                  m,
                  [
                    7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1,
                    -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
                  ],
                ),
                get(m),
              ),
              get(k),
            ),
            f32x4Mul(get(e), splat(-2.1219444e-4)),
          ),
          f32x4Mul(get(k), splat(0.5)),
        ),
      ),
      f32x4Mul(get(e), splat(0.693359375)),
    ),
  )

/** Horizontal sum (l₀ + l₂) + (l₁ + l₃) of the v128 in local `v`, in every lane (scratch `t`). */
export const hsum = (v: number, t: number): Code =>
  seq(
    set(t, f32x4Add(get(v), shuffleLanes(get(v), [2, 3, 0, 1]))),
    f32x4Add(get(t), shuffleLanes(get(t), [1, 0, 3, 2])),
  )

/** Horizontal max of the v128 in local `v`, in every lane (scratch `t`). */
export const hmax = (v: number, t: number): Code =>
  seq(
    set(t, f32x4Max(get(v), shuffleLanes(get(v), [2, 3, 0, 1]))),
    f32x4Max(get(t), shuffleLanes(get(t), [1, 0, 3, 2])),
  )

const shuffleLanes = (v: Code, lanes: readonly number[]): number[] => shuffle32(v, v, lanes)

/** Scalar `f32.sub`. */
export const f32Sub = (a: Code, b: Code): number[] => seq(a, b, 0x93)
/** Scalar `i32.load` (4-byte aligned). */
export const i32Load = (addr: Code, offset = 0): number[] => seq(addr, 0x28, 2, ...u32(offset))
