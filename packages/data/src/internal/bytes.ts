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
export const gunzipIfNeeded = (
  bytes: Uint8Array,
  name: string,
  maxOutputBytes?: number,
): E.Either<string, Uint8Array> => {
  if (!isGzip(bytes)) return E.right(bytes)
  try {
    // zlib stops inflating at the limit: a gzip bomb never fills the memory
    const out = gunzipSync(bytes, maxOutputBytes === undefined ? {} : { maxOutputLength: maxOutputBytes })
    return E.right(new Uint8Array(out.buffer, out.byteOffset, out.byteLength))
  } catch (e) {
    if (maxOutputBytes !== undefined && e instanceof RangeError)
      return E.left(`${name}: gzip data that inflates to more than ${maxOutputBytes} bytes, refused`)
    return E.left(`${name}: corrupt or truncated gzip data (${e instanceof Error ? e.message : String(e)})`)
  }
}

/** The SHA-256 of `bytes` as 64 lowercase hex digits. */
export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
