/**
 * The Threefry-2x32 block function (Salmon, Moraes, Dror & Shaw 2011, "Parallel random numbers:
 * as easy as 1, 2, 3"), 20 rounds, exactly as JAX's `threefry2x32_p`, and the dropout loop
 * built on it, which the worker pool runs on large inputs. Not exported from the package.
 */

import type { PoolKernel } from './pool.js'

/** Rotation constants of Threefry-2x32, used in two alternating groups of four rounds. */
const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const

/** Skein's key-schedule parity constant. */
const PARITY = 0x1bd11bda

/**
 * Encrypts the counter `(x0, x1)` under the key `(k0, k1)` and writes the two output words,
 * as uint32, to `out[at]` and `out[at + 1]`.
 *
 * @remarks
 * Key schedule `ks = [k0, k1, k0 ^ k1 ^ 0x1BD11BDA]`; `x += (ks0, ks1)`; then five groups of four
 * rounds `x0 += x1; x1 = rotl(x1, r) ^ x0`, after group g injecting `(ks[g mod 3], ks[(g+1) mod 3] + g)`.
 * All arithmetic is modulo 2³² (`| 0` keeps values int32; `>>> 0` reads them as uint32).
 */
export const threefryInto = (
  k0: number,
  k1: number,
  x0: number,
  x1: number,
  out: Uint32Array,
  at: number,
): void => {
  const ks0 = k0 | 0
  const ks1 = k1 | 0
  const ks2 = ks0 ^ ks1 ^ PARITY
  let a = (x0 + ks0) | 0
  let b = (x1 + ks1) | 0
  for (let g = 1; g <= 5; g++) {
    const base = (g - 1) % 2 === 0 ? 0 : 4
    for (let j = 0; j < 4; j++) {
      const r = ROTATIONS[base + j]!
      a = (a + b) | 0
      b = ((b << r) | (b >>> (32 - r))) ^ a
    }
    const m = g % 3
    a = (a + (m === 0 ? ks0 : m === 1 ? ks1 : ks2)) | 0
    b = (b + (m === 0 ? ks1 : m === 1 ? ks2 : ks0) + g) | 0
  }
  out[at] = a
  out[at + 1] = b
}

/**
 * Threefry-2x32 with 20 rounds: the pseudorandom permutation of a 64-bit counter under a 64-bit key.
 *
 * @remarks
 * Same function as JAX's `jax._src.prng.threefry_2x32` on one counter pair, and as Random123's
 * `threefry2x32` (its known-answer vectors are in the tests).
 *
 * @param key - the two key words (uint32; other numbers are taken modulo 2³²)
 * @param count - the two counter words
 * @returns the two output words, as uint32
 */
export const threefry2x32 = (
  key: readonly [number, number],
  count: readonly [number, number],
): [number, number] => {
  const out = new Uint32Array(2)
  threefryInto(key[0], key[1], count[0], count[1], out, 0)
  return [out[0]!, out[1]!]
}

/**
 * `y0 ^ y1` for `(y0, y1) = threefry2x32((k0, k1), (x0, x1))`, as a uint32: the 32 random
 * bits JAX's partitionable `random_bits` makes of one counter.
 *
 * @remarks
 * The same rounds as {@link threefryInto}, unrolled with the rotation constants inline and
 * no output array: this is the inner loop of every sampler (uniform, normal, bernoulli,
 * dropout masks), about twice as fast as the loop form. Self-contained (the parity constant
 * written out), so the worker pool can ship its source text.
 */
