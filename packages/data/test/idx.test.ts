import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { DataError } from '../src/errors.js'
import { decodeIdx, decodeIdxAsync, encodeIdx, type IdxArray } from '../src/idx.js'
import { readIdxFile } from '../src/idxFile.js'

const left = (r: E.Either<string, IdxArray>): string => {
  if (E.isRight(r)) throw new Error(`expected a Left, got an array of shape [${r.right.shape.join(',')}]`)
  return r.left
}
const right = (r: E.Either<string, IdxArray>): IdxArray => {
  if (E.isLeft(r)) throw new Error(`expected a Right, got: ${r.left}`)
  return r.right
}
/** An IDX header (magic number and dimensions) followed by `payload` bytes. */
const rawIdx = (code: number, shape: readonly number[], payload: number): Uint8Array => {
  const out = new Uint8Array(4 + 4 * shape.length + payload)
  const view = new DataView(out.buffer)
  out[2] = code
  out[3] = shape.length
  shape.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d)
  })
  return out
}
const gz = (b: Uint8Array): Uint8Array => new Uint8Array(gzipSync(b))

const tmp = mkdtempSync(join(tmpdir(), 'purenn-idx-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 })
const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)
const arrayArb: fc.Arbitrary<IdxArray> = fc.oneof(
  ...(
    [
      ['uint8', fc.integer({ min: 0, max: 255 }), Uint8Array],
      ['int8', fc.integer({ min: -128, max: 127 }), Int8Array],
      ['int16', fc.integer({ min: -32768, max: 32767 }), Int16Array],
      ['int32', fc.integer(), Int32Array],
      ['float32', fc.float(), Float32Array],
      ['float64', fc.double(), Float64Array],
    ] as const
  ).map(([type, value, Ctor]) =>
    shapeArb.chain((shape) =>
      fc
        .array(value as fc.Arbitrary<number>, { minLength: sizeOf(shape), maxLength: sizeOf(shape) })
        .map((values) => ({ type, shape, data: Ctor.from(values) }) as IdxArray),
    ),
  ),
)

describe('encodeIdx', () => {
  it('writes the magic number, big-endian dimensions and the elements', () => {
    const bytes = encodeIdx({ type: 'uint8', shape: [2, 3], data: new Uint8Array([1, 2, 3, 4, 5, 6]) })
    expect(Array.from(bytes)).toEqual([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])
  })

  it('writes multi-byte elements big-endian with their type codes', () => {
    expect(Array.from(encodeIdx({ type: 'int16', shape: [1], data: new Int16Array([0x0102]) }))).toEqual([
      0, 0, 0x0b, 1, 0, 0, 0, 1, 1, 2,
    ])
    expect(
      Array.from(encodeIdx({ type: 'int32', shape: [1], data: new Int32Array([-2]) })).slice(2, 4),
    ).toEqual([0x0c, 1])
    expect(encodeIdx({ type: 'float32', shape: [1], data: new Float32Array([1]) }).slice(8)).toEqual(
      new Uint8Array([0x3f, 0x80, 0, 0]),
    )
    expect(encodeIdx({ type: 'float64', shape: [], data: new Float64Array([1]) })[2]).toBe(0x0e)
    expect(encodeIdx({ type: 'int8', shape: [], data: new Int8Array([-1]) })[2]).toBe(0x09)
  })

  it('gzips on request', () => {
    const bytes = encodeIdx({ type: 'uint8', shape: [1], data: new Uint8Array([9]) }, { gzip: true })
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b])
  })

  it('rejects data that does not match the shape or the type', () => {
    expect(() => encodeIdx({ type: 'uint8', shape: [2, 2], data: new Uint8Array(3) })).toThrow(
      'shape [2,2] holds 4 elements but data has 3',
    )
    const wrong = { type: 'int16', shape: [1], data: new Int32Array(1) } as unknown as IdxArray
    expect(() => encodeIdx(wrong)).toThrow('needs its data in a Int16Array, got Int32Array')
    expect(() => encodeIdx({ type: 'uint8', shape: [1.5], data: new Uint8Array(1) })).toThrow(RangeError)
    expect(() =>
      encodeIdx({ type: 'uint8', shape: new Array(256).fill(1), data: new Uint8Array(1) }),
    ).toThrow('at most 255 axes')
  })
})

