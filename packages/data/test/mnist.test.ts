import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { DataError } from '../src/errors.js'
import type { FashionMnistFile } from '../src/fashionMnist.js'
import { encodeIdx } from '../src/idx.js'
import { loadMnist } from '../src/mnist.js'

const root = mkdtempSync(join(tmpdir(), 'purenn-mnist-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const fresh = (): string => {
  const d = join(root, `d${n++}`)
  mkdirSync(d, { recursive: true })
  return d
}

// Small files in the official format: IDX, gzip-compressed, as published.
const images = (count: number) =>
  encodeIdx({
    type: 'uint8',
    shape: [count, 28, 28],
    data: new Uint8Array(count * 784).map((_, i) => (i * 3) % 256),
  })
const labels = (count: number) =>
  encodeIdx({ type: 'uint8', shape: [count], data: new Uint8Array(count).map((_, i) => (i * 7) % 10) })
const gz: Record<FashionMnistFile, Uint8Array> = {
  'train-images-idx3-ubyte': new Uint8Array(gzipSync(images(5))),
  'train-labels-idx1-ubyte': new Uint8Array(gzipSync(labels(5))),
  't10k-images-idx3-ubyte': new Uint8Array(gzipSync(images(2))),
  't10k-labels-idx1-ubyte': new Uint8Array(gzipSync(labels(2))),
}
const expectedSha256 = Object.fromEntries(
  Object.entries(gz).map(([f, b]) => [f, createHash('sha256').update(b).digest('hex')]),
) as Record<FashionMnistFile, string>
const writeAll = (dir: string) => {
  mkdirSync(dir, { recursive: true })
  for (const [f, b] of Object.entries(gz)) writeFileSync(join(dir, `${f}.gz`), b)
}
const noNet = (() => Promise.reject(new Error('no network in tests'))) as unknown as typeof fetch

describe('loadMnist', () => {
  it('reads the four official .gz files of a directory: pixels / 255, digit labels', async () => {
    const dir = fresh()
    writeAll(dir)
    const m = await loadMnist({ dir, expectedSha256, env: {}, fetch: noNet })
    expect(m.train.images.shape).toEqual([5, 28, 28])
    expect(m.test.labels.shape).toEqual([2])
    expect(m.train.images.data[1]).toBeCloseTo(3 / 255, 7)
    expect(m.train.images.data[100]).toBeCloseTo((300 % 256) / 255, 7)
    expect(Array.from(m.train.labels.data)).toEqual([0, 7, 4, 1, 8])
    expect(m.classNames[9]).toBe('9')
  })

  it('looks at PURENN_DATA (its mnist subdirectory), then the cache', async () => {
    const data = fresh()
    writeAll(join(data, 'mnist'))
    const viaEnv = await loadMnist({
      expectedSha256,
      env: { PURENN_DATA: data },
      cacheDir: fresh(),
      fetch: noNet,
    })
    expect(viaEnv.train.images.shape[0]).toBe(5)
    const cacheDir = fresh()
    writeAll(cacheDir)
    const viaCache = await loadMnist({ expectedSha256, env: {}, cacheDir, fetch: noNet })
    expect(viaCache.test.images.shape[0]).toBe(2)
  })

  it('downloads into the cache, verified, when no directory has the files', async () => {
    const cacheDir = join(fresh(), 'cache')
    const urls: string[] = []
    const fakeFetch = (async (url: string) => {
      urls.push(url)
      const f = url.split('/').at(-1)!.replace('.gz', '') as FashionMnistFile
      return new Response(gz[f])
    }) as unknown as typeof fetch
    const m = await loadMnist({
      expectedSha256,
      env: {},
      cacheDir,
      fetch: fakeFetch,
      baseUrl: 'https://example.test/mnist/',
    })
    expect(m.train.labels.shape).toEqual([5])
    expect(urls).toHaveLength(4)
    expect(urls[0]).toBe('https://example.test/mnist/train-images-idx3-ubyte.gz')
    expect(existsSync(join(cacheDir, 't10k-labels-idx1-ubyte.gz'))).toBe(true)
  })

  it('rejects a file whose SHA-256 differs, naming it, and missing files with download off', async () => {
    const dir = fresh()
    writeAll(dir)
    const wrong = { ...expectedSha256, 't10k-images-idx3-ubyte': '0'.repeat(64) }
    const err = await loadMnist({ dir, expectedSha256: wrong, env: {}, fetch: noNet }).catch((e) => e)
    expect(err).toBeInstanceOf(DataError)
    expect(err.message).toMatch(/t10k-images-idx3-ubyte\.gz: checksum mismatch/)
    await expect(loadMnist({ env: {}, cacheDir: fresh(), download: false })).rejects.toThrow(
      /downloading is off/,
    )
    await expect(loadMnist({ dir: fresh(), env: {} })).rejects.toThrow(/lacks the four \.gz files/)
  })

  it('refuses the real files under test checksums: the default checksums are the published ones', async () => {
    const dir = fresh()
    writeAll(dir)
    await expect(loadMnist({ dir, env: {} })).rejects.toThrow(
      /train-images-idx3-ubyte\.gz: checksum mismatch.*expected 440fcabf/,
    )
  })
})
