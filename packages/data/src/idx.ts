import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { DataError } from './errors.js'
import { gunzipAsync, gunzipIfNeeded, nodeBuiltin } from './internal/bytes.js'

/**
 * The typed array that holds the elements of each IDX element type.
 *
 * @remarks
 * IDX stores multi-byte elements big-endian; decoded arrays are in the machine's order.
 *
 * @category IDX
 */
export interface IdxTypedArrays {
  /** Type code `0x08`: unsigned byte (MNIST and Fashion-MNIST images and labels). */
  readonly uint8: Uint8Array
  /** Type code `0x09`: signed byte. */
  readonly int8: Int8Array
  /** Type code `0x0B`: 16-bit signed integer. */
  readonly int16: Int16Array
  /** Type code `0x0C`: 32-bit signed integer. */
  readonly int32: Int32Array
  /** Type code `0x0D`: 32-bit float. */
  readonly float32: Float32Array
  /** Type code `0x0E`: 64-bit float. */
  readonly float64: Float64Array
}

/**
 * The name of an IDX element type: one of the six the format defines.
 *
 * @category IDX
 */
export type IdxType = keyof IdxTypedArrays

/**
 * A decoded IDX file: its element type, its shape (outermost axis first) and its elements
 * in row-major order, in the typed array that matches the type.
 *
 * @remarks
 * The union is discriminated by `type`, so checking `a.type === 'uint8'` narrows `a.data`
 * to a `Uint8Array`.
 *
 * @example
 * ```ts
 * import { decodeIdx, encodeIdx } from '@purenn/data'
 * const bytes = encodeIdx({ type: 'uint8', shape: [2, 2], data: new Uint8Array([0, 64, 128, 255]) })
 * const a = decodeIdx(bytes, 'example')
 * if (a._tag === 'Right' && a.right.type === 'uint8') console.log(a.right.shape, a.right.data[3]) // [ 2, 2 ] 255
 * ```
 * @category IDX
 */
export type IdxArray = {
  readonly [T in IdxType]: {
    /** The element type. */
    readonly type: T
    /** The length of each axis, outermost first (`[]` for a scalar). */
    readonly shape: readonly number[]
    /** The elements in row-major order. */
    readonly data: IdxTypedArrays[T]
  }
}[IdxType]

/**
 * Options of {@link encodeIdx}.
 *
 * @category IDX
 */
export interface EncodeIdxOptions {
  /** Compress the result with gzip, as the official MNIST and Fashion-MNIST files are (default `false`). */
  readonly gzip?: boolean
}

interface TypeInfo {
  readonly code: number
  readonly bytes: number
  readonly ctor: (new (n: number) => IdxTypedArrays[IdxType]) & { readonly BYTES_PER_ELEMENT: number }
  readonly read: (view: DataView, offset: number) => number
  readonly write: (view: DataView, offset: number, value: number) => void
}

/**
 * A row of the table: the element size is the typed array's, and the accessors are DataView's
 * big-endian getter and setter for the type.
 */
const row = (
  code: number,
  ctor: TypeInfo['ctor'],
  get: (this: DataView, offset: number) => number,
  set: (this: DataView, offset: number, value: number) => void,
): TypeInfo => ({
  code,
  bytes: ctor.BYTES_PER_ELEMENT,
  ctor,
  read: (view, offset) => get.call(view, offset),
  write: (view, offset, value) => set.call(view, offset, value),
})

const dv = DataView.prototype
const types: { readonly [T in IdxType]: TypeInfo } = {
  uint8: row(0x08, Uint8Array, dv.getUint8, dv.setUint8),
  int8: row(0x09, Int8Array, dv.getInt8, dv.setInt8),
  int16: row(0x0b, Int16Array, dv.getInt16, dv.setInt16),
  int32: row(0x0c, Int32Array, dv.getInt32, dv.setInt32),
  float32: row(0x0d, Float32Array, dv.getFloat32, dv.setFloat32),
  float64: row(0x0e, Float64Array, dv.getFloat64, dv.setFloat64),
}

