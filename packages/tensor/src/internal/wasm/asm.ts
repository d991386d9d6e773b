/**
 * A small WebAssembly assembler: the few instructions purenn's kernels need (integer
 * arithmetic for addresses, scalar and `f32x4` SIMD loads, stores and arithmetic, blocks,
 * loops and branches, locals), and a module writer with one imported memory and exported
 * functions. An instruction is an array of bytes; a function body is those arrays in
 * order, so kernels are written as TypeScript functions that return arrays, with plain
 * loops of TypeScript where the kernel wants an unrolled register tile.
 *
 * Encoding (WebAssembly core spec 1.0 + the fixed-width SIMD proposal, both in every
 * browser and in Node >= 16): integers are LEB128, a module is the magic `\0asm`, version
 * 1, then sections (id, byte length, contents) in increasing id order; SIMD opcodes are the
 * prefix 0xfd followed by a LEB128 opcode.
 */

/** Bytes of one or more instructions. */
export type Code = readonly number[]

/** Value types. */
export const i32 = 0x7f
export const f32 = 0x7d
export const f64 = 0x7c
export const v128 = 0x7b
export type ValType = typeof i32 | typeof f32 | typeof f64 | typeof v128

/** Unsigned LEB128 of a non-negative integer below 2³². */
export const u32 = (n: number): number[] => {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`u32: ${n} is not a u32`)
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n = Math.floor(n / 128)
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}

/** Signed LEB128 of a 32-bit integer. */
export const s32 = (n: number): number[] => {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff)
    throw new RangeError(`s32: ${n} is not an i32`)
  const out: number[] = []
  for (;;) {
    const byte = n & 0x7f
    n >>= 7
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)
    out.push(done ? byte : byte | 0x80)
    if (done) return out
  }
}

const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)]
/** A vector: its length, then its items. */
const vec = (items: readonly Code[]): number[] => [...u32(items.length), ...items.flat()]
const name = (s: string): number[] => {
  const b = utf8(s)
  return [...u32(b.length), ...b]
}
const section = (id: number, contents: Code): number[] =>
  contents.length === 0 ? [] : [id, ...u32(contents.length), ...contents]

/** Concatenates instructions. */
export const seq = (...parts: readonly (Code | number)[]): number[] =>
  parts.flatMap((p) => (typeof p === 'number' ? [p] : p))

// --- control ---------------------------------------------------------------------------

const EMPTY = 0x40
/** `block ... end`: `br 0` from inside jumps past the end. */
export const block = (...body: Code[]): number[] => seq(0x02, EMPTY, ...body, 0x0b)
/** `loop ... end`: `br 0` from inside jumps back to the start. */
export const loop = (...body: Code[]): number[] => seq(0x03, EMPTY, ...body, 0x0b)
/** `if ... end` on an i32 condition computed by `cond`. */
export const if_ = (cond: Code, ...body: Code[]): number[] => seq(cond, 0x04, EMPTY, ...body, 0x0b)
export const br = (depth: number): number[] => [0x0c, ...u32(depth)]
export const brIf = (depth: number): number[] => [0x0d, ...u32(depth)]

/**
 * `for (; test; ) { body }` as `block (loop (br_if 1 (i32.eqz test)) body (br 0))`:
 * a `br 1` inside `body` leaves the loop, `br 0` continues it (depths seen from `body`'s
 * own level).
 */
export const while_ = (test: Code, ...body: Code[]): number[] =>
  block(loop(seq(test, 0x45, ...brIf(1)), ...body, br(0)))

// --- locals and constants --------------------------------------------------------------

export const get = (i: number): number[] => [0x20, ...u32(i)]
export const set = (i: number, value: Code): number[] => seq(value, 0x21, ...u32(i))
export const i32c = (n: number): number[] => [0x41, ...s32(n)]
export const f32c = (x: number): number[] => [0x43, ...new Uint8Array(new Float32Array([x]).buffer)]

// --- i32 --------------------------------------------------------------------------------

const bin =
  (op: number) =>
  (a: Code, b: Code): number[] =>
    seq(a, b, op)
export const eqz = (a: Code): number[] => seq(a, 0x45)
export const eq = bin(0x46)
export const ne = bin(0x47)
export const ltS = bin(0x48)
export const gtS = bin(0x4a)
export const leS = bin(0x4c)
export const geS = bin(0x4e)
export const add = bin(0x6a)
export const sub = bin(0x6b)
export const mul = bin(0x6c)
export const and = bin(0x71)
/** Unsigned shift right. */
export const shrU = bin(0x76)

// --- memory (memarg: log2 of the alignment, then a static byte offset) ------------------

export const f32Load = (addr: Code, offset = 0): number[] => seq(addr, 0x2a, 2, ...u32(offset))
export const f32Store = (addr: Code, value: Code, offset = 0): number[] =>
  seq(addr, value, 0x38, 2, ...u32(offset))
export const f32Add = bin(0x92)
export const f32Mul = bin(0x94)

// --- SIMD (prefix 0xfd) ----------------------------------------------------------------

const simd = (op: number): number[] => [0xfd, ...u32(op)]
export const v128Load = (addr: Code, offset = 0): number[] => seq(addr, simd(0x00), 4, ...u32(offset))
/** Loads one f32 and repeats it in the four lanes. */
export const v128Load32Splat = (addr: Code, offset = 0): number[] => seq(addr, simd(0x09), 2, ...u32(offset))
export const v128Store = (addr: Code, value: Code, offset = 0): number[] =>
  seq(addr, value, simd(0x0b), 4, ...u32(offset))
