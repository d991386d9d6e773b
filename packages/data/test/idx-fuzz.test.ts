import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeIdx, encodeIdx } from '../src/index.js'

// Damaged IDX files (random byte edits, truncations, gzip or not): every case is a Left whose
// message starts with the file's name, or a valid array whose data has exactly the size its
// shape says; never a thrown TypeError or RangeError, never more allocated than the file holds.

describe('decodeIdx on damaged files', () => {
  const valid = encodeIdx({
    type: 'float32',
    shape: [3, 4],
    data: Float32Array.from({ length: 12 }, (_, i) => i / 7),
  })
  const validGz = encodeIdx(
    { type: 'uint8', shape: [5, 2], data: Uint8Array.from({ length: 10 }, (_, i) => i) },
    { gzip: true },
  )

  it('every damaged file is a Left naming it, or a well-formed array', () => {
    const edit = fc.tuple(fc.nat({ max: 63 }), fc.integer({ min: 0, max: 255 }))
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 70 }),
        (gz, edits, cut) => {
          const bytes = Uint8Array.from(gz ? validGz : valid)
          for (const [at, v] of edits) if (at < bytes.length) bytes[at] = v
          const damaged = bytes.subarray(0, Math.min(bytes.length, cut === 70 ? bytes.length : cut))
          let r: ReturnType<typeof decodeIdx>
          try {
            r = decodeIdx(damaged, 'f.idx')
          } catch (e) {
            throw new Error(`decodeIdx threw ${(e as Error).name}: ${(e as Error).message}`)
          }
          if (r._tag === 'Left') expect(r.left.startsWith('f.idx: ')).toBe(true)
          else {
            expect(r.right.data.length).toBe(r.right.shape.reduce((a, b) => a * b, 1))
            expect(r.right.data.byteLength).toBeLessThanOrEqual(64 * 1024) // the payload the file held
          }
        },
      ),
      { numRuns: 500, seed: 12 },
    )
  })
})
