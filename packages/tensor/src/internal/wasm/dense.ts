/**
 * The fused dense layer's elementwise steps as WebAssembly SIMD kernels, written with the
 * assembler of `asm.ts`: after the matmul kernels have left `z = x·W` in the kernels'
 * memory, `dense_<act>` adds the bias and applies the activation in place, before the
 * product is copied out; in the backward pass `denseGz_<act>` forms `g ⊙ act'(z)` (read
 * off the output y, as the js kernel does) and `colSums` the bias gradient.
 *
 * Each step does, lane for lane, what the js loop of `internal/dense.ts` does, rounding
 * where it rounds: a product with a float64 constant (α, λ) is promote, multiply, demote in
 * `f64x2`; a sum or product of two float32 is one `f32x4` operation (the float64 result of
 * JavaScript rounded once is the correctly rounded float32 one); the bias gradient sums in
 * `f64x2`, rows in order. So everything is bitwise the js result except `exp` in the
 * negative branch of ELU and SELU (Cephes, `vmath.ts`, then `exp − 1`: within
 * α·4·2⁻²³ absolute of `α·expm1`). All run on the calling thread, so they are
 * deterministic for any thread count.
 */

import {
  add,
  type Code,
  f32,
  f32Store,
  f32x4Add,
  f32x4DemoteZero,
  f32x4ExtractLane,
  f32x4Mul,
  f32x4Splat,
  f64,
  f64x2Add,
  f64x2Mul,
  f64x2PromoteLow,
  f64x2Splat,
  frame,
  get,
  gtS,
  i32,
  i32c,
  if_,
  ltS,
  mul,
  seq,
  set,
  shuffle32,
  sub,
  v128,
  v128Bitselect,
  v128Load,
  v128Store,
  while_,
} from './asm.js'
import { expV, f32x4Gt, f32x4Lt, f32x4Max, f32x4Sub, splat } from './vmath.js'

/** The activations the dense kernels fuse. */
export type DenseKernelAct = 'linear' | 'relu' | 'leakyRelu' | 'elu' | 'selu'

/** SELU's constants (Klambauer et al. 2017), the same numbers as `nn.ts`. */
export const SELU_ALPHA = 1.6732632423543772
export const SELU_SCALE = 1.0507009873554805

export const denseActs: readonly DenseKernelAct[] = ['linear', 'relu', 'leakyRelu', 'elu', 'selu']

/** f32(c·v) lane by lane for the f32x4 `v` and the f64x2 splat `c`, in float64 as JavaScript does. */
const scaleF64 = (v: Code, c: Code, tmp: number): Code =>
  seq(
    set(tmp, v),
    shuffle32(
      f32x4DemoteZero(f64x2Mul(c, f64x2PromoteLow(get(tmp)))),
      f32x4DemoteZero(f64x2Mul(c, f64x2PromoteLow(shuffle32(get(tmp), get(tmp), [2, 3, 2, 3])))),
      [0, 1, 4, 5],
    ),
  )

/** f32(v + c) lane by lane for the f32x4 `v` and the f64x2 splat `c`. */
const addF64 = (v: Code, c: Code, tmp: number): Code =>
  seq(
    set(tmp, v),
    shuffle32(
      f32x4DemoteZero(f64x2Add(c, f64x2PromoteLow(get(tmp)))),
      f32x4DemoteZero(f64x2Add(c, f64x2PromoteLow(shuffle32(get(tmp), get(tmp), [2, 3, 2, 3])))),
      [0, 1, 4, 5],
    ),
  )

/**
 * `dense_<act>(c, bias, hasBias, rows, N, alpha)`: for each of `rows` rows of N floats at
 * `c`, `c = act(c + bias)` in place (`bias` only when `hasBias` is 1; N floats, readable
 * to a multiple of 4 past its end, as is the last row of c).
 */
