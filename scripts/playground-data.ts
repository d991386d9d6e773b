/**
 * Builds the playground's data: a Fashion-MNIST subset cut from the official files, written
 * as gzip-compressed IDX files (the official format, which the page decodes with
 * `decodeIdxAsync` from `@purenn/data`) to `docs/playground/data/`, where they are committed.
 *
 * The subset is the first 2,000 images of the official training set and the first 500 of the
 * official test set, with their labels (about 1 MB compressed). Every official file is checked
 * against `fashionMnistSha256` before it is cut.
 *
 * Usage: pnpm docs:playground-data [--check] [--data-dir DIR]
 *   DIR defaults to $PURENN_DATA/fashion-mnist, else ../shared/data/fashion-mnist beside the
 *   checkout. `--check` writes nothing: it fails when the committed files do not hold exactly
 *   the subset the official files give, and skips (exit 0, with a message) when the official
 *   files are not there.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import * as data from '@purenn/data'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(root, 'docs/playground/data')

/** How many rows the subset takes from the start of each official split. */
const subsetRows = { train: 2000, test: 500 } as const

const args = process.argv.slice(2)
const check = args.includes('--check')
const dirArg = args.indexOf('--data-dir')
const sourceDir =
  dirArg >= 0
    ? resolve(args[dirArg + 1] ?? '')
    : process.env.PURENN_DATA !== undefined
      ? join(process.env.PURENN_DATA, 'fashion-mnist')
      : resolve(root, '../shared/data/fashion-mnist')

/** The official file, decompressed and checked against its published SHA-256. */
const readOfficial = (name: data.FashionMnistFile): data.IdxArray => {
  const file = join(sourceDir, `${name}.gz`)
  const bytes = new Uint8Array(gunzipSync(readFileSync(file)))
  const sha = createHash('sha256').update(bytes).digest('hex')
  if (sha !== data.fashionMnistSha256[name])
    throw new Error(
      `${file}: SHA-256 ${sha}, expected ${data.fashionMnistSha256[name]} (not the official file)`,
    )
  const decoded = data.decodeIdx(bytes, name)
  if (decoded._tag === 'Left') throw new Error(`${file}: ${decoded.left}`)
  return decoded.right
}

/** The first `rows` rows of a uint8 IDX array. */
const firstRows = (a: data.IdxArray, rows: number): data.IdxArray => {
  if (a.type !== 'uint8') throw new Error(`expected uint8 data, got ${a.type}`)
  const rowSize = a.shape.slice(1).reduce((p, d) => p * d, 1)
  return { type: 'uint8', shape: [rows, ...a.shape.slice(1)], data: a.data.slice(0, rows * rowSize) }
}

const splits = [
  ['train-images-idx3-ubyte', subsetRows.train],
  ['train-labels-idx1-ubyte', subsetRows.train],
  ['t10k-images-idx3-ubyte', subsetRows.test],
  ['t10k-labels-idx1-ubyte', subsetRows.test],
] as const

if (!splits.every(([name]) => existsSync(join(sourceDir, `${name}.gz`)))) {
  const msg = `playground data: the official Fashion-MNIST files are not in ${sourceDir}`
  if (check) {
    console.log(`${msg}; check skipped (the committed subset stays as it is)`)
    process.exit(0)
  }
  console.error(`${msg} (pass --data-dir DIR, or set PURENN_DATA)`)
  process.exit(1)
}

const problems: string[] = []
let total = 0
for (const [name, rows] of splits) {
  const subset = firstRows(readOfficial(name), rows)
  const target = join(outDir, `${name}.gz`)
  if (check) {
    if (!existsSync(target)) {
      problems.push(`${target} is missing`)
      continue
    }
    const committed = data.decodeIdx(new Uint8Array(gunzipSync(readFileSync(target))), name)
    const same =
      committed._tag === 'Right' &&
      committed.right.type === 'uint8' &&
      JSON.stringify(committed.right.shape) === JSON.stringify(subset.shape) &&
      Buffer.compare(Buffer.from(committed.right.data), Buffer.from(subset.data)) === 0
    if (!same) problems.push(`${target} is not the first ${rows} rows of the official ${name}`)
    else console.log(`ok   ${name}.gz: the first ${rows} rows of the official file`)
  } else {
    mkdirSync(outDir, { recursive: true })
    const bytes = data.encodeIdx(subset, { gzip: true })
    writeFileSync(target, bytes)
    total += bytes.length
    console.log(`${target}: ${rows} rows, ${(bytes.length / 1024).toFixed(0)} KB`)
  }
}
if (problems.length > 0) {
  console.error(`playground data:\n  ${problems.join('\n  ')}\n(rebuild with pnpm docs:playground-data)`)
  process.exit(1)
}
if (!check) console.log(`playground data: ${(total / 1024).toFixed(0)} KB in ${outDir}`)
