import { randomUUID } from 'node:crypto'
import { renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { type Tensor, tensor } from '@purenn/tensor'
import { makeFoldersSync, readRegularFileSync } from '@purenn/tensor/internal'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { type ByteImages, byteImages } from './byteImages.js'
import { DataError } from './errors.js'
import { decodeIdx, type IdxArray } from './idx.js'
import { gunzipIfNeeded, isGzip, sha256Hex } from './internal/bytes.js'
import { type DownloadLimits, downloadBounded } from './internal/download.js'

/**
 * The base name of one of the four files of the Fashion-MNIST release (without `.gz`).
 *
 * @category Fashion-MNIST
 */
export type FashionMnistFile =
  | 'train-images-idx3-ubyte'
  | 'train-labels-idx1-ubyte'
  | 't10k-images-idx3-ubyte'
  | 't10k-labels-idx1-ubyte'

/**
 * The four files of the Fashion-MNIST release, in the order the loader reads them.
 *
 * @remarks
 * In a directory each may be gzip-compressed (`name.gz`, as published) or plain (`name`).
 *
 * @example
 * ```ts
 * import { fashionMnistFiles } from '@purenn/data'
 * console.log(fashionMnistFiles[0]) // train-images-idx3-ubyte
 * ```
 * @category Fashion-MNIST
 */
export const fashionMnistFiles: readonly FashionMnistFile[] = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
]

/**
 * The SHA-256 of the decompressed bytes of each official Fashion-MNIST file.
 *
 * @remarks
 * The checksums of the decompressed bytes, not of the `.gz` files: Debian's
 * `dataset-fashion-mnist` re-compressed the files, so its `.gz` checksums differ from
 * upstream's while the content is identical. {@link loadFashionMnist} verifies these for
 * every source, not only downloads.
 *
 * @example
 * ```ts
 * import { fashionMnistSha256 } from '@purenn/data'
 * console.log(fashionMnistSha256['t10k-labels-idx1-ubyte'].slice(0, 8)) // 0402a96d
 * ```
 * @category Fashion-MNIST
 */
export const fashionMnistSha256: Readonly<Record<FashionMnistFile, string>> = {
  'train-images-idx3-ubyte': 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
  'train-labels-idx1-ubyte': 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
  't10k-images-idx3-ubyte': '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
  't10k-labels-idx1-ubyte': '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
}

/**
 * The names of the ten Fashion-MNIST classes, indexed by label.
 *
 * @example
 * ```ts
 * import { fashionMnistClassNames } from '@purenn/data'
 * console.log(fashionMnistClassNames[0], fashionMnistClassNames[9]) // T-shirt/top Ankle boot
 * ```
 * @category Fashion-MNIST
 */
export const fashionMnistClassNames: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]

/**
 * Where the official Fashion-MNIST files are downloaded from (the files are `name.gz` under it).
 *
 * @example
 * ```ts
 * import { fashionMnistBaseUrl } from '@purenn/data'
 * console.log(new URL('t10k-labels-idx1-ubyte.gz', fashionMnistBaseUrl).href)
 * // http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz
 * ```
 * @category Fashion-MNIST
 */
export const fashionMnistBaseUrl = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'

/**
 * Where Debian's (and Ubuntu's) package `dataset-fashion-mnist` installs the four files.
 *
 * @example
 * ```ts
 * import { debianFashionMnistDir } from '@purenn/data'
 * console.log(debianFashionMnistDir) // /usr/share/datasets/fashion-mnist
 * ```
 * @category Fashion-MNIST
 */
export const debianFashionMnistDir = '/usr/share/datasets/fashion-mnist'

/**
 * Images and their labels: one split of Fashion-MNIST.
 *
 * @remarks
 * `labels` is a float32 tensor of class indices (0 to 9) rather than an `Int32Array`: the
 * sparse categorical losses and accuracy take class indices as a tensor, and the dataset
 * helpers ({@link shuffle}, {@link batches}, ...) gather rows of both tensors alike. Indices up
 * to 2²⁴ are exact in float32.
 *
 * @category Fashion-MNIST
 */