export const denseForward = (act: DenseKernelAct) => {
  const f = frame(
    [
      ['c', i32],
      ['bias', i32],
      ['hasBias', i32],
      ['rows', i32],
      ['N', i32],
      ['alpha', f64],
    ],
    [
      ['r', i32],
      ['j', i32],
      ['q', i32],
      ['v', v128],
      ['t', v128],
      ['n', v128],
      ['rr', v128],
      ['e', v128],
      ['tmp', v128],
      ['A', v128],
    ],
  )
  const L = f.ix as Record<string, number>
  const { g, s } = f
  const positive = (): Code => f32x4Gt(g('v'), splat(0))
  /** α·(exp(v) − 1) with α the f64x2 in local A. */
  const expm1Scaled = (): Code =>
    seq(s('e', f32x4Sub(expV(L.v!, L.t!, L.n!, L.rr!), splat(1))), scaleF64(g('e'), g('A'), L.tmp!))
  const activation: Record<DenseKernelAct, () => Code> = {
    linear: () => g('v'),
    relu: () => f32x4Max(g('v'), splat(0)),
    leakyRelu: () => v128Bitselect(g('v'), scaleF64(g('v'), g('A'), L.tmp!), positive()),
    elu: () => v128Bitselect(g('v'), expm1Scaled(), positive()),
    selu: () =>
      v128Bitselect(
        seq(s('e', scaleF64(g('v'), f64x2Splat(f64Const(SELU_SCALE)), L.tmp!)), g('e')),
        expm1Scaled(),
        positive(),
      ),
  }
  const body = seq(
    s('A', f64x2Splat(act === 'selu' ? f64Const(SELU_SCALE * SELU_ALPHA) : g('alpha'))),
    s('r', g('rows')),
    while_(
      gtS(g('r'), i32c(0)),
      s('j', i32c(0)),
      while_(
        ltS(g('j'), g('N')),
        s('q', add(g('c'), mul(g('j'), i32c(4)))),
        s('v', v128Load(g('q'))),
        if_(g('hasBias'), s('v', f32x4Add(g('v'), v128Load(add(g('bias'), mul(g('j'), i32c(4))))))),
        s('v', activation[act]()),
        if_(gtS(sub(g('N'), g('j')), i32c(3)), v128Store(g('q'), g('v'))),
        // the last partial vector of the row: lanes < N − j only
        if_(
          ltS(sub(g('N'), g('j')), i32c(4)),
          f32Store(g('q'), f32x4ExtractLane(g('v'), 0)),
          if_(gtS(sub(g('N'), g('j')), i32c(1)), f32Store(g('q'), f32x4ExtractLane(g('v'), 1), 4)),
          if_(gtS(sub(g('N'), g('j')), i32c(2)), f32Store(g('q'), f32x4ExtractLane(g('v'), 2), 8)),
        ),
        s('j', add(g('j'), i32c(4))),
      ),
      s('c', add(g('c'), mul(g('N'), i32c(4)))),
      s('r', sub(g('r'), i32c(1))),
    ),
  )
  return { name: `dense_${act}`, params: f.params, locals: f.locals, body }
}

/** An f64 constant. */
const f64Const = (x: number): number[] => [0x44, ...new Uint8Array(new Float64Array([x]).buffer)]

/**
 * `denseGz_<act>(g, y, out, n4, alpha, alpha32)`: out = g ⊙ act'(z) over n4 vectors, the
 * derivative read off y = act(z): relu 1 where y > 0 else 0; leaky ReLU 1 where y > 0 else
 * f32(α); ELU f32(y + α) where y < 0 else 1; SELU f32(y + λα) where y < 0 else f32(λ).
 */
