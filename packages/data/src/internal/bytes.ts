import * as E from 'fp-ts/lib/Either.js'

// Node's modules are taken at run time (process.getBuiltinModule, Node 20.16+), never
// imported, so this file bundles for a browser; there, gzip goes through DecompressionStream
// (gunzipAsync) and hashing through WebCrypto (sha256HexAsync).

/** A Node built-in module, or undefined outside Node (or before Node 20.16). */
export const nodeBuiltin = <T>(id: string): T | undefined =>
  (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(
    id,
  ) as T | undefined

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
  const zlib = nodeBuiltin<typeof import('node:zlib')>('node:zlib')
  if (zlib === undefined)
    return E.left(
      `${name}: gzip data cannot be decompressed synchronously here; use decodeIdxAsync (DecompressionStream)`,
    )
  try {
    // zlib stops inflating at the limit: a gzip bomb never fills the memory
    const out = zlib.gunzipSync(
      bytes,
      maxOutputBytes === undefined ? {} : { maxOutputLength: maxOutputBytes },
    )
    return E.right(new Uint8Array(out.buffer, out.byteOffset, out.byteLength))
  } catch (e) {
    if (maxOutputBytes !== undefined && e instanceof RangeError)
      return E.left(`${name}: gzip data that inflates to more than ${maxOutputBytes} bytes, refused`)
    return E.left(`${name}: corrupt or truncated gzip data (${e instanceof Error ? e.message : String(e)})`)
  }
}

/** The SHA-256 of `bytes` as 64 lowercase hex digits. */
export const sha256Hex = (bytes: Uint8Array): string => {
  const crypto = nodeBuiltin<typeof import('node:crypto')>('node:crypto')
  if (crypto === undefined) throw new Error('sha256Hex: needs Node (use sha256HexAsync elsewhere)')
  return crypto.createHash('sha256').update(bytes).digest('hex')
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

/** The SHA-256 of `bytes` with WebCrypto (Node and browsers' secure contexts alike). */
export const sha256HexAsync = async (bytes: Uint8Array): Promise<string> =>
  hex(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)))

/**
 * `gunzipIfNeeded` with the Web Streams' DecompressionStream (Node 18+ and current browsers),
 * falling back to Node's zlib where there is no DecompressionStream.
 */
export const gunzipAsync = async (bytes: Uint8Array, name: string): Promise<E.Either<string, Uint8Array>> => {
  if (!isGzip(bytes)) return E.right(bytes)
  if (typeof DecompressionStream !== 'function') return gunzipIfNeeded(bytes, name)
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
      .stream()
      .pipeThrough(new DecompressionStream('gzip'))
    return E.right(new Uint8Array(await new Response(stream).arrayBuffer()))
  } catch (e) {
    return E.left(`${name}: corrupt or truncated gzip data (${e instanceof Error ? e.message : String(e)})`)
  }
}