export const threefryXor = (k0: number, k1: number, x0: number, x1: number): number => {
  const ks0 = k0 | 0
  const ks1 = k1 | 0
  const ks2 = ks0 ^ ks1 ^ 0x1bd11bda
  let a = (x0 + ks0) | 0
  let b = (x1 + ks1) | 0
  a = (a + b) | 0
  b = ((b << 13) | (b >>> 19)) ^ a
  a = (a + b) | 0
  b = ((b << 15) | (b >>> 17)) ^ a
  a = (a + b) | 0
  b = ((b << 26) | (b >>> 6)) ^ a
  a = (a + b) | 0
  b = ((b << 6) | (b >>> 26)) ^ a
  a = (a + ks1) | 0
  b = (b + ks2 + 1) | 0
  a = (a + b) | 0
  b = ((b << 17) | (b >>> 15)) ^ a
  a = (a + b) | 0
  b = ((b << 29) | (b >>> 3)) ^ a
  a = (a + b) | 0
  b = ((b << 16) | (b >>> 16)) ^ a
  a = (a + b) | 0
  b = ((b << 24) | (b >>> 8)) ^ a
  a = (a + ks2) | 0
  b = (b + ks0 + 2) | 0
  a = (a + b) | 0
  b = ((b << 13) | (b >>> 19)) ^ a
  a = (a + b) | 0
  b = ((b << 15) | (b >>> 17)) ^ a
  a = (a + b) | 0
  b = ((b << 26) | (b >>> 6)) ^ a
  a = (a + b) | 0
  b = ((b << 6) | (b >>> 26)) ^ a
  a = (a + ks0) | 0
  b = (b + ks1 + 3) | 0
  a = (a + b) | 0
  b = ((b << 17) | (b >>> 15)) ^ a
  a = (a + b) | 0
  b = ((b << 29) | (b >>> 3)) ^ a
  a = (a + b) | 0
  b = ((b << 16) | (b >>> 16)) ^ a
  a = (a + b) | 0
  b = ((b << 24) | (b >>> 8)) ^ a
  a = (a + ks1) | 0
  b = (b + ks2 + 4) | 0
  a = (a + b) | 0
  b = ((b << 13) | (b >>> 19)) ^ a
  a = (a + b) | 0
  b = ((b << 15) | (b >>> 17)) ^ a
  a = (a + b) | 0
  b = ((b << 26) | (b >>> 6)) ^ a
  a = (a + b) | 0
  b = ((b << 6) | (b >>> 26)) ^ a
  a = (a + ks2) | 0
  b = (b + ks0 + 5) | 0
  return (a ^ b) >>> 0
}

/**
 * Elements [i0, i1) of inverted dropout: `mask[i] = scale` where element i's random bits
 * (`threefryXor(k0, k1, hi(i), lo(i))`) are below `below`, else 0, and `out[i] = x[i]·mask[i]`.
 * Each element depends only on the key and its index, so any split into ranges gives the
 * same bits. Self-contained but for `threefryXor`, which the worker pool ships with it.
 */
export const dropoutRange = (
  k0: number,
  k1: number,
  below: number,
  scale: number,
  x: Float32Array,
  out: Float32Array,
  mask: Float32Array,
  i0: number,
  i1: number,
): void => {
  for (let i = i0; i < i1; i++) {
    const hi = i < 0x100000000 ? 0 : Math.floor(i / 0x100000000)
    const m = threefryXor(k0, k1, hi, i) < below ? scale : 0
    mask[i] = m
    // x·0 (not a plain 0) where dropped, as the product with a 0/1 mask gives: −0, NaN for ±∞
    out[i] = x[i]! * m
  }
}

/** The arguments of one pooled dropout: the key and threshold, buffers on shared memory, sizes. */
type DropoutArgs = readonly [
  k0: number,
  k1: number,
  below: number,
  scale: number,
  x: Float32Array,
  out: Float32Array,
  mask: Float32Array,
  n: number,
  perChunk: number,
]

/** One chunk of a pooled dropout. Self-contained but for the parts the pool ships with it. */
const dropoutChunk = (args: DropoutArgs, chunk: number): void => {
  const [k0, k1, below, scale, x, out, mask, n, per] = args
  const i0 = chunk * per
  dropoutRange(k0, k1, below, scale, x, out, mask, i0, Math.min(n, i0 + per))
}

/** The pooled dropout, for `runChunks` (same-module parts, so the shipped text is self-contained). */
export const dropoutKernel: PoolKernel<DropoutArgs> = {
  name: 'dropout',
  parts: [
    ['threefryXor', threefryXor],
    ['dropoutRange', dropoutRange],
    ['dropoutChunk', dropoutChunk],
  ],
  entry: dropoutChunk,
}

/**
 * Counter-based random bits: `bits[i] = y0 ^ y1` with `(y0, y1) = threefry(key, (hi(i), lo(i)))`,
 * the high and low 32-bit words of the index `i`, for `i` in `[0, n)`.
 *
 * @remarks
 * This is JAX's partitionable `random_bits` for 32-bit outputs (`jax_threefry_partitionable`,
 * the default since JAX 0.5.0): element `i` depends only on the key and `i`, never on `n`.
 */
export const counterBits = (k0: number, k1: number, n: number): Uint32Array => {
  const bits = new Uint32Array(n)
  for (let i = 0; i < n; i++) bits[i] = threefryXor(k0, k1, Math.floor(i / 0x100000000), i)
  return bits
}