export interface ImagesAndLabels<Images = Tensor> {
  /**
   * Grey levels scaled to [0, 1] (byte / 255), float32, shape `[n, 28, 28]`; from
   * {@link loadFashionMnistBytes}, the bytes, scaled one batch at a time ({@link ByteImages}).
   */
  readonly images: Images
  /** Class indices 0 to 9 as float32, shape `[n]`; {@link fashionMnistClassNames} names them. */
  readonly labels: Tensor
}

/**
 * The Fashion-MNIST dataset as {@link loadFashionMnist} returns it.
 *
 * @category Fashion-MNIST
 */
export interface FashionMnist<Images = Tensor> {
  /** The 60,000 training images and labels. */
  readonly train: ImagesAndLabels<Images>
  /** The 10,000 test images and labels. */
  readonly test: ImagesAndLabels<Images>
  /** The ten class names, indexed by label: {@link fashionMnistClassNames}. */
  readonly classNames: readonly string[]
}

/**
 * Options of {@link loadFashionMnist}. All are optional; the defaults find or fetch the
 * official data.
 *
 * @category Fashion-MNIST
 */
export interface LoadFashionMnistOptions {
  /** A directory holding the four files (or a `fashion-mnist` subdirectory that does). Looked at first. */
  readonly dir?: string
  /**
   * The cache directory holding the files, and where downloads go. Default:
   * `$XDG_CACHE_HOME/purenn/fashion-mnist`, or `~/.cache/purenn/fashion-mnist`.
   */
  readonly cacheDir?: string
  /** Download the files when no directory has them (default `true`). */
  readonly download?: boolean
  /** The environment to read `PURENN_DATA`, `XDG_CACHE_HOME` and `HOME` from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** The `fetch` used for downloads (default the global one). */
  readonly fetch?: typeof fetch
  /** The system-wide directory looked at after the cache (default {@link debianFashionMnistDir}). */
  readonly systemDir?: string
  /** Where to download from (default {@link fashionMnistBaseUrl}); the files are `name.gz` under it. */
  readonly baseUrl?: string
  /**
   * The SHA-256 of the decompressed bytes expected for each file (default
   * {@link fashionMnistSha256}). For tests and for re-packaged variants of the dataset.
   */
  readonly expectedSha256?: Readonly<Partial<Record<FashionMnistFile, string>>>
  /** The longest a download of one file may take, in milliseconds (default 600000: 10 minutes). */
  readonly downloadTimeoutMs?: number
  /** The longest wait for the server's answer or its next bytes, in milliseconds (default 30000). */
  readonly stallTimeoutMs?: number
  /** The most bytes one download may bring (default 64 MiB; the largest official file has 26 MB). */
  readonly maxDownloadBytes?: number
  /**
   * The most bytes one file may inflate to (default 64 MiB; the largest has 47 MB): a gzip
   * bomb is stopped there.
   */
  readonly maxDecompressedBytes?: number
}

interface Sha256HexBrand {
  readonly Sha256Hex: unique symbol
}
const sha256Codec = t.brand(
  t.string,
  (s): s is t.Branded<string, Sha256HexBrand> => /^[0-9a-f]{64}$/.test(s),
  'Sha256Hex',
)

// The options come from user code that may not be type-checked (plain JS, a config file):
// they are decoded at the boundary like any other outside data.
const optionsCodec = t.partial({
  dir: t.string,
  cacheDir: t.string,
  download: t.boolean,
  env: t.UnknownRecord,
  fetch: t.Function,
  systemDir: t.string,
  baseUrl: t.string,
  expectedSha256: t.partial(Object.fromEntries(fashionMnistFiles.map((f) => [f, sha256Codec]))),
  downloadTimeoutMs: t.number,
  stallTimeoutMs: t.number,
  maxDownloadBytes: t.number,
  maxDecompressedBytes: t.number,
})

