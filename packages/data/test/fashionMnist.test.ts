import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { DataError } from '../src/errors.js'
import {
  type FashionMnistFile,
  fashionMnistCacheDir,
  fashionMnistClassNames,
  fashionMnistFiles,
  type LoadFashionMnistOptions,
  loadFashionMnist,
} from '../src/fashionMnist.js'
import { encodeIdx } from '../src/idx.js'

const root = mkdtempSync(join(tmpdir(), 'purenn-fmnist-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let dirs = 0
const freshDir = (): string => {
  const d = join(root, `d${dirs++}`)
  mkdirSync(d, { recursive: true })
  return d
}

const TRAIN = 6
const TEST = 3

/**
 * The decompressed bytes of four small Fashion-MNIST-like files. `variant` is written into the
 * first pixel of every image, so a test can tell which directory the loader read.
 */
const makeRaw = (variant: number, trainCount = TRAIN): Record<FashionMnistFile, Uint8Array> => {
  const images = (n: number, salt: number) => {
    const data = new Uint8Array(n * 28 * 28).map((_, i) => (i * 7 + salt) % 256)
    for (let r = 0; r < n; r++) data[r * 784] = variant
    return encodeIdx({ type: 'uint8', shape: [n, 28, 28], data })
  }
  const labels = (n: number) =>
    encodeIdx({ type: 'uint8', shape: [n], data: new Uint8Array(n).map((_, i) => i % 10) })
  return {
    'train-images-idx3-ubyte': images(trainCount, 1),
    'train-labels-idx1-ubyte': labels(trainCount),
    't10k-images-idx3-ubyte': images(TEST, 2),
    't10k-labels-idx1-ubyte': labels(TEST),
  }
}
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const shaOf = (raw: Record<FashionMnistFile, Uint8Array>): Record<FashionMnistFile, string> =>
  Object.fromEntries(fashionMnistFiles.map((f) => [f, sha(raw[f])])) as Record<FashionMnistFile, string>
const gz = (b: Uint8Array): Uint8Array => new Uint8Array(gzipSync(b))

// Every variant's files have their own checksums; the loader is told all of them by mapping
// each file to the checksum of the variant the test expects it to read.
const raw1 = makeRaw(1)
const raw2 = makeRaw(2)
const raw3 = makeRaw(3)
const raw4 = makeRaw(4)

/** Writes the files of `raw` into `dir` (gzipped unless `plain`), all or only `only`. */
const writeFiles = (
  dir: string,
  raw: Record<FashionMnistFile, Uint8Array>,
  opts: { plain?: readonly FashionMnistFile[]; only?: readonly FashionMnistFile[] } = {},
): string => {
  mkdirSync(dir, { recursive: true })
  for (const f of opts.only ?? fashionMnistFiles) {
    if (opts.plain?.includes(f)) writeFileSync(join(dir, f), raw[f])
    else writeFileSync(join(dir, `${f}.gz`), gz(raw[f]))
  }
  return dir
}

/** A fetch that fails the test if it is ever called. */
const noFetch: typeof fetch = async (input) => {
  throw new Error(`unexpected download of ${String(input)}`)
}

/** Options isolated from the machine: empty environment, temp cache and system dirs, no network. */
const isolated = (extra: LoadFashionMnistOptions = {}): LoadFashionMnistOptions => ({
  env: {},
  cacheDir: join(freshDir(), 'cache'),
  systemDir: join(freshDir(), 'system'),
  fetch: noFetch,
  ...extra,
})

const firstPixel = (d: { train: { images: { data: ArrayLike<number> } } }): number =>
  Math.round(d.train.images.data[0]! * 255)

const rejection = async (p: Promise<unknown>): Promise<DataError> => {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(DataError)
    return e as DataError
  }
  throw new Error('expected the promise to reject')
}

describe('loadFashionMnist from a directory', () => {
  it('decodes images to [n,28,28] float32 in [0,1] and labels to float class indices', async () => {
    const dir = writeFiles(freshDir(), raw1)
    const d = await loadFashionMnist(isolated({ dir, expectedSha256: shaOf(raw1) }))
    expect(d.train.images.shape).toEqual([TRAIN, 28, 28])
    expect(d.test.images.shape).toEqual([TEST, 28, 28])
    expect(d.train.labels.shape).toEqual([TRAIN])
    expect(Array.from(d.train.labels.data)).toEqual([0, 1, 2, 3, 4, 5])
    expect(Array.from(d.test.labels.data)).toEqual([0, 1, 2])
    const bytes = raw1['train-images-idx3-ubyte'].subarray(16)
    expect(d.train.images.data[1]).toBe(Math.fround(bytes[1]! / 255))
    expect(Array.from(d.train.images.data).every((v, i) => v === Math.fround(bytes[i]! / 255))).toBe(true)
    expect(d.classNames).toEqual(fashionMnistClassNames)
    expect(d.classNames).toHaveLength(10)
  })

  it('accepts plain and gzipped files side by side', async () => {
    const dir = writeFiles(freshDir(), raw1, { plain: ['train-images-idx3-ubyte', 't10k-labels-idx1-ubyte'] })
    const d = await loadFashionMnist(isolated({ dir, expectedSha256: shaOf(raw1) }))
    expect(d.train.images.shape).toEqual([TRAIN, 28, 28])
  })

  it('accepts a directory whose fashion-mnist subdirectory holds the files', async () => {
    const dir = freshDir()
    writeFiles(join(dir, 'fashion-mnist'), raw1)
    const d = await loadFashionMnist(isolated({ dir, expectedSha256: shaOf(raw1) }))
    expect(firstPixel(d)).toBe(1)
  })

  it('verifies the official checksums by default', async () => {
    const dir = writeFiles(freshDir(), raw1)
    const e = await rejection(loadFashionMnist(isolated({ dir })))
    expect(e.message).toContain(
      `${join(dir, 'train-images-idx3-ubyte.gz')}: checksum mismatch: the SHA-256 of the decompressed bytes is ${sha(raw1['train-images-idx3-ubyte'])}, expected c59f468a`,
    )
  })

  it('rejects a file with the wrong checksum, naming it and the ways to provide the data', async () => {
    const dir = writeFiles(freshDir(), raw1)
    const changed = raw1['t10k-labels-idx1-ubyte'].slice()
    changed[8] = 9 // still a valid IDX file, with one label changed
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gz(changed))
    const e = await rejection(loadFashionMnist(isolated({ dir, expectedSha256: shaOf(raw1) })))
    expect(e.message).toMatch(/^Fashion-MNIST: .*t10k-labels-idx1-ubyte\.gz: checksum mismatch/)
    expect(e.message).toContain("loadFashionMnist({ dir: '/path/to/fashion-mnist' })")
    expect(e.message).toContain('PURENN_DATA')
    expect(e.message).toContain('apt-get install dataset-fashion-mnist')
  })

  it('says a truncated file is truncated', async () => {
    const dir = writeFiles(freshDir(), raw1)
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gz(raw1['t10k-labels-idx1-ubyte'].subarray(0, 10)))
    const e = await rejection(loadFashionMnist(isolated({ dir, expectedSha256: shaOf(raw1) })))
    expect(e.message).toContain(
      `${join(dir, 't10k-labels-idx1-ubyte.gz')}: truncated: header says 3 uint8 items (11 bytes) but the file has 10 bytes`,
    )
  })

  it('rejects a file that is not IDX, and a file cut inside its gzip stream', async () => {
    const dir = writeFiles(freshDir(), raw1)
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gz(new TextEncoder().encode('<html>404</html>')))
    const e = await rejection(loadFashionMnist(isolated({ dir, expectedSha256: shaOf(raw1) })))
    expect(e.message).toContain(
      'train-labels-idx1-ubyte.gz: not an IDX file: wrong magic number 0x3c 0x68 0x74 0x6d',
    )
    const cut = gz(raw1['train-images-idx3-ubyte'])
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gz(raw1['train-labels-idx1-ubyte']))
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), cut.subarray(0, cut.length - 20))
    const e2 = await rejection(loadFashionMnist(isolated({ dir, expectedSha256: shaOf(raw1) })))
    expect(e2.message).toContain('train-images-idx3-ubyte.gz: corrupt or truncated gzip data')
  })

  it('rejects images and labels of different lengths, and labels that are not class indices', async () => {
    const odd = { ...raw1, 'train-labels-idx1-ubyte': makeRaw(1, 5)['train-labels-idx1-ubyte'] }
    const dir = writeFiles(freshDir(), odd)
    const e = await rejection(loadFashionMnist(isolated({ dir, expectedSha256: shaOf(odd) })))
    expect(e.message).toContain('train-images-idx3-ubyte.gz has 6 images but')
    expect(e.message).toContain('train-labels-idx1-ubyte.gz has 5 labels')
    const bad = {
      ...raw1,
      't10k-labels-idx1-ubyte': encodeIdx({ type: 'uint8', shape: [3], data: new Uint8Array([0, 10, 1]) }),
    }
    const dir2 = writeFiles(freshDir(), bad)
    const e2 = await rejection(loadFashionMnist(isolated({ dir: dir2, expectedSha256: shaOf(bad) })))
    expect(e2.message).toContain(
      't10k-labels-idx1-ubyte.gz: label 10 at index 1 is not a class index below 10',
    )
  })

  it('never returns partial data: a named directory lacking a file is an error naming it', async () => {
    const dir = writeFiles(freshDir(), raw1, { only: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'] })
    const cacheDir = writeFiles(freshDir(), raw2)
    const e = await rejection(loadFashionMnist(isolated({ dir, cacheDir, expectedSha256: shaOf(raw2) })))
    expect(e.message).toContain(`the dir option names ${dir}, but ${dir} lacks t10k-images-idx3-ubyte(.gz)`)
    expect(e.message).toContain('t10k-labels-idx1-ubyte(.gz)')
    expect(e.message).not.toContain('train-images-idx3-ubyte(.gz)')
    expect(e.message).toContain(cacheDir)
  })

  it('rejects invalid options with the option named', async () => {
    const bad = { download: 'yes' } as unknown as LoadFashionMnistOptions
    const e = await rejection(loadFashionMnist(bad))
    expect(e.message).toBe('loadFashionMnist: invalid options: option download: expected boolean, got "yes"')
    const e2 = await rejection(loadFashionMnist({ expectedSha256: { 't10k-labels-idx1-ubyte': 'abc' } }))
    expect(e2.message).toContain(
      'option expectedSha256.t10k-labels-idx1-ubyte: expected Sha256Hex, got "abc"',
    )
  })
})

