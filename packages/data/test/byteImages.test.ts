import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ShapeError } from '@purenn/tensor'
import { afterAll, describe, expect, it } from 'vitest'
import { byteImages } from '../src/byteImages.js'
import { loadFashionMnist, loadFashionMnistBytes } from '../src/fashionMnist.js'
import { encodeIdx } from '../src/idx.js'

/** Deterministic bytes covering 0..255 (a linear congruential sequence). */
const bytesOf = (n: number, seed: number): Uint8Array => {
  let s = seed >>> 0
  return Uint8Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s >>> 24
  })
}
/** The reference: each byte divided by 255 in double precision, rounded once to float32. */
const scaled = (b: ArrayLike<number>): number[] => Array.from(b, (v) => Math.fround(v / 255))

describe('byteImages', () => {
  const bytes = bytesOf(5 * 3 * 2, 7)
  const images = byteImages(bytes, [5, 3, 2])

  it('makes float32 rows as byte / 255 rounded once, for ranges and gathered indices', () => {
    const r = images.rows(1, 3)
    expect(r.shape).toEqual([3, 3, 2])
    expect(Array.from(r.data)).toEqual(scaled(bytes.subarray(6, 24)))
    const g = images.gather(Int32Array.from([4, 0, 4]))
    expect(g.shape).toEqual([3, 3, 2])
    expect(Array.from(g.data)).toEqual([
      ...scaled(bytes.subarray(24, 30)),
      ...scaled(bytes.subarray(0, 6)),
      ...scaled(bytes.subarray(24, 30)),
    ])
    // every byte value maps as the float loader maps it
    const all = byteImages(
      Uint8Array.from({ length: 256 }, (_, i) => i),
      [256],
    )
    expect(Array.from(all.rows(0, 256).data)).toEqual(scaled(Array.from({ length: 256 }, (_, i) => i)))
  })

  it('slices without copying and keeps the divisor', () => {
    const s = byteImages(bytes, [5, 6], 2).slice(2, 2)
    expect(s.shape).toEqual([2, 6])
    expect(s.bytes.buffer).toBe(bytes.buffer)
    expect(Array.from(s.rows(1, 1).data)).toEqual(Array.from(bytes.subarray(18, 24), (v) => v / 2))
  })

  it('rejects a shape that does not match, a bad divisor, rows or indices out of range', () => {
    expect(() => byteImages(bytes, [4, 3, 2])).toThrow(/needs 24 bytes, got 30/)
    expect(() => byteImages(bytes, [5, 3, 2], 0)).toThrow(ShapeError)
    expect(() => images.rows(4, 2)).toThrow(/rows \[4, 6\) are not within the 5 rows/)
    expect(() => images.slice(-1, 1)).toThrow(ShapeError)
    expect(() => images.gather([0, 5])).toThrow(/index 5 at position 1 is not a row below 5/)
  })
})

describe('loadFashionMnistBytes', () => {
  const root = mkdtempSync(join(tmpdir(), 'purenn-fmnist-bytes-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('keeps the bytes of the files and gives the float loader values bit for bit', async () => {
    const n = { train: 4, test: 2 }
    const pixels = { train: bytesOf(n.train * 784, 1), test: bytesOf(n.test * 784, 2) }
    const files = {
      'train-images-idx3-ubyte': encodeIdx({ type: 'uint8', shape: [n.train, 28, 28], data: pixels.train }),
      'train-labels-idx1-ubyte': encodeIdx({
        type: 'uint8',
        shape: [n.train],
        data: Uint8Array.from([3, 1, 4, 1]),
      }),
      't10k-images-idx3-ubyte': encodeIdx({ type: 'uint8', shape: [n.test, 28, 28], data: pixels.test }),
      't10k-labels-idx1-ubyte': encodeIdx({ type: 'uint8', shape: [n.test], data: Uint8Array.from([5, 9]) }),
    }
    mkdirSync(root, { recursive: true })
    for (const [f, b] of Object.entries(files)) writeFileSync(join(root, f), b)
    const { createHash } = await import('node:crypto')
    const expectedSha256 = Object.fromEntries(
      Object.entries(files).map(([f, b]) => [f, createHash('sha256').update(b).digest('hex')]),
    )
    const opts = { dir: root, env: {}, download: false, expectedSha256 }
    const b = await loadFashionMnistBytes(opts)
    const f = await loadFashionMnist(opts)
    expect(b.train.images.shape).toEqual([4, 28, 28])
    expect(b.train.images.bytes).toEqual(pixels.train)
    expect(Array.from(b.train.labels.data)).toEqual([3, 1, 4, 1])
    expect(Array.from(b.test.images.rows(0, 2).data)).toEqual(Array.from(f.test.images.data))
    expect(Array.from(b.train.images.rows(0, 4).data)).toEqual(scaled(pixels.train))
  })
})
