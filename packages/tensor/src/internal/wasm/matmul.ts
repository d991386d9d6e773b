/**
 * The WebAssembly SIMD matmul kernels, written with the assembler of `asm.ts`. One
 * generator of each kind covers the three forms of dense forward and backward:
 *
 * - `outer`, `outerTiled` and `outerStrided`: C[i,j] = Σₖ A(i,k)·B[k,j] with B packed in
 *   panels of 8 columns (`pack`), A row-major (`outer`, A·B) or, for Aᵀ·B, whose A is
 *   stored [K,M], packed in tiles of 4 rows (`packA`, then `outerTiled`) or, for K up to
 *   {@link STRIDED_MAX_K}, read in place (`outerStrided`). A 4x8 register tile: per k, two
 *   `v128` loads of the panel, four `load32_splat` of A, eight `f32x4` multiply-adds into
 *   eight accumulators.
 * - `dot`: C[i,j] = Σₖ A[i,k]·B[j,k] with B stored [N,K] (A·Bᵀ, backprop's g·Wᵀ). Rows of
 *   A and B are both contiguous in k, so the tile (4 rows of A x 2 rows of B) loads four
 *   k at a time from each and keeps eight accumulators of four partial sums each.
 *
 * Both run their inner loop as straight code: a run of k's (16 for `outer`, 8 groups of
 * four for `dot`) with every address a constant offset from the run's pointers, and a
 * branch out after each k or group. The branches are there for V8: its optimizing compiler
 * (TurboFan) places a basic block's loads ahead of its arithmetic, so an unrolled run
 * without them loads every operand first and spills the register tile to the stack; with
 * them each k's loads stay next to its multiply-adds (one compare and branch per k instead
 * of five pointer increments, a counter and a branch).
 *
 * The summation order of an element is fixed by K alone, never by the tile that computes
 * it nor by the rows a chunk holds: in `outer`, blocks of {@link K_BLOCK} k's, each summed
 * from zero k ascending in float32 (`acc = acc + a·b`, each rounded), the block sums added
 * in order (`tot = tot + acc`); in `dot`, four partial sums over k ≡ 0, 1, 2, 3
 * (mod 4) up to the last multiple of 4, combined as (s0 + s2) + (s1 + s3), then the last
 * K mod 4 products in order. So results are bitwise the same for any split into chunks,
 * hence for any thread count.
 *
 * Partial column groups (N mod 4 columns) load a full vector from B (reading up to three
 * floats past the row, into padding the caller provides) and store only the valid lanes:
 * lane j of the result depends on lane j of B only.
 */

import {
  add,
  and,
  block,
  brIf,
  type Code,
  eq,
  f32,
  f32Add,
  f32Load,
  f32Mul,
  f32Store,
  f32x4Add,
  f32x4ExtractLane,
  f32x4Mul,
  frame,
  geS,
  gtS,
  i32,
  i32c,
  if_,
  leS,
  ltS,
  module,
  mul,
  seq,
  shrU,
  shuffle32,
  sub,
  v128,
  v128Load,
  v128Load32Splat,
  v128Store,
  v128Zero,
  while_,
} from './asm.js'
import { denseKernels } from './dense.js'
import { softmaxRows, softmaxVjp, softmaxXent } from './softmax.js'

/**
 * The k's `outer` sums in one block: each element is the float32 sum, k ascending, of its
 * blocks' sums, each block summed from zero k ascending. Two levels cut the rounding error
 * of a long dot product (784 inputs) about fourfold against one running sum, at the cost of
 * eight vector additions per block.
 */
export const K_BLOCK = 16

/**
 * The largest K for which Aᵀ·B reads A in place (`outerStrided`) rather than packing it
 * (`packA`, `outerTiled`); measured on a 2-core Xeon (48 KiB L1): at K = 32 and 64 in place
 * was 5-8% faster, at K = 128 6% slower.
 */
export const STRIDED_MAX_K = 64

/** Rows of the register tile of both kernels; chunks of rows are multiples of it. */
export const TILE_ROWS = 4

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

