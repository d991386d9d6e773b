import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadCifar10 } from '../src/cifar10.js'
import { DataError } from '../src/errors.js'

const root = mkdtempSync(join(tmpdir(), 'purenn-cifar-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const fresh = (): string => {
  const d = join(root, `d${n++}`)
  mkdirSync(d, { recursive: true })
  return d
}

/** A record of the binary version: label byte, then R, G, B planes of 1024 bytes each. */
const record = (label: number, salt: number): Uint8Array => {
  const r = new Uint8Array(3073)
  r[0] = label
  for (let i = 0; i < 3072; i++) r[1 + i] = (i * 5 + salt) % 256
  return r
}
const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Writes the official layout with the system's GNU tar and gzip: an archive made independently of the loader. */
const makeArchive = (batches: Record<string, Uint8Array>): Uint8Array => {
  const src = fresh()
  mkdirSync(join(src, 'cifar-10-batches-bin'))
  for (const [name, bytes] of Object.entries(batches))
    writeFileSync(join(src, 'cifar-10-batches-bin', name), bytes)
  writeFileSync(join(src, 'cifar-10-batches-bin', 'batches.meta.txt'), 'airplane\nautomobile\n')
  const out = join(src, 'cifar-10-binary.tar.gz')
  execFileSync('tar', ['-czf', out, '-C', src, 'cifar-10-batches-bin'])
  return readFileSync(out)
}
const official: Record<string, Uint8Array> = {
  'data_batch_1.bin': concat([record(3, 0), record(9, 1)]),
  'data_batch_2.bin': record(1, 2),
  'data_batch_3.bin': record(0, 3),
  'data_batch_4.bin': record(4, 4),
  'data_batch_5.bin': record(5, 5),
  'test_batch.bin': concat([record(7, 6), record(2, 7)]),
}
const archive = makeArchive(official)
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe('loadCifar10', () => {
  it('decodes the binary version: label bytes, R/G/B planes to channels-last [n, 32, 32, 3] / 255', async () => {
    const dir = fresh()
    writeFileSync(join(dir, 'cifar-10-binary.tar.gz'), archive)
    const c = await loadCifar10({ dir, expectedSha256: sha(archive), env: {} })
    expect(c.train.images.shape).toEqual([6, 32, 32, 3])
    expect(Array.from(c.train.labels.data)).toEqual([3, 9, 1, 0, 4, 5])
    expect(Array.from(c.test.labels.data)).toEqual([7, 2])
    // image 1 (salt 1), row 2, column 5, green: byte 1 + 1024·1 + 32·2 + 5 of its record
    const i = 1024 + 32 * 2 + 5
    expect(c.train.images.data[1 * 3072 + (2 * 32 + 5) * 3 + 1]).toBeCloseTo(((i * 5 + 1) % 256) / 255, 7)
    expect(c.classNames[3]).toBe('cat')
  })

  it('looks at PURENN_DATA/cifar-10, then downloads into the cache once', async () => {
    const data = fresh()
    mkdirSync(join(data, 'cifar-10'))
    writeFileSync(join(data, 'cifar-10', 'cifar-10-binary.tar.gz'), archive)
    const viaEnv = await loadCifar10({ expectedSha256: sha(archive), env: { PURENN_DATA: data } })
    expect(viaEnv.test.images.shape[0]).toBe(2)
    const cacheDir = join(fresh(), 'cache')
    let calls = 0
    const fakeFetch = (async () => {
      calls++
      return new Response(archive)
    }) as unknown as typeof fetch
    await loadCifar10({ expectedSha256: sha(archive), env: {}, cacheDir, fetch: fakeFetch })
    expect(existsSync(join(cacheDir, 'cifar-10-binary.tar.gz'))).toBe(true)
    await loadCifar10({ expectedSha256: sha(archive), env: {}, cacheDir, fetch: fakeFetch })
    expect(calls).toBe(1)
  })

  it('rejects a wrong checksum, a missing batch, a truncated batch, and the test archive under the real checksum', async () => {
    const dir = fresh()
    writeFileSync(join(dir, 'cifar-10-binary.tar.gz'), archive)
    const err = await loadCifar10({ dir, env: {} }).catch((e) => e)
    expect(err).toBeInstanceOf(DataError)
    expect(err.message).toMatch(/checksum mismatch.*expected c4a38c50/)
    const { 'data_batch_4.bin': _, ...without4 } = official
    const missing = makeArchive(without4)
    const d2 = fresh()
    writeFileSync(join(d2, 'cifar-10-binary.tar.gz'), missing)
    await expect(loadCifar10({ dir: d2, expectedSha256: sha(missing), env: {} })).rejects.toThrow(
      /lacks cifar-10-batches-bin\/data_batch_4\.bin/,
    )
    const truncated = makeArchive({ ...official, 'test_batch.bin': record(1, 0).subarray(0, 3000) })
    const d3 = fresh()
    writeFileSync(join(d3, 'cifar-10-binary.tar.gz'), truncated)
    await expect(loadCifar10({ dir: d3, expectedSha256: sha(truncated), env: {} })).rejects.toThrow(
      /test_batch\.bin: 3000 bytes, not a whole number of 3073-byte records/,
    )
    await expect(loadCifar10({ env: {}, cacheDir: fresh(), download: false })).rejects.toThrow(
      /downloading is off/,
    )
  })
})