describe('loadFashionMnist lookup order', () => {
  // Four complete sources, each with its own variant; checksums tell the loader which to accept.
  const dir = writeFiles(freshDir(), raw1)
  const envDir = writeFiles(freshDir(), raw2)
  const cacheDir = writeFiles(freshDir(), raw3)
  const systemDir = writeFiles(freshDir(), raw4)
  const load = (raw: Record<FashionMnistFile, Uint8Array>, opts: LoadFashionMnistOptions) =>
    loadFashionMnist({ fetch: noFetch, download: false, expectedSha256: shaOf(raw), ...opts })

  it('explicit dir beats PURENN_DATA', async () => {
    expect(firstPixel(await load(raw1, { dir, env: { PURENN_DATA: envDir }, cacheDir, systemDir }))).toBe(1)
  })

  it('PURENN_DATA beats the cache', async () => {
    expect(firstPixel(await load(raw2, { env: { PURENN_DATA: envDir }, cacheDir, systemDir }))).toBe(2)
  })

  it('the cache beats the system directory', async () => {
    expect(firstPixel(await load(raw3, { env: {}, cacheDir, systemDir }))).toBe(3)
  })

  it('the system directory is used when the cache is empty or incomplete', async () => {
    const partial = writeFiles(freshDir(), raw3, { only: ['train-images-idx3-ubyte'] })
    expect(firstPixel(await load(raw4, { env: {}, cacheDir: join(root, 'none'), systemDir }))).toBe(4)
    expect(firstPixel(await load(raw4, { env: {}, cacheDir: partial, systemDir }))).toBe(4)
  })

  it('finds the default cache through XDG_CACHE_HOME or HOME', async () => {
    expect(fashionMnistCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' })).toBe(
      '/x/cache/purenn/fashion-mnist',
    )
    expect(fashionMnistCacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/purenn/fashion-mnist')
    expect(fashionMnistCacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' })).toBe(
      '/home/u/.cache/purenn/fashion-mnist',
    )
    const xdg = freshDir()
    writeFiles(join(xdg, 'purenn', 'fashion-mnist'), raw3)
    expect(firstPixel(await load(raw3, { env: { XDG_CACHE_HOME: xdg }, systemDir }))).toBe(3)
    const home = freshDir()
    writeFiles(join(home, '.cache', 'purenn', 'fashion-mnist'), raw3)
    expect(firstPixel(await load(raw3, { env: { HOME: home }, systemDir }))).toBe(3)
  })

  it('an empty PURENN_DATA is ignored; a PURENN_DATA lacking the files is an error', async () => {
    expect(firstPixel(await load(raw3, { env: { PURENN_DATA: '' }, cacheDir, systemDir }))).toBe(3)
    const empty = freshDir()
    const e = await rejection(load(raw3, { env: { PURENN_DATA: empty }, cacheDir, systemDir }))
    expect(e.message).toContain(`PURENN_DATA names ${empty}, but ${empty} lacks train-images-idx3-ubyte(.gz)`)
  })

  it('with nothing found and download: false, says where it looked and how to provide the data', async () => {
    const cache = join(root, 'nothing-cache')
    const e = await rejection(
      load(raw1, { env: {}, cacheDir: cache, systemDir: join(root, 'nothing-system') }),
    )
    expect(e.message).toContain(
      `Fashion-MNIST: not found in ${cache} nor ${join(root, 'nothing-system')}, and downloading is off (download: false)`,
    )
    expect(e.message).toContain(`put them in the cache directory ${cache}`)
    expect(e.message).toContain('apt-get install dataset-fashion-mnist')
  })
})

describe('loadFashionMnist download', () => {
  const baseUrl = 'https://mirror.example/fmnist/'
  /** A fake server for the files of `raw`, recording the URLs asked for. */
  const server = (raw: Record<FashionMnistFile, Uint8Array>, status = 200) => {
    const urls: string[] = []
    const fetchFn: typeof fetch = async (input) => {
      const url = String(input)
      urls.push(url)
      const f = fashionMnistFiles.find((name) => url === `${baseUrl}${name}.gz`)
      if (f === undefined || status !== 200)
        return new Response('not here', { status: 404, statusText: 'Not Found' })
      return new Response(gz(raw[f]))
    }
    return { urls, fetchFn }
  }

  it('downloads the four files into the cache atomically, verifies them, and uses the cache next time', async () => {
    const cacheDir = join(freshDir(), 'new', 'cache')
    const { urls, fetchFn } = server(raw1)
    const opts = isolated({ cacheDir, baseUrl, fetch: fetchFn, expectedSha256: shaOf(raw1) })
    const d = await loadFashionMnist(opts)
    expect(firstPixel(d)).toBe(1)
    expect(urls).toEqual(fashionMnistFiles.map((f) => `${baseUrl}${f}.gz`))
    expect(readdirSync(cacheDir).sort()).toEqual(fashionMnistFiles.map((f) => `${f}.gz`).sort())
    const again = await loadFashionMnist({ ...opts, fetch: noFetch })
    expect(firstPixel(again)).toBe(1)
  })

  it('downloads only the files missing from the cache', async () => {
    const cacheDir = writeFiles(freshDir(), raw1, {
      only: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
    })
    const { urls, fetchFn } = server(raw1)
    await loadFashionMnist(isolated({ cacheDir, baseUrl, fetch: fetchFn, expectedSha256: shaOf(raw1) }))
    expect(urls).toEqual([`${baseUrl}t10k-images-idx3-ubyte.gz`, `${baseUrl}t10k-labels-idx1-ubyte.gz`])
  })

  // Node's recursive mkdir never returns under /proc; the cache folder is made one level at a
  // time, so this fails at once (packages/tensor/test/folders.test.ts checks the no-hang part
  // in a child process with a time limit).
  it.skipIf(!existsSync('/proc/self'))(
    'fails at once, naming the folder, when the cache cannot be made',
    async () => {
      const cacheDir = '/proc/purenn-no/fashion-mnist'
      const { fetchFn } = server(raw1)
      const e = await rejection(
        loadFashionMnist(isolated({ cacheDir, baseUrl, fetch: fetchFn, expectedSha256: shaOf(raw1) })),
      )
      expect(e.message).toContain(
        `cannot create the folder ${cacheDir}: creating /proc/purenn-no failed: ENOENT`,
      )
    },
  )

  it('reports an HTTP failure with the URL and the ways to provide the data, and writes nothing', async () => {
    const cacheDir = join(freshDir(), 'cache')
    const { fetchFn } = server(raw1, 404)
    const e = await rejection(
      loadFashionMnist(isolated({ cacheDir, baseUrl, fetch: fetchFn, expectedSha256: shaOf(raw1) })),
    )
    expect(e.message).toContain(
      `and could not download ${baseUrl}train-images-idx3-ubyte.gz: HTTP 404 Not Found`,
    )
    expect(e.message).toContain('PURENN_DATA')
    expect(e.message).toContain('apt-get install dataset-fashion-mnist')
    expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).toEqual([])
  })

  it('reports a network failure with its cause', async () => {
    const failing: typeof fetch = async () => {
      throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND mirror.example') })
    }
    const e = await rejection(loadFashionMnist(isolated({ baseUrl, fetch: failing })))
    expect(e.message).toContain(
      `could not download ${baseUrl}train-images-idx3-ubyte.gz: fetch failed: getaddrinfo ENOTFOUND mirror.example`,
    )
  })

  it('rejects a download with the wrong checksum and keeps it out of the cache', async () => {
    const cacheDir = join(freshDir(), 'cache')
    const { fetchFn } = server(raw2)
    const e = await rejection(
      loadFashionMnist(isolated({ cacheDir, baseUrl, fetch: fetchFn, expectedSha256: shaOf(raw1) })),
    )
    expect(e.message).toContain(`downloaded ${baseUrl}train-images-idx3-ubyte.gz: checksum mismatch`)
    expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).toEqual([])
  })
})