/**
 * The `outer` kernels: rows [r0, r1) (r0 a multiple of 4) and columns [j0, j1) (j0 a
 * multiple of 8) of C = op(A)·B, B packed by {@link pack} in panels of 8 columns (panel p
 * holds B[k, 8p..8p+8] for k = 0..K-1, 32 contiguous bytes each), so a tile streams its
 * panel (K·32 bytes, in L1) whatever B's layout was. Panels outer, row tiles inner: a
 * panel stays in L1 while the chunk's rows go by. A is read
 *
 * - `rows` (`outer`, A·B): row-major, row i at `a` + i·aRow, k contiguous;
 * - `tiled` (`outerTiled`, Aᵀ·B): packed by {@link packA} in tiles of 4 rows (the
 *   tile of row i, a multiple of 4, at `a` + i·aRow with aRow = 4K; A(i + r, k) at 16k + 4r
 *   in it), as Aᵀ's rows, read in place, are a cache line apart for each k. One pointer
 *   per row (tile + 4r), as in `outer`: with one pointer for the tile and offsets 16k + 4r,
 *   V8 made the kernel ~7% slower on a shared memory (measured; not on an unshared one);
 * - `strided` (`outerStrided`, Aᵀ·B for small K): Aᵀ read in place, stored [K,M], A(i + r, k)
 *   at `a` + 4(i + r) + k·aRow with aRow = 4M: one pointer for the tile, moved by aRow after
 *   each k. A tile then touches K cache lines of A, which the next three tiles share: with
 *   K up to {@link STRIDED_MAX_K} they stay in L1 beside the panel and this beats packing
 *   (no `packA` pass, ~5% faster at K = 32), while for long K they fall out of L1 (K = 512,
 *   M = 784: 20% slower than `outerTiled`).
 *
 * The register tile is 4 rows x 8 columns: per k two `v128` loads of the panel, four
 * `load32_splat` of A, eight `f32x4` multiply-adds into eight accumulators; each block of
 * {@link K_BLOCK} k's is straight code with constant offsets from the block's pointers.
 */
