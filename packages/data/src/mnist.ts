import { randomUUID } from 'node:crypto'
import { renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { type Tensor, tensor } from '@purenn/tensor'
import { makeFoldersSync, readRegularFileSync } from '@purenn/tensor/internal'
import * as E from 'fp-ts/lib/Either.js'
import { DataError } from './errors.js'
import type { FashionMnistFile, ImagesAndLabels } from './fashionMnist.js'
import { decodeIdx } from './idx.js'
import { gunzipIfNeeded, sha256Hex } from './internal/bytes.js'
import { downloadBounded } from './internal/download.js'

/**
 * The SHA-256 of each official MNIST file as published, gzip-compressed (`name.gz`): the
 * values TensorFlow Datasets pins (`url_checksums/mnist.txt`).
 *
 * @remarks Unlike Fashion-MNIST, whose checksums are of the decompressed bytes, the files are
 * checked as published, so {@link loadMnist} reads the `.gz` files only.
 * @example
 * ```ts
 * import { mnistSha256 } from '@purenn/data'
 * console.log(mnistSha256['t10k-labels-idx1-ubyte'].slice(0, 8)) // f7ae60f9
 * ```
 * @category MNIST
 */
export const mnistSha256: Readonly<Record<FashionMnistFile, string>> = {
  'train-images-idx3-ubyte': '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
  'train-labels-idx1-ubyte': '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
  't10k-images-idx3-ubyte': '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
  't10k-labels-idx1-ubyte': 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
}

/**
 * Where the MNIST files are downloaded from: the copy of LeCun's files that TensorFlow
 * Datasets and Keras use (`name.gz` under it).
 *
 * @example
 * ```ts
 * import { mnistBaseUrl } from '@purenn/data'
 * console.log(mnistBaseUrl) // https://storage.googleapis.com/cvdf-datasets/mnist/
 * ```
 * @category MNIST
 */
export const mnistBaseUrl = 'https://storage.googleapis.com/cvdf-datasets/mnist/'

/**
 * The MNIST digits as {@link loadMnist} returns them.
 * @category MNIST
 */
export interface Mnist {
  /** The 60,000 training images (`[n, 28, 28]`, grey levels / 255) and labels (digits 0 to 9). */
  readonly train: ImagesAndLabels
  /** The 10,000 test images and labels. */
  readonly test: ImagesAndLabels
  /** `'0'` to `'9'`. */
  readonly classNames: readonly string[]
}

/**
 * Options of {@link loadMnist}.
 * @category MNIST
 */
export interface LoadMnistOptions {
  /** A directory holding the four `.gz` files (or an `mnist` subdirectory that does). Looked at first. */
  readonly dir?: string
  /** The cache directory, where downloads go. Default `$XDG_CACHE_HOME/purenn/mnist` or `~/.cache/purenn/mnist`. */
  readonly cacheDir?: string
  /** Download the files when no directory has them (default `true`). */
  readonly download?: boolean
  /** The environment to read `PURENN_DATA`, `XDG_CACHE_HOME` and `HOME` from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** The `fetch` used for downloads (default the global one). */
  readonly fetch?: typeof fetch
  /** Where to download from (default {@link mnistBaseUrl}). */
  readonly baseUrl?: string
  /** The SHA-256 expected of each `.gz` file (default {@link mnistSha256}); for tests. */
  readonly expectedSha256?: Readonly<Partial<Record<FashionMnistFile, string>>>
}

const files: readonly FashionMnistFile[] = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
]

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile()
  } catch {
    return false
  }
}

/** The directory among `dir` and `dir/mnist` that holds all four `.gz` files, if any. */
const holder = (dir: string): string | undefined =>
  [dir, join(dir, 'mnist')].find((d) => files.every((f) => isFile(join(d, `${f}.gz`))))

const toImages = (a: ReturnType<typeof decodeIdx>, path: string): E.Either<string, Tensor> =>
  E.chain((x: { type: string; shape: readonly number[]; data: ArrayLike<number> }) => {
    if (x.type !== 'uint8' || x.shape.length !== 3 || x.shape[1] !== 28 || x.shape[2] !== 28)
      return E.left(`${path}: expected uint8 images [n, 28, 28], got ${x.type} [${x.shape.join(', ')}]`)
    return E.right(
      tensor(
        Float32Array.from(x.data, (v) => v / 255),
        x.shape,
      ),
    )
  })(a)

const toLabels = (a: ReturnType<typeof decodeIdx>, path: string): E.Either<string, Tensor> =>
  E.chain((x: { type: string; shape: readonly number[]; data: ArrayLike<number> }) => {
    if (x.type !== 'uint8' || x.shape.length !== 1)
      return E.left(`${path}: expected uint8 labels [n], got ${x.type} [${x.shape.join(', ')}]`)
    const bad = Array.prototype.findIndex.call(x.data, (v: number) => v > 9)
    if (bad >= 0) return E.left(`${path}: label ${x.data[bad]} at index ${bad} is not a digit`)
    return E.right(tensor(Float32Array.from(x.data), x.shape))
  })(a)

