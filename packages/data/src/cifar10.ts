import { randomUUID } from 'node:crypto'
import { renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { tensor } from '@purenn/tensor'
import { makeFoldersSync, readRegularFileSync } from '@purenn/tensor/internal'
import * as E from 'fp-ts/lib/Either.js'
import { parseTar } from 'nanotar'
import { DataError } from './errors.js'
import type { ImagesAndLabels } from './fashionMnist.js'
import { gunzipIfNeeded, sha256Hex } from './internal/bytes.js'
import { downloadBounded } from './internal/download.js'

/**
 * The file of the CIFAR-10 binary version as published: `cifar-10-binary.tar.gz`.
 *
 * @example
 * ```ts
 * import { cifar10File } from '@purenn/data'
 * console.log(cifar10File) // cifar-10-binary.tar.gz
 * ```
 * @category CIFAR-10
 */
export const cifar10File = 'cifar-10-binary.tar.gz'

/**
 * The SHA-256 of `cifar-10-binary.tar.gz` as published (the value TensorFlow Datasets pins in
 * `url_checksums/cifar10.txt`).
 *
 * @example
 * ```ts
 * import { cifar10Sha256 } from '@purenn/data'
 * console.log(cifar10Sha256.slice(0, 8)) // c4a38c50
 * ```
 * @category CIFAR-10
 */
export const cifar10Sha256 = 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd'

/**
 * Where `cifar-10-binary.tar.gz` is downloaded from (Alex Krizhevsky's page).
 *
 * @example
 * ```ts
 * import { cifar10Url } from '@purenn/data'
 * console.log(cifar10Url) // https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz
 * ```
 * @category CIFAR-10
 */
export const cifar10Url = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'

/**
 * The ten CIFAR-10 classes, indexed by label.
 *
 * @example
 * ```ts
 * import { cifar10ClassNames } from '@purenn/data'
 * console.log(cifar10ClassNames[0], cifar10ClassNames[9]) // airplane truck
 * ```
 * @category CIFAR-10
 */
export const cifar10ClassNames: readonly string[] = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
]

/**
 * CIFAR-10 as {@link loadCifar10} returns it.
 * @category CIFAR-10
 */
export interface Cifar10 {
  /** The 50,000 training images `[n, 32, 32, 3]` (channels last, as Keras, values / 255) and labels. */
  readonly train: ImagesAndLabels
  /** The 10,000 test images and labels. */
  readonly test: ImagesAndLabels
  /** {@link cifar10ClassNames}. */
  readonly classNames: readonly string[]
}

/**
 * Options of {@link loadCifar10}.
 * @category CIFAR-10
 */
export interface LoadCifar10Options {
  /** A directory holding `cifar-10-binary.tar.gz` (or a `cifar-10` subdirectory that does). Looked at first. */
  readonly dir?: string
  /** The cache directory, where the download goes. Default `$XDG_CACHE_HOME/purenn/cifar-10` or `~/.cache/purenn/cifar-10`. */
  readonly cacheDir?: string
  /** Download the file when no directory has it (default `true`). */
  readonly download?: boolean
  /** The environment to read `PURENN_DATA`, `XDG_CACHE_HOME` and `HOME` from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** The `fetch` used for the download (default the global one). */
  readonly fetch?: typeof fetch
  /** Where to download from (default {@link cifar10Url}). */
  readonly url?: string
  /** The SHA-256 expected of the archive (default {@link cifar10Sha256}); for tests. */
  readonly expectedSha256?: string
}

const RECORD = 1 + 3 * 32 * 32
const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile()
  } catch {
    return false
  }
}

/** One `.bin` batch (records of a label byte and 3072 bytes R, G, B planes) as HWC float32 / 255. */
const decodeBatches = (
  parts: readonly { name: string; data: Uint8Array }[],
): E.Either<string, ImagesAndLabels> => {
  for (const p of parts)
    if (p.data.length === 0 || p.data.length % RECORD !== 0)
      return E.left(`${p.name}: ${p.data.length} bytes, not a whole number of ${RECORD}-byte records`)
  const n = parts.reduce((s, p) => s + p.data.length / RECORD, 0)
  const images = new Float32Array(n * 3072)
  const labels = new Float32Array(n)
  let row = 0
  for (const p of parts)
    for (let k = 0; k < p.data.length / RECORD; k++, row++) {
      const rec = p.data.subarray(k * RECORD, (k + 1) * RECORD)
      if (rec[0]! > 9)
        return E.left(`${p.name}: label ${rec[0]} of record ${k} is not a class index below 10`)
      labels[row] = rec[0]!
      const o = row * 3072
      for (let ch = 0; ch < 3; ch++)
        for (let i = 0; i < 1024; i++) images[o + i * 3 + ch] = rec[1 + ch * 1024 + i]! / 255
    }
  return E.right({ images: tensor(images, [n, 32, 32, 3]), labels: tensor(labels, [n]) })
}

const trainNames = [1, 2, 3, 4, 5].map((i) => `cifar-10-batches-bin/data_batch_${i}.bin`)
const testName = 'cifar-10-batches-bin/test_batch.bin'

