/**
 * Batch normalization's loops as WebAssembly SIMD, generated with the assembler of
 * `asm.ts`. They are the four loops of `fused.ts` (`statsKernel`, `affineKernel`,
 * `gradSumsKernel`, `dxKernel`) for the layout with the kept positions last (element i of
 * x belongs to channel i mod k: `[batch, features]`, NHWC with axis −1), written as five
 * passes over x seen as `rows x k`:
 *
 * ```text
 * colSum    s[j]   = Σᵣ x[r,j]                       (the mean's sum; Σg of the VJPs)
 * colSqDev  s[j]   = Σᵣ (x[r,j] − shift[j])²         (the variance's sum)
 * gradSums  sg[j]  = Σᵣ g[r,j],  sgx[j] = Σᵣ g[r,j]·(x[r,j] − shift[j])
 * affine    out    = f32((x − shift[j])·a[j] + b[j])
 * dx        out    = f32(c[j]·((g − m1[j]) − (x − shift[j])·m2[j]))
 * ```
 *
 * Each operation is the js loop's, in `f64x2` arithmetic (two channels per instruction, four
 * per loaded `v128` of x), with the same roundings: the float32 inputs promoted exactly,
 * float64 products and sums, one rounding to float32 on the store. Sums run over the rows in
 * ascending order from +0, as the js loops do; so the two kernel sets give bitwise the same
 * numbers (NaN payloads aside). Per-channel vectors (`shift`, `a`, the sums, ...) are float64
 * arrays in the memory, padded to a multiple of 4 channels.
 *
 * A pass walks the channels in groups of 4, from the last group down to the first, and each
 * group over all rows (its constants and sums stay in registers). The last group of a row may
 * be partial (k mod 4 channels): it reads and writes a whole vector, three floats at most past
 * the row, into the next row's first channels (or the 16 bytes of padding after the array).
 * Sums of those lanes go to the padding of the vectors; stores are overwritten with the right
 * values when the group holding those channels comes by later (groups descend, rows ascend).
 */

import {
  add,
  type Code,
  f32x4DemoteZero,
  f64x2Add,
  f64x2Mul,
  f64x2PromoteLow,
  f64x2Sub,
  frame,
  get,
  gtS,
  i32,
  i32c,
  ltS,
  module,
  mul,
  seq,
  set,
  shuffle32,
  sub,
  type ValType,
  v128,
  v128Load,
  v128Store,
  v128Zero,
  while_,
} from './asm.js'

/** Pages of 64 KiB the batch-norm kernels' memory may grow to (1 GiB: addresses stay positive i32). */
export const BN_MAX_PAGES = 16384

/** What one pass reads, sums and stores; names are the kernel's pointer parameters. */
interface Pass {
  readonly name: string
  /** float32 arrays of rows x k elements, read a `v128` (4 channels) at a time */
  readonly elems: readonly string[]
  /** float64 per-channel vectors read */
  readonly vecs: readonly string[]
  /** float64 per-channel sums written, each with the f64x2 term it adds for a half (0: lanes 0-1, 1: lanes 2-3) */
  readonly sums: readonly (readonly [string, (h: number) => Code])[]
  /** the f64x2 value of a half stored (rounded to float32) into `out`, if the pass has an output */
  readonly out?: (h: number) => Code
}

/**
 * The kernel of a pass: `name(...elems, ...vecs, ...sums, out?, rowBytes, rows, groups)`, all
 * byte addresses, `rowBytes = 4k`, `groups = ⌈k/4⌉`.
 */