const outer = (mode: 'rows' | 'tiled' | 'strided') => {
  const strided = mode === 'strided'
  const f = frame(
    [
      ['a', i32],
      ['aRow', i32],
      ['bp', i32],
      ['c', i32],
      ['cRow', i32],
      ['K', i32],
      ['N', i32],
      ['r0', i32],
      ['r1', i32],
      ['j0', i32],
      ['j1', i32],
    ],
    [
      ['i', i32],
      ['j', i32],
      ['k', i32],
      ['n', i32],
      ['pb', i32],
      ['q', i32],
      ['rem', i32],
      ...range(4).map((r) => [`p${r}`, i32] as const),
      ...range(8).map((t) => [`acc${t}`, v128] as const),
      ...range(8).map((t) => [`tot${t}`, v128] as const),
      ['b0', v128],
      ['b1', v128],
      ['x', v128],
    ],
  )
  const { g, s } = f
  const acc = (r: number, v: number): string => `acc${2 * r + v}`
  const tot = (r: number, v: number): string => `tot${2 * r + v}`
  /** Pointers to A: one per row, or one for the tile (`strided`). */
  const aPointers = (m: number): number => (strided ? 1 : m)
  /** Pointer r at row i (of the tile at row i, for `strided`). */
  const aStart = (r: number): Code =>
    mode === 'rows'
      ? add(g('a'), mul(add(g('i'), i32c(r)), g('aRow')))
      : mode === 'tiled'
        ? add(add(g('a'), mul(g('i'), g('aRow'))), i32c(4 * r))
        : add(g('a'), mul(g('i'), i32c(4)))
  /** A(i + r, k0 + kk) of the block starting at k0, as a load32_splat (`strided`: p0 is at k). */
  const aSplat = (r: number, kk: number): Code =>
    mode === 'rows'
      ? v128Load32Splat(g(`p${r}`), 4 * kk)
      : mode === 'tiled'
        ? v128Load32Splat(g(`p${r}`), 16 * kk)
        : v128Load32Splat(g('p0'), 4 * r)
  /** The multiply-adds of the block's k-th k for `m` rows. */
  const step = (m: number, kk: number): Code =>
    seq(
      s('b0', v128Load(g('pb'), 32 * kk)),
      s('b1', v128Load(g('pb'), 32 * kk + 16)),
      ...range(m).flatMap((r) => [
        s('x', aSplat(r, kk)),
        ...range(2).map((v) => s(acc(r, v), f32x4Add(g(acc(r, v)), f32x4Mul(g('x'), g(`b${v}`))))),
      ]),
      ...(strided ? [s('p0', add(g('p0'), g('aRow')))] : []),
    )
  /** One tile: `m` rows of A times one panel; `partial`: store only columns < rem. */
  const tile = (m: number, partial: boolean): Code =>
    seq(
      ...range(m).flatMap((r) => range(2).map((v) => s(tot(r, v), v128Zero()))),
      s('pb', add(g('bp'), mul(g('j'), mul(g('K'), i32c(4))))),
      ...range(aPointers(m)).map((r) => s(`p${r}`, aStart(r))),
      s('k', g('K')),
      // blocks of K_BLOCK k's: each summed from zero, k ascending, then added to the total
      while_(
        gtS(g('k'), i32c(0)),
        ...range(m).flatMap((r) => range(2).map((v) => s(acc(r, v), v128Zero()))),
        s('n', g('k')),
        if_(gtS(g('n'), i32c(K_BLOCK)), s('n', i32c(K_BLOCK))),
        // the block's n k's as straight code, left after the n-th; a branch per k keeps
        // each k's loads next to its arithmetic (else TurboFan hoists all the loads)
        block(...range(K_BLOCK).map((kk) => seq(step(m, kk), leS(g('n'), i32c(kk + 1)), brIf(0)))),
        s('pb', add(g('pb'), mul(g('n'), i32c(32)))),
        // (`strided` moved its pointer at each k)
        ...(strided
          ? []
          : range(m).map((r) => s(`p${r}`, add(g(`p${r}`), mul(g('n'), i32c(mode === 'tiled' ? 16 : 4)))))),
        s('k', sub(g('k'), g('n'))),
        ...range(m).flatMap((r) => range(2).map((v) => s(tot(r, v), f32x4Add(g(tot(r, v)), g(acc(r, v)))))),
      ),
      ...range(m).flatMap((r) => [
        s('q', add(add(g('c'), mul(add(g('i'), i32c(r)), g('cRow'))), mul(g('j'), i32c(4)))),
        ...(partial
          ? range(8).map((lane) => {
              const store = f32Store(g('q'), f32x4ExtractLane(g(tot(r, lane >> 2)), lane & 3), 4 * lane)
              return lane === 0 ? store : if_(gtS(g('rem'), i32c(lane)), store)
            })
          : range(2).map((v) => v128Store(g('q'), g(tot(r, v)), 16 * v))),
      ]),
    )
  /** The chunk's rows: tiles of 4 rows, then one tile of the 1 to 3 rows left. */
  const rows = (partial: boolean): Code =>
    seq(
      s('i', g('r0')),
      while_(leS(add(g('i'), i32c(4)), g('r1')), tile(4, partial), s('i', add(g('i'), i32c(4)))),
      ...range(3).map((m) => if_(eq(sub(g('r1'), g('i')), i32c(m + 1)), tile(m + 1, partial))),
    )
  const body = seq(
    s('j', g('j0')),
    while_(
      ltS(g('j'), g('j1')),
      s('rem', sub(g('N'), g('j'))),
      if_(geS(g('rem'), i32c(8)), rows(false)),
      if_(ltS(g('rem'), i32c(8)), rows(true)),
      s('j', add(g('j'), i32c(8))),
    ),
  )
  const name = mode === 'rows' ? 'outer' : mode === 'tiled' ? 'outerTiled' : 'outerStrided'
  return { name, params: f.params, locals: f.locals, body }
}

/** k's `packA` copies per tile before moving to the next tile (straight code, left after the last). */
const PACK_A_RUN = 8

/**
 * `packA`: Aᵀ stored [K,M] (row k at `a` + k·aK) into tiles of 4 rows at `dst`
 * (⌈M/4⌉·K·16 bytes) as `outerTiled` reads them: A(4t + r, k) at 16·(K·t + k) + 4r, each
 * (t, k) one `v128` copy. Runs of {@link PACK_A_RUN} k's outer, tiles inner: each tile gets
 * the run's 128 contiguous bytes (two whole cache lines) while A's rows k..k+7 are read in
 * order. (One k at a time, tiles inner, wrote 16 bytes per tile, a tile's 16K bytes apart:
 * measured, 784x512 packed in 330 µs that way against 140 µs this way, 784x32 in 10 against
 * 2.3.) The
 * last tile's missing rows hold the floats after A's row (up to 12 bytes past A's end: the
 * caller pads it by 32); the kernel never stores them.
 */
