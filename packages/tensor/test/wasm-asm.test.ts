import { describe, expect, it } from 'vitest'
import { wasmApi } from '../src/internal/wasm/api.js'
import {
  add,
  f32,
  f32Add,
  f32c,
  f32Load,
  f32Store,
  f32x4Add,
  f32x4ExtractLane,
  f32x4Mul,
  f32x4Splat,
  frame,
  get,
  i32,
  i32c,
  if_,
  ltS,
  module,
  s32,
  seq,
  set,
  shuffle32,
  u32,
  v128,
  v128Load,
  v128Load32Splat,
  v128Store,
  while_,
} from '../src/internal/wasm/asm.js'

const WebAssembly = wasmApi()!

/** Instantiates `bytes` on a fresh memory of one page; returns its exports and a float view. */
const instantiate = (bytes: Uint8Array, shared = false) => {
  const memory = new WebAssembly.Memory(
    shared ? { initial: 1, maximum: 2, shared } : { initial: 1, maximum: 2 },
  )
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
  return {
    ex: inst.exports as Record<string, (...args: number[]) => void>,
    f: new Float32Array(memory.buffer),
  }
}

describe('LEB128', () => {
  it('encodes unsigned integers as in the spec and the DWARF examples', () => {
    expect(u32(0)).toEqual([0])
    expect(u32(127)).toEqual([0x7f])
    expect(u32(128)).toEqual([0x80, 0x01])
    expect(u32(624485)).toEqual([0xe5, 0x8e, 0x26])
    expect(u32(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f])
    expect(() => u32(-1)).toThrow(/not a u32/)
  })
  it('encodes signed integers with the sign in bit 6 of the last byte', () => {
    expect(s32(0)).toEqual([0])
    expect(s32(-1)).toEqual([0x7f])
    expect(s32(63)).toEqual([0x3f])
    expect(s32(64)).toEqual([0xc0, 0x00])
    expect(s32(-64)).toEqual([0x40])
    expect(s32(-65)).toEqual([0xbf, 0x7f])
    expect(s32(-123456)).toEqual([0xc0, 0xbb, 0x78])
    expect(s32(-0x80000000)).toEqual([0x80, 0x80, 0x80, 0x80, 0x78])
    expect(() => s32(2 ** 31)).toThrow(/not an i32/)
  })
})

describe('module', () => {
  it('writes the magic, the version and a valid empty function', () => {
    const bytes = module({ min: 1, max: 2, shared: false }, [
      { name: 'nop', params: [], locals: [], body: [] },
    ])
    expect(Array.from(bytes.slice(0, 8))).toEqual([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])
    expect(WebAssembly.validate(bytes)).toBe(true)
  })

  it('rejects a body that leaves a value on the stack (the validator sees our bytes)', () => {
    const bytes = module({ min: 1, max: 2, shared: false }, [
      { name: 'bad', params: [], locals: [], body: i32c(1) },
    ])
    expect(WebAssembly.validate(bytes)).toBe(false)
  })

  it('runs a SIMD loop: dst[i] = 2·src[i] + 1 over n floats, n a multiple of 4', () => {
    const f = frame(
      [
        ['src', i32],
        ['dst', i32],
        ['n', i32],
      ],
      [['i', i32]],
    )
    const { src, dst, n, i } = f.ix
    const body = while_(
      ltS(get(i), get(n)),
      v128Store(
        add(get(dst), seq(get(i), i32c(4), 0x6c)),
        f32x4Add(
          f32x4Mul(v128Load(add(get(src), seq(get(i), i32c(4), 0x6c))), f32x4Splat(f32c(2))),
          f32x4Splat(f32c(1)),
        ),
      ),
      set(i, add(get(i), i32c(4))),
    )
    const bytes = module({ min: 1, max: 2, shared: false }, [
      { name: 'axpy', params: f.params, locals: f.locals, body },
    ])
    expect(WebAssembly.validate(bytes)).toBe(true)
    const { ex, f: mem } = instantiate(bytes)
    mem.set([1, -2, 0.5, 3, 10, 0, -1, 7], 0)
    ex.axpy!(0, 64, 8)
    expect(Array.from(mem.slice(16, 24))).toEqual([3, -3, 2, 7, 21, 1, -1, 15])
  })

  it('runs scalar loads, an if and lane shuffles on a shared memory', () => {
    // out[0] = Σ src[0..n) for n > 0 (else out untouched); out[1..5) = src[0..4) reversed
    const f = frame(
      [
        ['src', i32],
        ['n', i32],
        ['out', i32],
      ],
      [
        ['k', i32],
        ['s', f32],
        ['v', v128],
      ],
    )
    const { src, n, out, k, s, v } = f.ix
    const body = seq(
      if_(
        ltS(i32c(0), get(n)),
        while_(
          ltS(get(k), get(n)),
          set(s, f32Add(get(s), f32Load(add(get(src), seq(get(k), i32c(4), 0x6c))))),
          set(k, add(get(k), i32c(1))),
        ),
        f32Store(get(out), get(s)),
      ),
      set(v, v128Load(get(src))),
      v128Store(get(out), shuffle32(get(v), get(v), [3, 2, 1, 0]), 4),
      f32Store(get(out), f32x4ExtractLane(v128Load32Splat(get(src), 8), 3), 20),
    )
    const bytes = module({ min: 1, max: 2, shared: true }, [
      { name: 'run', params: f.params, locals: f.locals, body },
    ])
    const { ex, f: mem } = instantiate(bytes, true)
    mem.set([1, 2, 3, 4, 5], 0)
    ex.run!(0, 5, 64)
    expect(Array.from(mem.slice(16, 22))).toEqual([15, 4, 3, 2, 1, 3])
    mem[16] = -1
    ex.run!(0, 0, 64)
    expect(mem[16]).toBe(-1)
  })

  it('rejects a shuffle with a lane index out of range', () => {
    expect(() => shuffle32([], [], [0, 1, 2, 8])).toThrow(/16 byte indices/)
  })
})