const describeErrors = (errors: t.Errors): string =>
  errors
    .map((e) => {
      const path = e.context
        .map((c) => c.key)
        .filter((k) => k !== '')
        .join('.')
      const expected = e.context.at(-1)?.type.name ?? 'a valid value'
      return `option ${path}: expected ${expected}, got ${JSON.stringify(e.value) ?? typeof e.value}`
    })
    .join('; ')

/**
 * The default cache directory of the Fashion-MNIST files: `$XDG_CACHE_HOME/purenn/fashion-mnist`
 * when `XDG_CACHE_HOME` is set to an absolute path, else `~/.cache/purenn/fashion-mnist`.
 *
 * @param env - the environment to read (default `process.env`)
 * @returns the directory (it may not exist yet)
 * @example
 * ```ts
 * import { fashionMnistCacheDir } from '@purenn/data'
 * console.log(fashionMnistCacheDir({ XDG_CACHE_HOME: '/tmp/cache' })) // /tmp/cache/purenn/fashion-mnist
 * ```
 * @category Fashion-MNIST
 */
export const fashionMnistCacheDir = (
  env: Readonly<Record<string, string | undefined>> = process.env,
): string => {
  const xdg = env.XDG_CACHE_HOME
  const root = xdg !== undefined && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.cache')
  return join(root, 'purenn', 'fashion-mnist')
}

/** The path of each file found in a directory (plain preferred over `.gz`), and the missing ones. */
interface Lookup {
  readonly dir: string
  readonly found: Partial<Record<FashionMnistFile, string>>
  readonly missing: readonly FashionMnistFile[]
}

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile()
  } catch {
    return false
  }
}

const lookIn = (dir: string): Lookup => {
  const found: Partial<Record<FashionMnistFile, string>> = {}
  const missing: FashionMnistFile[] = []
  for (const f of fashionMnistFiles) {
    const path = [join(dir, f), join(dir, `${f}.gz`)].find(isFile)
    if (path === undefined) missing.push(f)
    else found[f] = path
  }
  return { dir, found, missing }
}

/** A directory the user named: it, or its `fashion-mnist` subdirectory, must hold all four files. */
const lookInNamed = (dir: string, how: string): E.Either<string, Lookup> => {
  const direct = lookIn(dir)
  if (direct.missing.length === 0) return E.right(direct)
  const sub = lookIn(join(dir, 'fashion-mnist'))
  if (sub.missing.length === 0) return E.right(sub)
  const best = sub.missing.length < direct.missing.length ? sub : direct
  return E.left(
    `${how} names ${dir}, but ${best.dir} lacks ${best.missing.map((f) => `${f}(.gz)`).join(', ')}` +
      ' (all four files must be present; partial data is never returned)',
  )
}

const ways = (cacheDir: string): string =>
  [
    `Provide the four files (${fashionMnistFiles.join(', ')}; each plain or .gz) in one of these ways:`,
    "  - pass their directory: loadFashionMnist({ dir: '/path/to/fashion-mnist' })",
    '  - set the PURENN_DATA environment variable to that directory',
    `  - put them in the cache directory ${cacheDir} (where downloads go unless download: false)`,
    `  - on Debian or Ubuntu: apt-get install dataset-fashion-mnist (installs them in ${debianFashionMnistDir})`,
  ].join('\n')

const message = (e: unknown): string =>
  e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e)

/** `raw` when its SHA-256 is `sha256`, else a message naming `what`. */
const verifySha256 = (raw: Uint8Array, sha256: string, what: string): E.Either<string, Uint8Array> => {
  const actual = sha256Hex(raw)
  return actual === sha256
    ? E.right(raw)
    : E.left(
        `${what}: checksum mismatch: the SHA-256 of the decompressed bytes is ${actual}, expected ${sha256}` +
          ' (the file is corrupt or not the official release)',
      )
}

