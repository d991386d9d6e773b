import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sha256Hex, sha256HexAsync } from '../src/internal/bytes.js'

describe('sha256HexAsync (WebCrypto)', () => {
  it('gives the FIPS 180-2 value of "abc"', async () => {
    expect(await sha256HexAsync(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
  })

  it("agrees with Node's createHash and with sha256Hex on any bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const ref = createHash('sha256').update(bytes).digest('hex')
        expect(await sha256HexAsync(bytes)).toBe(ref)
        expect(sha256Hex(bytes)).toBe(ref)
      }),
      { seed: 7, numRuns: 30 },
    )
  })
})