const packA = () => {
  const f = frame(
    [
      ['a', i32],
      ['aK', i32],
      ['dst', i32],
      ['M', i32],
      ['K', i32],
    ],
    [
      ['k', i32],
      ['i', i32],
      ['n', i32],
      ['d', i32],
      ...range(PACK_A_RUN).map((kk) => [`q${kk}`, i32] as const),
    ],
  )
  const { g, s } = f
  const body = seq(
    s('k', i32c(0)),
    while_(
      ltS(g('k'), g('K')),
      s('n', sub(g('K'), g('k'))),
      if_(gtS(g('n'), i32c(PACK_A_RUN)), s('n', i32c(PACK_A_RUN))),
      ...range(PACK_A_RUN).map((kk) => s(`q${kk}`, add(g('a'), mul(add(g('k'), i32c(kk)), g('aK'))))),
      s('d', add(g('dst'), mul(g('k'), i32c(16)))),
      s('i', i32c(0)),
      while_(
        ltS(g('i'), g('M')),
        block(
          ...range(PACK_A_RUN).map((kk) =>
            seq(v128Store(g('d'), v128Load(g(`q${kk}`)), 16 * kk), leS(g('n'), i32c(kk + 1)), brIf(0)),
          ),
        ),
        ...range(PACK_A_RUN).map((kk) => s(`q${kk}`, add(g(`q${kk}`), i32c(16)))),
        s('d', add(g('d'), mul(g('K'), i32c(16)))),
        s('i', add(g('i'), i32c(4))),
      ),
      s('k', add(g('k'), i32c(PACK_A_RUN))),
    ),
  )
  return { name: 'packA', params: f.params, locals: f.locals, body }
}

/**
 * `pack`: B [K,N] (row stride `bK` bytes) into panels of 8 columns at `dst`
 * (⌈N/8⌉·K·32 bytes). The last panel's missing columns hold whatever follows each row
 * (the caller pads B's end by 32 bytes); the kernel never stores them.
 */
const pack = () => {
  const f = frame(
    [
      ['b', i32],
      ['bK', i32],
      ['dst', i32],
      ['K', i32],
      ['N', i32],
    ],
    [
      ['j', i32],
      ['k', i32],
      ['src', i32],
    ],
  )
  const { g, s } = f
  const body = seq(
    s('j', i32c(0)),
    while_(
      ltS(g('j'), g('N')),
      s('src', add(g('b'), mul(g('j'), i32c(4)))),
      s('k', g('K')),
      while_(
        gtS(g('k'), i32c(0)),
        v128Store(g('dst'), v128Load(g('src'))),
        v128Store(g('dst'), v128Load(g('src'), 16), 16),
        s('src', add(g('src'), g('bK'))),
        s('dst', add(g('dst'), i32c(32))),
        s('k', sub(g('k'), i32c(1))),
      ),
      s('j', add(g('j'), i32c(8))),
    ),
  )
  return { name: 'pack', params: f.params, locals: f.locals, body }
}