/** Reads, decompresses and decodes one file, then checks its checksum. */
const readVerified = (path: string, sha256: string): E.Either<string, IdxArray> => {
  // only a regular file is read: a FIFO or a device is refused at once instead of blocking
  const read = readRegularFileSync(path)
  if (!read.ok) return E.left(read.message)
  const bytes = read.bytes
  // Decoding before hashing: a truncated file says "truncated", not only "checksum mismatch".
  return pipe(
    gunzipIfNeeded(bytes, path),
    E.chain((raw) =>
      pipe(
        decodeIdx(raw, path),
        E.chainFirst(() => verifySha256(raw, sha256, path)),
      ),
    ),
  )
}

/** Makes the images of a split from the bytes of its IDX file (already checked to be uint8 [n,rows,cols]). */
type ToImages<Images> = (bytes: Uint8Array, shape: readonly number[]) => Images

const floatImages: ToImages<Tensor> = (src, shape) => {
  const out = new Float32Array(src.length)
  for (let i = 0; i < src.length; i++) out[i] = src[i]! / 255
  return tensor(out, shape)
}

const toImages = <Images>(a: IdxArray, path: string, make: ToImages<Images>): E.Either<string, Images> => {
  if (a.type !== 'uint8' || a.shape.length !== 3)
    return E.left(
      `${path}: expected uint8 images of shape [n,rows,cols], got ${a.type} of shape [${a.shape.join(',')}]`,
    )
  return E.right(make(a.data as Uint8Array, a.shape))
}

const toLabels = (a: IdxArray, path: string, classes: number): E.Either<string, Tensor> => {
  if (a.type !== 'uint8' || a.shape.length !== 1)
    return E.left(
      `${path}: expected uint8 labels of shape [n], got ${a.type} of shape [${a.shape.join(',')}]`,
    )
  const bad = a.data.findIndex((v) => v >= classes)
  if (bad >= 0)
    return E.left(`${path}: label ${a.data[bad]} at index ${bad} is not a class index below ${classes}`)
  return E.right(tensor(a.data, a.shape))
}

const readSplit = <Images extends { readonly shape: readonly number[] }>(
  imagesPath: string,
  labelsPath: string,
  imagesSha: string,
  labelsSha: string,
  make: ToImages<Images>,
): E.Either<string, ImagesAndLabels<Images>> =>
  pipe(
    E.Do,
    E.bind('images', () =>
      pipe(
        readVerified(imagesPath, imagesSha),
        E.chain((a) => toImages(a, imagesPath, make)),
      ),
    ),
    E.bind('labels', () =>
      pipe(
        readVerified(labelsPath, labelsSha),
        E.chain((a) => toLabels(a, labelsPath, fashionMnistClassNames.length)),
      ),
    ),
    E.chain(({ images, labels }) =>
      images.shape[0] === labels.shape[0]
        ? E.right({ images, labels })
        : E.left(
            `${imagesPath} has ${images.shape[0]} images but ${labelsPath} has ${labels.shape[0]} labels`,
          ),
    ),
  )

const readAll = <Images extends { readonly shape: readonly number[] }>(
  found: Partial<Record<FashionMnistFile, string>>,
  sha: Readonly<Record<FashionMnistFile, string>>,
  make: ToImages<Images>,
): E.Either<string, FashionMnist<Images>> => {
  const path = (f: FashionMnistFile): string => found[f] ?? f
  return pipe(
    E.Do,
    E.bind('train', () =>
      readSplit(
        path('train-images-idx3-ubyte'),
        path('train-labels-idx1-ubyte'),
        sha['train-images-idx3-ubyte'],
        sha['train-labels-idx1-ubyte'],
        make,
      ),
    ),
    E.bind('test', () =>
      readSplit(
        path('t10k-images-idx3-ubyte'),
        path('t10k-labels-idx1-ubyte'),
        sha['t10k-images-idx3-ubyte'],
        sha['t10k-labels-idx1-ubyte'],
        make,
      ),
    ),
    E.map(({ train, test }) => ({ train, test, classNames: fashionMnistClassNames })),
  )
}

