import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import * as E from 'fp-ts/lib/Either.js'

/** True when `bytes` start with the gzip magic number `1f 8b`. */
export const isGzip = (bytes: Uint8Array): boolean =>
  bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b

/**
 * The bytes themselves, or their decompression when they are gzip data. A corrupt or
 * truncated gzip stream is a `Left` naming the file and zlib's complaint.
 */
export const gunzipIfNeeded = (bytes: Uint8Array, name: string): E.Either<string, Uint8Array> => {
  if (!isGzip(bytes)) return E.right(bytes)
  try {
    const out = gunzipSync(bytes)
    return E.right(new Uint8Array(out.buffer, out.byteOffset, out.byteLength))
  } catch (e) {
    return E.left(`${name}: corrupt or truncated gzip data (${e instanceof Error ? e.message : String(e)})`)
  }
}

/** The SHA-256 of `bytes` as 64 lowercase hex digits. */
export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