/**
 * Loads CIFAR-10 from the binary version's archive, found on disk or downloaded once into a
 * cache, in the same order as {@link loadFashionMnist}.
 *
 * @remarks Looks at the `dir` option, then `PURENN_DATA` (the directory or its `cifar-10`
 * subdirectory), then the cache, and only then downloads {@link cifar10Url} into the cache
 * (unless `download: false`; the file has 170 MB), renaming a verified temporary file into
 * place. The archive's SHA-256 is checked against {@link cifar10Sha256} before anything is
 * read; it is inflated with `node:zlib` and unpacked with `nanotar`; the five training batches
 * `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin` of `cifar-10-batches-bin/` are
 * decoded (each record: a label byte, then the 1024 red, 1024 green and 1024 blue bytes of a
 * 32 × 32 image, row by row). Images come out channels last `[n, 32, 32, 3]` as Keras'
 * `cifar10.load_data()`, scaled to [0, 1]; labels are float32 class indices `[n]`. All or
 * nothing: any problem rejects with a {@link DataError} naming the file.
 * @param options - where to look and how to download
 * @returns the training and test splits and the class names
 * @throws {@link DataError} (as a rejected promise) when the data cannot be found, read,
 *   verified or downloaded.
 * @example
 * ```ts
 * import { loadCifar10 } from '@purenn/data'
 * const err = await loadCifar10({ dir: '/nonexistent' }).catch((e: Error) => e.message.split('\n')[0])
 * console.log(err) // CIFAR-10: the dir option names /nonexistent, which lacks cifar-10-binary.tar.gz
 * ```
 * @category CIFAR-10
 */
export const loadCifar10 = async (options: LoadCifar10Options = {}): Promise<Cifar10> => {
  const env = options.env ?? process.env
  const xdg = env.XDG_CACHE_HOME
  const cacheDir =
    options.cacheDir ??
    join(
      xdg !== undefined && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.cache'),
      'purenn',
      'cifar-10',
    )
  const sha = options.expectedSha256 ?? cifar10Sha256
  const fail = (problem: string): never => {
    throw new DataError(
      `CIFAR-10: ${problem}\nProvide ${cifar10File} (the binary version, as published): pass its directory as { dir }, ` +
        `set PURENN_DATA to it (or to its parent holding cifar-10/), or put it in ${cacheDir} (where the download goes unless download: false)`,
    )
  }
  const verified = (bytes: Uint8Array, what: string): Uint8Array => {
    const actual = sha256Hex(bytes)
    return actual === sha
      ? bytes
      : fail(
          `${what}: checksum mismatch: SHA-256 ${actual}, expected ${sha} (corrupt or not the official file)`,
        )
  }
  const decode = (bytes: Uint8Array, what: string): Cifar10 => {
    const tarBytes = gunzipIfNeeded(verified(bytes, what), what, 512 * 2 ** 20)
    if (E.isLeft(tarBytes)) return fail(tarBytes.left)
    let entries: { name: string; data?: Uint8Array }[]
    try {
      entries = parseTar(tarBytes.right)
    } catch (e) {
      return fail(`${what}: not a tar archive (${e instanceof Error ? e.message : String(e)})`)
    }
    const get = (name: string) => {
      const entry = entries.find((x) => x.name === name || x.name === `./${name}`)
      return entry?.data === undefined
        ? fail(`${what}: the archive lacks ${name}`)
        : { name, data: entry.data }
    }
    const split = (names: readonly string[]) => {
      const r = decodeBatches(names.map(get))
      return E.isLeft(r) ? fail(`${what}: ${r.left}`) : r.right
    }
    return { train: split(trainNames), test: split([testName]), classNames: cifar10ClassNames }
  }
  const read = (path: string): Cifar10 => {
    // only a regular file is read: a FIFO or a device is refused at once instead of blocking
    const read = readRegularFileSync(path)
    return read.ok ? decode(read.bytes, path) : fail(read.message)
  }
  const named = (dir: string, how: string): Cifar10 => {
    const path = [join(dir, cifar10File), join(dir, 'cifar-10', cifar10File)].find(isFile)
    return read(path ?? fail(`${how} names ${dir}, which lacks ${cifar10File}`))
  }
  if (options.dir !== undefined) return named(options.dir, 'the dir option')
  const fromEnv = env.PURENN_DATA
  if (fromEnv !== undefined && fromEnv !== '') return named(fromEnv, 'PURENN_DATA')
  const cached = join(cacheDir, cifar10File)
  if (isFile(cached)) return read(cached)
  if (options.download === false)
    return fail(`not found in ${cacheDir}, and downloading is off (download: false)`)
  const url = options.url ?? cifar10Url
  const got = await downloadBounded(options.fetch ?? globalThis.fetch, url, {
    timeoutMs: 3_600_000,
    stallTimeoutMs: 60_000,
    maxBytes: 256 * 2 ** 20,
  })
  if (E.isLeft(got)) return fail(`not found in ${cacheDir}, and downloading ${url}: ${got.left}`)
  const data = decode(got.right, `downloaded ${url}`)
  const tmp = join(cacheDir, `.${cifar10File}.${process.pid}.${randomUUID()}.tmp`)
  try {
    makeFoldersSync(cacheDir)
    writeFileSync(tmp, got.right)
    renameSync(tmp, cached)
  } catch (e) {
    try {
      unlinkSync(tmp)
    } catch {}
    return fail(`could not write ${cached}: ${e instanceof Error ? e.message : String(e)}`)
  }
  return data
}