/** Downloads, verifies and atomically stores one file in `cacheDir`; resolves to a Left on failure. */
const downloadOne = async (
  fetchFn: typeof fetch,
  baseUrl: string,
  cacheDir: string,
  file: FashionMnistFile,
  sha256: string,
  limits: DownloadLimits & { readonly maxDecompressedBytes: number },
): Promise<E.Either<string, string>> => {
  const url = new URL(`${file}.gz`, baseUrl).href
  const got = await downloadBounded(fetchFn, url, limits)
  if (E.isLeft(got)) return got
  const bytes = got.right
  const what = `downloaded ${url}`
  const verified = pipe(
    gunzipIfNeeded(bytes, what, limits.maxDecompressedBytes),
    E.chain((raw) => verifySha256(raw, sha256, what)),
  )
  if (E.isLeft(verified)) return verified
  // Write next to the target, then rename: a crash or a concurrent loader never sees half a file.
  const target = join(cacheDir, isGzip(bytes) ? `${file}.gz` : file)
  const tmp = join(cacheDir, `.${file}.${process.pid}.${randomUUID()}.tmp`)
  try {
    makeFoldersSync(cacheDir)
    writeFileSync(tmp, bytes)
    renameSync(tmp, target)
    return E.right(target)
  } catch (e) {
    try {
      unlinkSync(tmp)
    } catch {}
    return E.left(`could not write ${target}: ${message(e)}`)
  }
}

/**
 * Loads Fashion-MNIST, finding the files on disk or downloading them once into a cache.
 *
 * @remarks
 * Looks, in this order, at:
 * 1. the `dir` option;
 * 2. the directory in the `PURENN_DATA` environment variable;
 * 3. the cache directory ({@link fashionMnistCacheDir}, or the `cacheDir` option);
 * 4. {@link debianFashionMnistDir}, where `apt-get install dataset-fashion-mnist` puts the files
 *    (the `systemDir` option);
 * 5. and only then downloads the missing files from {@link fashionMnistBaseUrl} into the cache
 *    (unless `download: false`). Each download is verified before it is written to a temporary
 *    file that is then renamed into place, so the cache never holds a partial file.
 *
 * A directory has the data only when all four files are in it, each plain or gzipped. A
 * directory you name (`dir`, `PURENN_DATA`) may also hold them in a `fashion-mnist`
 * subdirectory; when it lacks a file the loader stops with an error rather than looking
 * elsewhere. The SHA-256 of the decompressed bytes of every file is checked against
 * {@link fashionMnistSha256}, whatever the source. The result is all or nothing: a missing,
 * corrupt or truncated file, or a failed download, rejects with a {@link DataError} naming the
 * file, what was wrong and the ways to provide the data.
 *
 * Images are float32 tensors `[n, 28, 28]` with grey levels scaled to [0, 1] (divided by 255,
 * as the chapter does); labels are float32 tensors `[n]` of class indices (see
 * {@link ImagesAndLabels}). The chapter keeps the last 5,000 training images for validation:
 * {@link trainValidSplit}. Loading the real files takes about a second.
 *
 * @param options - where to look and how to download; see {@link LoadFashionMnistOptions}
 * @returns the training and test splits and the class names
 * @throws {@link DataError} (as a rejected promise) when the data cannot be found, read,
 *   verified or downloaded, or an option is invalid.
 * @example
 * ```ts
 * import { loadFashionMnist, trainValidSplit } from '@purenn/data'
 * const { train, test, classNames } = await loadFashionMnist()
 * console.log(train.images.shape, test.labels.shape, classNames[train.labels.data[0]!]) // [ 60000, 28, 28 ] [ 10000 ] Ankle boot
 * const { train: fit, valid } = trainValidSplit({ x: train.images, y: train.labels }, 5000)
 * console.log(fit.x.shape[0], valid.x.shape[0]) // 55000 5000
 * ```
 * @category Fashion-MNIST
 */
export const loadFashionMnist = (options: LoadFashionMnistOptions = {}): Promise<FashionMnist> =>
  loadWith('loadFashionMnist', options, floatImages)