const typeNames = Object.keys(types) as IdxType[]
const typeOfCode = (code: number): IdxType | undefined => typeNames.find((t) => types[t].code === code)
const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`
const supported = typeNames.map((t) => `${hex(types[t].code)} ${t}`).join(', ')

/** What the header of an IDX file says, before its payload is read. */
interface IdxHeader {
  readonly type: IdxType
  readonly shape: readonly number[]
  /** Where the payload starts: 4 + 4 × rank. */
  readonly offset: number
}

const parseHeader = (bytes: Uint8Array, name: string): E.Either<string, IdxHeader> => {
  if (bytes.length < 4)
    return E.left(
      `${name}: truncated: the file has ${bytes.length} bytes, fewer than the 4 of an IDX magic number`,
    )
  const [b0, b1, code, rank] = [bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!]
  if (b0 !== 0 || b1 !== 0)
    return E.left(
      `${name}: not an IDX file: wrong magic number ${[b0, b1, code, rank].map(hex).join(' ')} ` +
        '(an IDX file starts with 0x00 0x00, a type byte and the number of dimensions)',
    )
  const type = typeOfCode(code)
  if (type === undefined)
    return E.left(`${name}: unsupported IDX element type ${hex(code)} (supported: ${supported})`)
  const offset = 4 + 4 * rank
  if (bytes.length < offset)
    return E.left(
      `${name}: truncated: the header declares ${rank} dimensions (${offset} header bytes) but the file has ${bytes.length} bytes`,
    )
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i))
  return E.right({ type, shape, offset })
}

const checkLength = (bytes: Uint8Array, name: string, h: IdxHeader): E.Either<string, IdxHeader> => {
  const count = h.shape.reduce((a, b) => a * b, 1)
  const expected = h.offset + count * types[h.type].bytes
  if (bytes.length === expected) return E.right(h)
  const what = `header says ${h.shape.length === 0 ? 'a scalar' : h.shape.join('x')} ${h.type} items (${expected} bytes)`
  return E.left(
    bytes.length < expected
      ? `${name}: truncated: ${what} but the file has ${bytes.length} bytes`
      : `${name}: ${bytes.length - expected} trailing bytes: ${what} but the file has ${bytes.length} bytes`,
  )
}

const readPayload = (bytes: Uint8Array, h: IdxHeader): IdxArray => {
  const info = types[h.type]
  const n = (bytes.length - h.offset) / info.bytes
  if (info.bytes === 1) {
    const copy = new Uint8Array(bytes.subarray(h.offset)) // a copy, and never a Buffer
    const data = h.type === 'uint8' ? copy : new Int8Array(copy.buffer, copy.byteOffset, copy.length)
    return { type: h.type, shape: h.shape, data } as IdxArray
  }
  const data = new info.ctor(n)
  const view = new DataView(bytes.buffer, bytes.byteOffset + h.offset, n * info.bytes)
  for (let i = 0; i < n; i++) data[i] = info.read(view, i * info.bytes)
  return { type: h.type, shape: h.shape, data } as IdxArray
}

/**
 * Decodes the bytes of an IDX file, plain or gzip-compressed, into an {@link IdxArray}.
 *
 * @remarks
 * IDX is the format of MNIST and Fashion-MNIST: a magic number `00 00 TT DD` (element type
 * `TT`, number of dimensions `DD`), `DD` big-endian 32-bit dimension lengths, then the
 * elements, row-major and big-endian. gzip data is recognised by its `1f 8b` magic number and
 * decompressed first. The decoder checks the magic number, the element type, the header length
 * and that the payload has exactly the length the header announces. Nothing is thrown: every
 * problem is a `Left` whose message starts with `name` and says what was wrong, e.g.
 * `t10k-labels-idx1-ubyte.gz: truncated: header says 10000 uint8 items (10008 bytes) but the file has 5000 bytes`.
 * The result owns its data: it shares no memory with `bytes`.
 *
 * @param bytes - the content of the file
 * @param name - the file's name, used in error messages
 * @returns the decoded array, or a message saying what is wrong with the file
 * @example
 * ```ts
 * import { decodeIdx, encodeIdx } from '@purenn/data'
 * const bytes = encodeIdx({ type: 'uint8', shape: [3], data: new Uint8Array([7, 2, 1]) }, { gzip: true })
 * const ok = decodeIdx(bytes, 'labels.gz')
 * console.log(ok._tag === 'Right' && ok.right.shape) // [ 3 ]
 * const bad = decodeIdx(bytes.subarray(0, 10), 'labels.gz')
 * console.log(bad._tag === 'Left' && bad.left) // labels.gz: corrupt or truncated gzip data (unexpected end of file)
 * ```
 * @category IDX
 */
export const decodeIdx = (bytes: Uint8Array, name: string): E.Either<string, IdxArray> =>
  pipe(
    gunzipIfNeeded(bytes, name),
    E.chain((raw) =>
      pipe(
        parseHeader(raw, name),
        E.chain((h) => checkLength(raw, name, h)),
        E.map((h) => readPayload(raw, h)),
      ),
    ),
  )

/**
 * {@link decodeIdx} for any runtime: gzip data is decompressed with the Web Streams'
 * `DecompressionStream` (Node 18+ and current browsers) instead of Node's zlib, so it works
 * in a browser on the official `.gz` files as fetched.
 *
 * @param bytes - the content of the file
 * @param name - the file's name, used in error messages
 * @returns the decoded array, or a message saying what is wrong with the file
 * @example
 * ```ts
 * import { decodeIdxAsync, encodeIdx } from '@purenn/data'
 * const bytes = encodeIdx({ type: 'uint8', shape: [3], data: new Uint8Array([7, 2, 1]) }, { gzip: true })
 * const ok = await decodeIdxAsync(bytes, 'labels.gz')
 * console.log(ok._tag === 'Right' && ok.right.data) // Uint8Array(3) [ 7, 2, 1 ]
 * const bad = await decodeIdxAsync(bytes.subarray(0, 10), 'labels.gz')
 * console.log(bad._tag === 'Left' && bad.left.startsWith('labels.gz: corrupt or truncated gzip data')) // true
 * ```
 * @category IDX
 */
export const decodeIdxAsync = async (bytes: Uint8Array, name: string): Promise<E.Either<string, IdxArray>> =>
  pipe(
    await gunzipAsync(bytes, name),
    E.chain((raw) =>
      pipe(
        parseHeader(raw, name),
        E.chain((h) => checkLength(raw, name, h)),
        E.map((h) => readPayload(raw, h)),
      ),
    ),
  )

/**
 * Encodes an array as the bytes of an IDX file, optionally gzip-compressed: the inverse of
 * {@link decodeIdx}.
 *
 * @remarks
 * Useful to write datasets in the MNIST format and to make small test files. Elements are
 * written big-endian, as the format requires.
 *
 * @param array - the element type, shape and row-major elements; `data.length` must be the
 *   product of `shape`, and `data` the typed array of `type`
 * @param options - `gzip: true` compresses the result
 * @returns the bytes of the file
 * @throws RangeError when the shape has more than 255 axes, an axis length is not an integer
 *   in [0, 2³²), `data` has the wrong length, or `data` is not the typed array of `type`.
 * @example
 * ```ts
 * import { encodeIdx } from '@purenn/data'
 * const bytes = encodeIdx({ type: 'uint8', shape: [2], data: new Uint8Array([1, 2]) })
 * console.log(Array.from(bytes).join(' ')) // 0 0 8 1 0 0 0 2 1 2
 * ```
 * @category IDX
 */
export const encodeIdx = (array: IdxArray, options: EncodeIdxOptions = {}): Uint8Array => {
  const { type, shape, data } = array
  const info = types[type]
  if (info === undefined) throw new RangeError(`encodeIdx: unknown IDX element type '${String(type)}'`)
  if (shape.length > 255)
    throw new RangeError(`encodeIdx: IDX allows at most 255 axes, the shape has ${shape.length}`)
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff)
      throw new RangeError(
        `encodeIdx: axis lengths must be integers in [0, 2^32), got shape [${shape.join(',')}]`,
      )
  if (!(data instanceof info.ctor))
    throw new RangeError(
      `encodeIdx: type '${type}' needs its data in a ${info.ctor.name}, got ${data.constructor.name}`,
    )
  const count = shape.reduce((a, b) => a * b, 1)
  if (data.length !== count)
    throw new RangeError(
      `encodeIdx: shape [${shape.join(',')}] holds ${count} elements but data has ${data.length}`,
    )
  const offset = 4 + 4 * shape.length
  const out = new Uint8Array(offset + count * info.bytes)
  const view = new DataView(out.buffer)
  out[2] = info.code
  out[3] = shape.length
  shape.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d)
  })
  if (info.bytes === 1) out.set(new Uint8Array(data.buffer, data.byteOffset, data.length), offset)
  else for (let i = 0; i < count; i++) info.write(view, offset + i * info.bytes, data[i]!)
  if (options.gzip !== true) return out
  const zlib = nodeBuiltin<typeof import('node:zlib')>('node:zlib')
  if (zlib === undefined)
    throw new DataError('encodeIdx: gzip needs Node here (or compress with CompressionStream)')
  const gz = zlib.gzipSync(out)
  return new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength)
}
