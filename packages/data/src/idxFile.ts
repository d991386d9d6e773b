import { readRegularFileSync } from '@purenn/tensor/internal'
import * as E from 'fp-ts/lib/Either.js'
import { DataError } from './errors.js'
import { decodeIdx, type IdxArray } from './idx.js'

/**
 * Reads and decodes an IDX file, plain or gzip-compressed: the throwing version of
 * {@link decodeIdx} for a file on disk.
 *
 * @param path - the file to read
 * @returns the decoded array
 * @throws {@link DataError} when the file cannot be read or is not a valid IDX file; the
 * message names the file and what was wrong.
 * @example
 * ```ts
 * import { mkdtempSync, writeFileSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import { encodeIdx, readIdxFile } from '@purenn/data'
 * const file = join(mkdtempSync(join(tmpdir(), 'idx-')), 'labels-idx1-ubyte.gz')
 * writeFileSync(file, encodeIdx({ type: 'uint8', shape: [3], data: new Uint8Array([7, 2, 1]) }, { gzip: true }))
 * console.log(readIdxFile(file).data) // Uint8Array(3) [ 7, 2, 1 ]
 * ```
 * @category IDX
 */
export const readIdxFile = (path: string): IdxArray => {
  // only a regular file is read: a FIFO or a device is refused at once instead of blocking
  const read = readRegularFileSync(path)
  if (!read.ok) throw new DataError(read.message)
  const decoded = decodeIdx(read.bytes, path)
  if (E.isLeft(decoded)) throw new DataError(decoded.left)
  return decoded.right
}