const kernel = (p: Pass, ix: Record<string, number>, locals: readonly (readonly [string, ValType])[]) => {
  const names = [...p.elems, ...p.vecs, ...p.sums.map(([s]) => s), ...(p.out ? ['out'] : [])]
  const f = frame(
    [...names.map((n) => [n, i32] as const), ['rowBytes', i32], ['rows', i32], ['groups', i32]],
    [
      ['jg', i32],
      ['cv', i32],
      ['p', i32],
      ['end', i32],
      ...p.elems.map((e) => [e.toUpperCase(), v128] as const),
      ...[...p.vecs, ...p.sums.map(([s]) => s)].flatMap((v) => [
        [`${v}0`, v128] as const,
        [`${v}1`, v128] as const,
      ]),
      ...locals,
    ],
  )
  Object.assign(ix, f.ix)
  const g = (n: string): Code => get(ix[n]!)
  const s = (n: string, v: Code): Code => set(ix[n]!, v)
  const body = seq(
    s('jg', mul(g('groups'), i32c(16))),
    while_(
      gtS(g('jg'), i32c(0)),
      s('jg', sub(g('jg'), i32c(16))),
      // a group is 16 bytes of a float32 row and 32 bytes of a float64 vector
      s('cv', mul(g('jg'), i32c(2))),
      ...p.vecs.flatMap((v) => [
        s(`${v}0`, v128Load(add(g(v), g('cv')))),
        s(`${v}1`, v128Load(add(g(v), g('cv')), 16)),
      ]),
      ...p.sums.flatMap(([v]) => [s(`${v}0`, v128Zero()), s(`${v}1`, v128Zero())]),
      s('p', g('jg')),
      s('end', add(g('p'), mul(g('rows'), g('rowBytes')))),
      while_(
        ltS(g('p'), g('end')),
        ...p.elems.map((e) => s(e.toUpperCase(), v128Load(add(g(e), g('p'))))),
        ...p.sums.flatMap(([v, term]) => [0, 1].map((h) => s(`${v}${h}`, f64x2Add(g(`${v}${h}`), term(h))))),
        ...(p.out
          ? [
              v128Store(
                add(g('out'), g('p')),
                shuffle32(f32x4DemoteZero(p.out(0)), f32x4DemoteZero(p.out(1)), [0, 1, 4, 5]),
              ),
            ]
          : []),
        s('p', add(g('p'), g('rowBytes'))),
      ),
      ...p.sums.flatMap(([v]) => [
        v128Store(add(g(v), g('cv')), g(`${v}0`)),
        v128Store(add(g(v), g('cv')), g(`${v}1`), 16),
      ]),
    ),
  )
  return { name: p.name, params: f.params, locals: f.locals, body }
}

/** A pass written against the names of its locals: `el('x', h)` is half h of x as f64x2, `vec('a', h)` of a vector. */
const pass = (
  name: string,
  elems: readonly string[],
  vecs: readonly string[],
  build: (
    el: (e: string, h: number) => Code,
    vec: (v: string, h: number) => Code,
  ) => {
    sums: readonly (readonly [string, (h: number) => Code])[]
    out?: (h: number) => Code
  },
) => {
  const ix: Record<string, number> = {}
  const el = (e: string, h: number): Code => {
    const E = get(ix[e.toUpperCase()]!)
    return f64x2PromoteLow(h === 0 ? E : shuffle32(E, E, [2, 3, 2, 3]))
  }
  const vec = (v: string, h: number): Code => get(ix[`${v}${h}`]!)
  return kernel({ name, elems, vecs, ...build(el, vec) }, ix, [])
}

/** `colSum(x, s, rowBytes, rows, groups)`: s[j] = Σᵣ x[r,j]. */
const colSum = () => pass('colSum', ['x'], [], (el) => ({ sums: [['s', (h) => el('x', h)]] }))

/** `colSqDev(x, shift, s, ...)`: s[j] = Σᵣ (x[r,j] − shift[j])·(x[r,j] − shift[j]). */
const colSqDev = () =>
  pass('colSqDev', ['x'], ['shift'], (el, vec) => {
    const d = (h: number) => f64x2Sub(el('x', h), vec('shift', h))
    return { sums: [['s', (h) => f64x2Mul(d(h), d(h))]] }
  })

/** `gradSums(g, x, shift, sg, sgx, ...)`: sg[j] = Σᵣ g, sgx[j] = Σᵣ g·(x − shift[j]). */
const gradSums = () =>
  pass('gradSums', ['g', 'x'], ['shift'], (el, vec) => ({
    sums: [
      ['sg', (h) => el('g', h)],
      ['sgx', (h) => f64x2Mul(el('g', h), f64x2Sub(el('x', h), vec('shift', h)))],
    ],
  }))

/** `affine(x, shift, a, b, out, ...)`: out = f32((x − shift[j])·a[j] + b[j]). */
const affine = () =>
  pass('affine', ['x'], ['shift', 'a', 'b'], (el, vec) => ({
    sums: [],
    out: (h) => f64x2Add(f64x2Mul(f64x2Sub(el('x', h), vec('shift', h)), vec('a', h)), vec('b', h)),
  }))

/** `dx(g, x, c, m1, shift, m2, out, ...)`: out = f32(c[j]·((g − m1[j]) − (x − shift[j])·m2[j])). */
const dx = () =>
  pass('dx', ['g', 'x'], ['c', 'm1', 'shift', 'm2'], (el, vec) => ({
    sums: [],
    out: (h) =>
      f64x2Mul(
        vec('c', h),
        f64x2Sub(
          f64x2Sub(el('g', h), vec('m1', h)),
          f64x2Mul(f64x2Sub(el('x', h), vec('shift', h)), vec('m2', h)),
        ),
      ),
  }))

/** The bytes of the batch-norm module: exports the five passes, imports `env.memory` (`shared` or not). */
export const batchNormModuleBytes = (shared = false): Uint8Array =>
  module({ min: 1, max: BN_MAX_PAGES, shared }, [colSum(), colSqDev(), gradSums(), affine(), dx()])