export const v128Zero = (): number[] => seq(simd(0x0c), new Array<number>(16).fill(0))
/** Lanes of `a` then `b` picked by 16 byte indices (0-15 from a, 16-31 from b). */
export const shuffle = (a: Code, b: Code, bytes: readonly number[]): number[] => {
  if (bytes.length !== 16 || bytes.some((x) => !Number.isInteger(x) || x < 0 || x > 31))
    throw new RangeError('shuffle: expected 16 byte indices from 0 to 31')
  return seq(a, b, simd(0x0d), bytes)
}
/** `shuffle` by f32 lanes (0-3 from a, 4-7 from b). */
export const shuffle32 = (a: Code, b: Code, lanes: readonly number[]): number[] =>
  shuffle(
    a,
    b,
    lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]),
  )
export const f32x4Splat = (x: Code): number[] => seq(x, simd(0x13))
export const f32x4ExtractLane = (v: Code, lane: number): number[] => seq(v, simd(0x1f), lane)
export const f32x4Add = (a: Code, b: Code): number[] => seq(a, b, simd(0xe4))
export const f32x4Sub = (a: Code, b: Code): number[] => seq(a, b, simd(0xe5))
export const f32x4Mul = (a: Code, b: Code): number[] => seq(a, b, simd(0xe6))
export const f32x4Max = (a: Code, b: Code): number[] => seq(a, b, simd(0xe9))
/** All ones in the lanes where a = b (so +0 = −0; NaN equals nothing), else zeros. */
export const f32x4Eq = (a: Code, b: Code): number[] => seq(a, b, simd(0x41))
/** The bits of `a` where `mask` is 1, of `b` where it is 0. */
export const v128Bitselect = (a: Code, b: Code, mask: Code): number[] => seq(a, b, mask, simd(0x52))
/** The two f32 of the low half, exactly, as two f64. */
export const f64x2PromoteLow = (v: Code): number[] => seq(v, simd(0x5f))
/** Two f64 rounded to f32 (to nearest, ties to even) in lanes 0 and 1; lanes 2 and 3 are 0. */
export const f32x4DemoteZero = (v: Code): number[] => seq(v, simd(0x5e))
export const f64x2Splat = (x: Code): number[] => seq(x, simd(0x14))
export const f64x2Sqrt = (v: Code): number[] => seq(v, simd(0xef))
export const f64x2Add = (a: Code, b: Code): number[] => seq(a, b, simd(0xf0))
export const f64x2Sub = (a: Code, b: Code): number[] => seq(a, b, simd(0xf1))
export const f64x2Mul = (a: Code, b: Code): number[] => seq(a, b, simd(0xf2))
export const f64x2Div = (a: Code, b: Code): number[] => seq(a, b, simd(0xf3))
/** `|x|` of two f64 (the sign bit cleared). */
export const f64x2Abs = (v: Code): number[] => seq(v, simd(0xec))
/** The larger of two f64 per lane, as `Math.max`: NaN if either is NaN, +0 over −0. */
export const f64x2Max = (a: Code, b: Code): number[] => seq(a, b, simd(0xf5))

// --- modules -----------------------------------------------------------------------------

/** A function of a module: its export name, parameter and extra local types, and body. */
export interface Func {
  readonly name: string
  readonly params: readonly ValType[]
  readonly locals: readonly ValType[]
  readonly body: Code
}

/** The module's memory, imported as `env.memory`: pages of 64 KiB. */
export interface MemoryImport {
  readonly min: number
  readonly max: number
  readonly shared: boolean
}

/**
 * The bytes of a module that imports `env.memory` and exports `funcs` (no results:
 * kernels write into memory).
 */
export const module = (memory: MemoryImport, funcs: readonly Func[]): Uint8Array => {
  const types = section(1, vec(funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec([])])))
  const limits = [memory.shared ? 0x03 : 0x01, ...u32(memory.min), ...u32(memory.max)]
  const imports = section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]]))
  const functions = section(3, vec(funcs.map((_, i) => u32(i))))
  const exports = section(7, vec(funcs.map((f, i) => [...name(f.name), 0x00, ...u32(i)])))
  const code = section(
    10,
    vec(
      funcs.map((f) => {
        // locals as runs of one type: (count, type)
        const runs: number[][] = []
        for (const t of f.locals) {
          const last = runs.at(-1)
          if (last !== undefined && last[1] === t) last[0]!++
          else runs.push([1, t])
        }
        const body = [...vec(runs.map(([n, t]) => [...u32(n!), t!])), ...f.body, 0x0b]
        return [...u32(body.length), ...body]
      }),
    ),
  )
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...types,
    ...imports,
    ...functions,
    ...exports,
    ...code,
  ])
}

/**
 * Names for the locals of a function: parameters first, then extra locals, each with its
 * type; `ix.x` is the index of local `x`, `g('x')` reads it and `s('x', v)` writes it.
 */
export const frame = <P extends string, L extends string>(
  params: readonly (readonly [P, ValType])[],
  locals: readonly (readonly [L, ValType])[],
): {
  ix: Record<P | L, number>
  params: ValType[]
  locals: ValType[]
  g: (n: string) => Code
  s: (n: string, v: Code) => Code
} => {
  const ix = {} as Record<P | L, number>
  ;[...params, ...locals].forEach(([n], i) => {
    ix[n] = i
  })
  const at = ix as Record<string, number>
  return {
    ix,
    params: params.map(([, t]) => t),
    locals: locals.map(([, t]) => t),
    g: (n) => get(at[n]!),
    s: (n, v) => set(at[n]!, v),
  }
}