export const denseGz = (act: Exclude<DenseKernelAct, 'linear'>) => {
  const f = frame(
    [
      ['g', i32],
      ['y', i32],
      ['out', i32],
      ['n4', i32],
      ['alpha', f64],
      ['alpha32', f32],
    ],
    [
      ['i', i32],
      ['end', i32],
      ['Y', v128],
      ['A', v128],
      ['tmp', v128],
    ],
  )
  const L = f.ix as Record<string, number>
  const { g, s } = f
  const at = (p: string): Code => add(g(p), g('i'))
  const derivative: Record<typeof act, () => Code> = {
    relu: () => v128Bitselect(splat(1), splat(0), f32x4Gt(g('Y'), splat(0))),
    leakyRelu: () => v128Bitselect(splat(1), f32x4Splat(g('alpha32')), f32x4Gt(g('Y'), splat(0))),
    elu: () => v128Bitselect(addF64(g('Y'), g('A'), L.tmp!), splat(1), f32x4Lt(g('Y'), splat(0))),
    selu: () =>
      v128Bitselect(
        addF64(g('Y'), g('A'), L.tmp!),
        splat(Math.fround(SELU_SCALE)),
        f32x4Lt(g('Y'), splat(0)),
      ),
  }
  const body = seq(
    s('A', f64x2Splat(act === 'selu' ? f64Const(SELU_SCALE * SELU_ALPHA) : g('alpha'))),
    s('end', mul(g('n4'), i32c(16))),
    s('i', i32c(0)),
    while_(
      ltS(g('i'), g('end')),
      s('Y', v128Load(at('y'))),
      v128Store(at('out'), f32x4Mul(v128Load(at('g')), derivative[act]())),
      s('i', add(g('i'), i32c(16))),
    ),
  )
  return { name: `denseGz_${act}`, params: f.params, locals: f.locals, body }
}

/**
 * `colSums(d, acc, out, rows, N)`: out[j] = f32(Σ_r d[r, j]) summed in float64, rows in
 * order (what the js loop does), with `acc` scratch for ⌈N/4⌉·32 bytes; out is written in
 * whole vectors (⌈N/4⌉·16 bytes). d must be readable a vector past its end.
 */
export const colSums = () => {
  const f = frame(
    [
      ['d', i32],
      ['acc', i32],
      ['out', i32],
      ['rows', i32],
      ['N', i32],
    ],
    [
      ['r', i32],
      ['j', i32],
      ['p', i32],
      ['v', v128],
    ],
  )
  const { g, s } = f
  const p = (): Code => add(g('acc'), mul(g('j'), i32c(8)))
  const body = seq(
    s('j', i32c(0)),
    while_(
      ltS(g('j'), g('N')),
      v128Store(p(), f64x2Splat(f64Const(0))),
      v128Store(p(), f64x2Splat(f64Const(0)), 16),
      s('j', add(g('j'), i32c(4))),
    ),
    s('r', g('rows')),
    while_(
      gtS(g('r'), i32c(0)),
      s('j', i32c(0)),
      while_(
        ltS(g('j'), g('N')),
        s('v', v128Load(add(g('d'), mul(g('j'), i32c(4))))),
        s('p', p()),
        v128Store(g('p'), f64x2Add(v128Load(g('p')), f64x2PromoteLow(g('v')))),
        v128Store(
          g('p'),
          f64x2Add(v128Load(g('p'), 16), f64x2PromoteLow(shuffle32(g('v'), g('v'), [2, 3, 2, 3]))),
          16,
        ),
        s('j', add(g('j'), i32c(4))),
      ),
      s('d', add(g('d'), mul(g('N'), i32c(4)))),
      s('r', sub(g('r'), i32c(1))),
    ),
    s('j', i32c(0)),
    while_(
      ltS(g('j'), g('N')),
      s('p', p()),
      v128Store(
        add(g('out'), mul(g('j'), i32c(4))),
        shuffle32(f32x4DemoteZero(v128Load(g('p'))), f32x4DemoteZero(v128Load(g('p'), 16)), [0, 1, 4, 5]),
      ),
      s('j', add(g('j'), i32c(4))),
    ),
  )
  return { name: 'colSums', params: f.params, locals: f.locals, body }
}

/** Every function of this file, for the kernels' module. */
export const denseKernels = () => [
  ...denseActs.map(denseForward),
  ...denseActs.filter((a): a is Exclude<DenseKernelAct, 'linear'> => a !== 'linear').map(denseGz),
  colSums(),
]