describe('decodeIdx', () => {
  it('decode(encode(x)) ≡ x for every element type, plain and gzip', () => {
    fc.assert(
      fc.property(arrayArb, fc.boolean(), (a, gzip) => {
        const back = right(decodeIdx(encodeIdx(a, { gzip }), 'x'))
        expect(back.type).toBe(a.type)
        expect(back.shape).toEqual(a.shape)
        expect(back.data.constructor).toBe(a.data.constructor)
        expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(a.data as ArrayLike<number>))
      }),
      { seed: 42, numRuns: 50 },
    )
  })

  it('decodes a uint8 file into a Uint8Array that does not share memory with the input', () => {
    const bytes = encodeIdx({ type: 'uint8', shape: [2], data: new Uint8Array([3, 4]) })
    const a = right(decodeIdx(bytes, 'x'))
    bytes[8] = 99
    expect(a.type === 'uint8' && Array.from(a.data)).toEqual([3, 4])
  })

  it('says a truncated file is truncated, with the sizes the header promised and the file has', () => {
    const short = rawIdx(0x08, [10000], 10000).subarray(0, 5000)
    expect(left(decodeIdx(gz(short), 't10k-labels-idx1-ubyte.gz'))).toBe(
      't10k-labels-idx1-ubyte.gz: truncated: header says 10000 uint8 items (10008 bytes) but the file has 5000 bytes',
    )
    expect(left(decodeIdx(rawIdx(0x08, [3, 2, 2], 11), 'imgs'))).toBe(
      'imgs: truncated: header says 3x2x2 uint8 items (28 bytes) but the file has 27 bytes',
    )
  })

  it('says when the header itself is cut short', () => {
    expect(left(decodeIdx(new Uint8Array([0, 0, 8]), 'f'))).toBe(
      'f: truncated: the file has 3 bytes, fewer than the 4 of an IDX magic number',
    )
    expect(left(decodeIdx(rawIdx(0x08, [1, 2, 3], 0).subarray(0, 10), 'f'))).toBe(
      'f: truncated: the header declares 3 dimensions (16 header bytes) but the file has 10 bytes',
    )
  })

  it('rejects trailing bytes', () => {
    expect(left(decodeIdx(rawIdx(0x08, [2], 3), 'f'))).toBe(
      'f: 1 trailing bytes: header says 2 uint8 items (10 bytes) but the file has 11 bytes',
    )
  })

  it('rejects a wrong magic number', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    expect(left(decodeIdx(png, 'cat.png'))).toBe(
      'cat.png: not an IDX file: wrong magic number 0x89 0x50 0x4e 0x47 ' +
        '(an IDX file starts with 0x00 0x00, a type byte and the number of dimensions)',
    )
  })

  it('rejects an unknown element type', () => {
    expect(left(decodeIdx(rawIdx(0x0a, [1], 1), 'f'))).toMatch(
      /^f: unsupported IDX element type 0x0a \(supported: 0x08 uint8/,
    )
  })

  it('rejects corrupt or truncated gzip data', () => {
    const bytes = encodeIdx(
      { type: 'uint8', shape: [1000], data: new Uint8Array(1000).fill(7) },
      { gzip: true },
    )
    expect(left(decodeIdx(bytes.subarray(0, bytes.length - 10), 'a.gz'))).toMatch(
      /^a\.gz: corrupt or truncated gzip data \(/,
    )
  })

  it('decodes a scalar and arrays with zero-length axes', () => {
    const scalar = right(decodeIdx(rawIdx(0x08, [], 1), 'f'))
    expect([scalar.type, scalar.shape, scalar.data.length]).toEqual(['uint8', [], 1])
    expect(right(decodeIdx(rawIdx(0x0d, [0, 5], 0), 'f')).shape).toEqual([0, 5])
  })
})

describe('decodeIdxAsync (DecompressionStream)', () => {
  it('agrees with decodeIdx (Node zlib) on every element type, plain and gzip', async () => {
    await fc.assert(
      fc.asyncProperty(arrayArb, fc.boolean(), async (a, gzip) => {
        const bytes = encodeIdx(a, { gzip })
        const back = right(await decodeIdxAsync(bytes, 'x'))
        const ref = right(decodeIdx(bytes, 'x'))
        expect(back.shape).toEqual(ref.shape)
        expect(back.data.constructor).toBe(a.data.constructor)
        expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(a.data as ArrayLike<number>))
      }),
      { seed: 42, numRuns: 20 },
    )
  })

  it('rejects corrupt or truncated gzip data with the file named', async () => {
    const bytes = encodeIdx({ type: 'uint8', shape: [3], data: new Uint8Array([7, 2, 1]) }, { gzip: true })
    expect(left(await decodeIdxAsync(bytes.subarray(0, 10), 'labels.gz'))).toMatch(
      /^labels\.gz: corrupt or truncated gzip data/,
    )
  })
})

describe('readIdxFile', () => {
  it('reads plain and gzip files', () => {
    const a: IdxArray = { type: 'uint8', shape: [2, 1], data: new Uint8Array([5, 6]) }
    writeFileSync(join(tmp, 'a-idx2-ubyte'), encodeIdx(a))
    writeFileSync(join(tmp, 'a-idx2-ubyte.gz'), encodeIdx(a, { gzip: true }))
    expect(readIdxFile(join(tmp, 'a-idx2-ubyte'))).toEqual(a)
    expect(readIdxFile(join(tmp, 'a-idx2-ubyte.gz'))).toEqual(a)
  })

  it('throws a DataError naming the file and what is wrong', () => {
    const path = join(tmp, 'short-idx1-ubyte.gz')
    writeFileSync(path, gz(rawIdx(0x08, [10], 10).subarray(0, 12)))
    expect(() => readIdxFile(path)).toThrow(DataError)
    expect(() => readIdxFile(path)).toThrow(
      `${path}: truncated: header says 10 uint8 items (18 bytes) but the file has 12 bytes`,
    )
    expect(() => readIdxFile(join(tmp, 'missing'))).toThrow(
      `${join(tmp, 'missing')}: cannot read the file (ENOENT`,
    )
  })
})