/**
 * Loads the MNIST digits, finding the official files on disk or downloading them once into a
 * cache, in the same order as {@link loadFashionMnist}.
 *
 * @remarks Looks at the `dir` option, then `PURENN_DATA` (the directory or its `mnist`
 * subdirectory), then the cache, and only then downloads from {@link mnistBaseUrl} into the
 * cache (unless `download: false`), writing each verified file to a temporary name renamed
 * into place. A directory has the data when it holds the four files as published,
 * `train-images-idx3-ubyte.gz` etc.; every file's SHA-256 is checked against
 * {@link mnistSha256} before it is decoded. All or nothing: any problem rejects with a
 * {@link DataError} naming the file and the ways to provide the data. Images are float32
 * `[n, 28, 28]` scaled to [0, 1]; labels float32 digits `[n]`.
 * @param options - where to look and how to download
 * @returns the training and test splits and the class names
 * @throws {@link DataError} (as a rejected promise) when the data cannot be found, read,
 *   verified or downloaded.
 * @example
 * ```ts
 * import { loadMnist } from '@purenn/data'
 * const err = await loadMnist({ dir: '/nonexistent' }).catch((e: Error) => e.message.split('\n')[0])
 * console.log(err) // MNIST: the dir option names /nonexistent, which lacks the four .gz files
 * ```
 * @category MNIST
 */
export const loadMnist = async (options: LoadMnistOptions = {}): Promise<Mnist> => {
  const env = options.env ?? process.env
  const xdg = env.XDG_CACHE_HOME
  const cacheDir =
    options.cacheDir ??
    join(
      xdg !== undefined && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.cache'),
      'purenn',
      'mnist',
    )
  const sha = { ...mnistSha256, ...options.expectedSha256 }
  const fail = (problem: string): never => {
    throw new DataError(
      `MNIST: ${problem}\nProvide the four files as published (${files.map((f) => `${f}.gz`).join(', ')}): ` +
        `pass their directory as { dir }, set PURENN_DATA to it (or to its parent holding mnist/), ` +
        `or put them in ${cacheDir} (where downloads go unless download: false)`,
    )
  }
  const read = (dir: string): Mnist => {
    const arrays = files.map((f) => {
      const path = join(dir, `${f}.gz`)
      // only a regular file is read: a FIFO or a device is refused at once instead of blocking
      const read = readRegularFileSync(path)
      const bytes = read.ok ? read.bytes : fail(read.message)
      const actual = sha256Hex(bytes)
      if (actual !== sha[f])
        fail(
          `${path}: checksum mismatch: SHA-256 ${actual}, expected ${sha[f]} (corrupt or not the official file)`,
        )
      const decoded = decodeIdx(bytes, path)
      return { path, decoded }
    })
    const get = <A>(e: E.Either<string, A>): A => (E.isLeft(e) ? fail(e.left) : e.right)
    const split = (i: number): ImagesAndLabels => {
      const images = get(toImages(arrays[i]!.decoded, arrays[i]!.path))
      const labels = get(toLabels(arrays[i + 1]!.decoded, arrays[i + 1]!.path))
      if (images.shape[0] !== labels.shape[0])
        fail(
          `${arrays[i]!.path} has ${images.shape[0]} images but ${arrays[i + 1]!.path} has ${labels.shape[0]} labels`,
        )
      return { images, labels }
    }
    return { train: split(0), test: split(2), classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] }
  }
  const named = (dir: string, how: string): Mnist =>
    read(holder(dir) ?? fail(`${how} names ${dir}, which lacks the four .gz files`))
  if (options.dir !== undefined) return named(options.dir, 'the dir option')
  const fromEnv = env.PURENN_DATA
  if (fromEnv !== undefined && fromEnv !== '') return named(fromEnv, 'PURENN_DATA')
  if (holder(cacheDir) === cacheDir) return read(cacheDir)
  if (options.download === false)
    return fail(`not found in ${cacheDir}, and downloading is off (download: false)`)
  const fetchFn = options.fetch ?? globalThis.fetch
  try {
    makeFoldersSync(cacheDir)
  } catch (e) {
    return fail(`not found, and the cache cannot be made: ${e instanceof Error ? e.message : String(e)}`)
  }
  for (const f of files) {
    const target = join(cacheDir, `${f}.gz`)
    if (isFile(target)) continue
    const url = new URL(`${f}.gz`, options.baseUrl ?? mnistBaseUrl).href
    const got = await downloadBounded(fetchFn, url, {
      timeoutMs: 600_000,
      stallTimeoutMs: 30_000,
      maxBytes: 64 * 2 ** 20,
    })
    if (E.isLeft(got)) return fail(`not found in ${cacheDir}, and downloading ${url}: ${got.left}`)
    const actual = sha256Hex(got.right)
    if (actual !== sha[f])
      return fail(`downloaded ${url}: checksum mismatch: SHA-256 ${actual}, expected ${sha[f]}`)
    const unzipped = gunzipIfNeeded(got.right, url, 64 * 2 ** 20)
    if (E.isLeft(unzipped)) return fail(unzipped.left)
    const tmp = join(cacheDir, `.${f}.${process.pid}.${randomUUID()}.tmp`)
    try {
      writeFileSync(tmp, got.right)
      renameSync(tmp, target)
    } catch (e) {
      try {
        unlinkSync(tmp)
      } catch {}
      return fail(`could not write ${target}: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  return read(cacheDir)
}