// The real files: in this project at ../shared/data/fashion-mnist, or where Debian's
// dataset-fashion-mnist package installs them.
const realDir = [
  fileURLToPath(new URL('../../../../shared/data/fashion-mnist/', import.meta.url)),
  '/usr/share/datasets/fashion-mnist',
].find((d) => fashionMnistFiles.every((f) => existsSync(join(d, `${f}.gz`)) || existsSync(join(d, f))))
if (realDir === undefined)
  console.warn(
    'fashionMnist.test.ts: the real Fashion-MNIST files are not on this machine; skipping the integration test',
  )

describe('loadFashionMnist on the real files', () => {
  it.skipIf(realDir === undefined)(
    'loads 60,000 + 10,000 images, 6,000 / 1,000 per class, pixels in [0,1]',
    async () => {
      const d = await loadFashionMnist({ dir: realDir!, env: {}, fetch: noFetch, download: false })
      expect(d.train.images.shape).toEqual([60000, 28, 28])
      expect(d.train.labels.shape).toEqual([60000])
      expect(d.test.images.shape).toEqual([10000, 28, 28])
      expect(d.test.labels.shape).toEqual([10000])
      const counts = (labels: ArrayLike<number>) => {
        const c = new Array(10).fill(0)
        for (let i = 0; i < labels.length; i++) c[labels[i]!]++
        return c
      }
      expect(counts(d.train.labels.data)).toEqual(new Array(10).fill(6000))
      expect(counts(d.test.labels.data)).toEqual(new Array(10).fill(1000))
      let lo = Infinity
      let hi = -Infinity
      for (const v of d.train.images.data) {
        if (v < lo) lo = v
        if (v > hi) hi = v
      }
      expect([lo, hi]).toEqual([0, 1])
      expect(d.classNames[d.train.labels.data[0]!]).toBe('Ankle boot')
    },
  )
})