/** The `dot` kernel: rows [r0, r1) and columns [j0, j1) (j0 even) of C = A·Bᵀ, A [M,K] and B [N,K] row-major. */
const dot = () => {
  const f = frame(
    [
      ['a', i32],
      ['aRow', i32],
      ['unused', i32],
      ['b', i32],
      ['bRow', i32],
      ['c', i32],
      ['cRow', i32],
      ['K', i32],
      ['N', i32],
      ['r0', i32],
      ['r1', i32],
      ['j0', i32],
      ['j1', i32],
    ],
    [
      ['i', i32],
      ['j', i32],
      ['k', i32],
      ['n', i32],
      ['q', i32],
      ...range(4).map((r) => [`pa${r}`, i32] as const),
      ...range(2).map((t) => [`pb${t}`, i32] as const),
      ...range(8).map((t) => [`acc${t}`, v128] as const),
      ['b0', v128],
      ['b1', v128],
      ['x', v128],
      ['h', v128],
      ...range(8).map((t) => [`t${t}`, f32] as const),
    ],
  )
  const { g, s } = f
  const acc = (r: number, t: number): string => `acc${2 * r + t}`
  const sum = (r: number, t: number): string => `t${2 * r + t}`
  /** (s0 + s2) + (s1 + s3) of a vector of partial sums. */
  const hsum = (v: string): Code =>
    seq(
      s('h', f32x4Add(g(v), shuffle32(g(v), g(v), [2, 3, 0, 1]))),
      f32x4ExtractLane(f32x4Add(g('h'), shuffle32(g('h'), g('h'), [1, 0, 3, 2])), 0),
    )
  /** The multiply-adds of the run's kk-th group of four k's. */
  const step = (mr: number, nb: number, kk: number): Code =>
    seq(
      ...range(nb).map((t) => s(`b${t}`, v128Load(g(`pb${t}`), 16 * kk))),
      ...range(mr).flatMap((r) => [
        s('x', v128Load(g(`pa${r}`), 16 * kk)),
        ...range(nb).map((t) => s(acc(r, t), f32x4Add(g(acc(r, t)), f32x4Mul(g('x'), g(`b${t}`))))),
      ]),
    )
  /** Row and column pointers moved by `bytes`. */
  const advance = (mr: number, nb: number, bytes: Code): Code =>
    seq(
      ...range(mr).map((r) => s(`pa${r}`, add(g(`pa${r}`), bytes))),
      ...range(nb).map((t) => s(`pb${t}`, add(g(`pb${t}`), bytes))),
    )
  const tile = (mr: number, nb: number): Code =>
    seq(
      ...range(mr).flatMap((r) => range(nb).map((t) => s(acc(r, t), v128Zero()))),
      ...range(mr).map((r) => s(`pa${r}`, add(g('a'), mul(add(g('i'), i32c(r)), g('aRow'))))),
      ...range(nb).map((t) => s(`pb${t}`, add(g('b'), mul(add(g('j'), i32c(t)), g('bRow'))))),
      // ⌊K/4⌋ groups of four k's, in runs of up to DOT_RUN as straight code (as in outer)
      s('k', shrU(g('K'), i32c(2))),
      while_(
        gtS(g('k'), i32c(0)),
        s('n', g('k')),
        if_(gtS(g('n'), i32c(DOT_RUN)), s('n', i32c(DOT_RUN))),
        block(...range(DOT_RUN).map((kk) => seq(step(mr, nb, kk), leS(g('n'), i32c(kk + 1)), brIf(0)))),
        advance(mr, nb, mul(g('n'), i32c(16))),
        s('k', sub(g('k'), g('n'))),
      ),
      ...range(mr).flatMap((r) => range(nb).map((t) => s(sum(r, t), hsum(acc(r, t))))),
      s('k', remainder4(g('K'))),
      while_(
        gtS(g('k'), i32c(0)),
        ...range(mr).flatMap((r) =>
          range(nb).map((t) =>
            s(sum(r, t), f32Add(g(sum(r, t)), f32Mul(f32Load(g(`pa${r}`)), f32Load(g(`pb${t}`))))),
          ),
        ),
        advance(mr, nb, i32c(4)),
        s('k', sub(g('k'), i32c(1))),
      ),
      ...range(mr).flatMap((r) => [
        s('q', add(add(g('c'), mul(add(g('i'), i32c(r)), g('cRow'))), mul(g('j'), i32c(4)))),
        ...range(nb).map((t) => f32Store(g('q'), g(sum(r, t)), 4 * t)),
      ]),
    )
  const columns = (mr: number): Code =>
    seq(
      s('j', g('j0')),
      while_(leS(add(g('j'), i32c(2)), g('j1')), tile(mr, 2), s('j', add(g('j'), i32c(2)))),
      if_(ltS(g('j'), g('j1')), tile(mr, 1)),
    )
  const body = seq(
    s('i', g('r0')),
    while_(leS(add(g('i'), i32c(4)), g('r1')), columns(4), s('i', add(g('i'), i32c(4)))),
    while_(ltS(g('i'), g('r1')), columns(1), s('i', add(g('i'), i32c(1)))),
  )
  return { name: 'dot', params: f.params, locals: f.locals, body }
}

/** Groups of four k's `dot` runs as straight code between loop tests. */
const DOT_RUN = 8

/** K mod 4 for K >= 0. */
const remainder4 = (k: Code): Code => and(k, i32c(3))

/** Pages of 64 KiB the kernels' memory may grow to (2 GiB). */
export const MAX_PAGES = 32768

/**
 * The bytes of the kernels' module: exports `outer`, `outerTiled`, `outerStrided`, `dot`, `pack`, `packA`, the softmax kernels
 * (`softmax.ts`) and the dense epilogues (`dense.ts`), which run on products left in this
 * memory; imports `env.memory`. (The optimizer passes of `update.ts` have their own module,
 * `update-run.ts`.)
 */
export const kernelModuleBytes = (shared: boolean): Uint8Array =>
  module({ min: 1, max: MAX_PAGES, shared }, [
    outer('rows'),
    outer('tiled'),
    outer('strided'),
    packA(),
    dot(),
    pack(),
    softmaxRows(),
    softmaxVjp(),
    softmaxXent(),
    ...denseKernels(),
  ])
