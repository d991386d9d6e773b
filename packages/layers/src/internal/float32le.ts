// Weights are stored as little-endian float32 in every format purenn reads and writes (its own,
// TF.js's, Keras' through TF.js's), whatever the host: the byte order in one place for the
// loaders and savers of modelFormat.ts, save.ts and tfjs.ts. Not exported from the package.
import { type Tensor, tensor } from '@purenn/tensor'

/** Whether this host stores numbers little-endian (every common one does). */
export const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** Reverses each group of 4 bytes in place (only needed on big-endian hosts). */
export const swap32 = (bytes: Uint8Array): void => {
  for (let i = 0; i < bytes.length; i += 4) {
    const [a, b, c, d] = [bytes[i]!, bytes[i + 1]!, bytes[i + 2]!, bytes[i + 3]!]
    bytes[i] = d
    bytes[i + 1] = c
    bytes[i + 2] = b
    bytes[i + 3] = a
  }
}

/** The float32 tensor at `offset` of little-endian bytes, copied to an aligned buffer of its own. */
export const tensorAt = (bytes: Uint8Array, offset: number, shape: readonly number[]): Tensor => {
  const size = shape.reduce((p, d) => p * d, 1)
  // a fresh, aligned copy (Buffer#slice would share the file's memory, at any alignment)
  const copy = new Uint8Array(bytes.subarray(offset, offset + 4 * size))
  if (!hostIsLittleEndian) swap32(copy)
  return tensor(new Float32Array(copy.buffer, 0, size), shape)
}