/**
 * Loads Fashion-MNIST as {@link loadFashionMnist} does, but keeps the images as their bytes
 * ({@link ByteImages}: 55 MB instead of 220 MB as float32), scaled to [0, 1] one batch at a
 * time by `fit`, `evaluate` and `predict`, with bit for bit the values
 * {@link loadFashionMnist} gives.
 *
 * @param options - where to look and how to download; see {@link LoadFashionMnistOptions}
 * @returns the training and test splits (images as {@link ByteImages}) and the class names
 * @throws {@link DataError} (as a rejected promise) as {@link loadFashionMnist}
 * @example
 * ```ts
 * import { loadFashionMnistBytes } from '@purenn/data'
 * const { train, test } = await loadFashionMnistBytes()
 * const valid = train.images.slice(55000, 5000)
 * console.log(train.images.bytes.length, valid.shape, test.images.rows(0, 32).shape) // 47040000 [ 5000, 28, 28 ] [ 32, 28, 28 ]
 * ```
 * @category Fashion-MNIST
 */
export const loadFashionMnistBytes = (
  options: LoadFashionMnistOptions = {},
): Promise<FashionMnist<ByteImages>> => loadWith('loadFashionMnistBytes', options, byteImages)

const loadWith = async <Images extends { readonly shape: readonly number[] }>(
  fn: string,
  options: LoadFashionMnistOptions,
  make: ToImages<Images>,
): Promise<FashionMnist<Images>> => {
  const decoded = optionsCodec.decode(options)
  if (E.isLeft(decoded)) throw new DataError(`${fn}: invalid options: ${describeErrors(decoded.left)}`)
  const env = options.env ?? process.env
  const cacheDir = options.cacheDir ?? fashionMnistCacheDir(env)
  const sha = { ...fashionMnistSha256, ...options.expectedSha256 }
  const fail = (problem: string): never => {
    throw new DataError(`Fashion-MNIST: ${problem}\n${ways(cacheDir)}`)
  }
  const load = (found: Partial<Record<FashionMnistFile, string>>): FashionMnist<Images> =>
    pipe(readAll(found, sha, make), E.getOrElseW(fail))

  if (options.dir !== undefined)
    return load(pipe(lookInNamed(options.dir, 'the dir option'), E.getOrElseW(fail)).found)
  const fromEnv = env.PURENN_DATA
  if (fromEnv !== undefined && fromEnv !== '')
    return load(pipe(lookInNamed(fromEnv, 'PURENN_DATA'), E.getOrElseW(fail)).found)
  const cache = lookIn(cacheDir)
  if (cache.missing.length === 0) return load(cache.found)
  const systemDir = options.systemDir ?? debianFashionMnistDir
  const system = lookIn(systemDir)
  if (system.missing.length === 0) return load(system.found)
  if (options.download === false)
    return fail(`not found in ${cacheDir} nor ${systemDir}, and downloading is off (download: false)`)

  const fetchFn = options.fetch ?? globalThis.fetch
  const limits = {
    timeoutMs: options.downloadTimeoutMs ?? 600_000,
    stallTimeoutMs: options.stallTimeoutMs ?? 30_000,
    maxBytes: options.maxDownloadBytes ?? 64 * 2 ** 20,
    maxDecompressedBytes: options.maxDecompressedBytes ?? 64 * 2 ** 20,
  }
  const names: Record<string, string> = { timeoutMs: 'downloadTimeoutMs', maxBytes: 'maxDownloadBytes' }
  for (const [k, v] of Object.entries(limits))
    if (!(Number.isFinite(v) && v > 0))
      throw new DataError(`${fn}: invalid options: ${names[k] ?? k} must be a positive number, got ${v}`)
  const found = { ...cache.found }
  for (const f of cache.missing) {
    const got = await downloadOne(
      fetchFn,
      options.baseUrl ?? fashionMnistBaseUrl,
      cacheDir,
      f,
      sha[f],
      limits,
    )
    if (E.isLeft(got)) return fail(`not found in ${cacheDir} nor ${systemDir}, and ${got.left}`)
    found[f] = got.right
  }
  return load(found)
}
