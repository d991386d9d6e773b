/**
 * Fused primitives: the dense layer's `denseOp` (`act(x·W + b)` with one VJP), and batch
 * normalization's `moments`, `batchNorm` (given statistics) and `batchNormTrain` (batch
 * statistics, with the classic fused backward pass). The batch-norm ones compute in float64
 * internally and write their float32 output once. Each has its VJP right beside it, and a
 * property test (test/fused.test.ts) checks each against the composition of the primitives.
 */

import { add, div, mul, sqrt, sub } from './arith.js'
import { ShapeError } from './errors.js'
import { columnSumsInto, denseForwardInto, denseGz } from './internal/dense-kernels.js'
import { kernelSet } from './internal/kernel-set.js'
import { expand } from './internal/kernels.js'
import { matmulInto } from './internal/matmul.js'
import { broadcastShapes, fmt, normalizeAxes, sameShape, sizeOf, stridesOf } from './internal/shape.js'
import { gradientBuffer, record } from './internal/tape.js'
import {
  BN_WASM_MIN,
  wasmAffineInto,
  wasmColumnMoments,
  wasmDxInto,
  wasmGradSums,
} from './internal/wasm/batchnorm-run.js'
import { matmul } from './linalg.js'
import { elu as eluOf, leakyRelu as leakyReluOf, relu as reluOf, selu as seluOf } from './nn.js'
import { type Axes, mean as meanOf, variance as varianceOf } from './reduce.js'
import { alloc, allocWritten, buf, fromBuffer, type Tensor } from './tensor.js'

/**
 * The mean and the biased variance of a tensor over some axes, as returned by {@link moments}.
 *
 * @example
 * ```ts
 * import { type Moments, moments, tensor } from '@purenn/tensor'
 * const m: Moments = moments(tensor([1, 3]))
 * console.log(m.mean.item(), m.variance.item()) // 2 1
 * ```
 * @category Normalization
 */
export interface Moments {
  /** `mean(x, axes)`. */
  readonly mean: Tensor
  /** `mean((x − mean)², axes)`: divided by N, not N − 1. */
  readonly variance: Tensor
}

/**
 * What {@link batchNormTrain} returns: the normalized output and the batch statistics it used.
 *
 * @example
 * ```ts
 * import { type BatchNormTrainResult, batchNormTrain, tensor } from '@purenn/tensor'
 * const r: BatchNormTrainResult = batchNormTrain(tensor([[0], [4]]), undefined, undefined, 0, 0)
 * console.log(r.y.toString(), r.mean.item(), r.variance.item()) // tensor([[-1], [1]]) 2 4
 * ```
 * @category Normalization
 */
export interface BatchNormTrainResult {
  /** `gamma·(x − mean)/sqrt(variance + epsilon) + beta`, the shape of `x`. */
  readonly y: Tensor
  /** The batch mean over the reduced axes. */
  readonly mean: Tensor
  /** The biased (1/N) batch variance over the reduced axes. */
  readonly variance: Tensor
}

/**
 * The activations {@link denseOp} fuses: `'linear'` (none), `'relu'` (`max(v, 0)`),
 * `'leakyRelu'` (`v` for v > 0, else `α·v`, α ≥ 0), `'elu'` (`v` for v > 0, else
 * `α·(eᵛ − 1)`, α > 0) and `'selu'` (Klambauer et al.'s constants, as `selu`).
 *
 * @example
 * ```ts
 * import type { DenseActivation } from '@purenn/tensor'
 * const act: DenseActivation = 'relu'
 * console.log(act) // relu
 * ```
 * @category Linear algebra
 */
export type DenseActivation = 'linear' | 'relu' | 'leakyRelu' | 'elu' | 'selu'

// ---------------------------------------------------------------------------------------
// Layout: which kept position each element of x belongs to

/**
 * How the `n` elements of `x` map onto the `k` kept positions (the elements of `keptShape`,
 * which is `x.shape` with 1 on the reduced axes); `count = n / k` elements share each one.
 * When every non-trivial kept axis comes after every non-trivial reduced axis (features
 * last: `[batch, features]`, NHWC with axis −1, per-pixel `[batch, h, w]`), element i
 * belongs to `i mod k` and `index` is undefined; otherwise `index[i]` is its kept position.
 */
interface Layout {
  readonly n: number
  readonly k: number
  readonly count: number
  readonly keptShape: readonly number[]
  readonly index: Int32Array | undefined
}

const layoutOf = (shape: readonly number[], reduced: readonly number[]): Layout => {
  const keptShape = shape.map((d, i) => (reduced.includes(i) ? 1 : d))
  const n = sizeOf(shape)
  const k = sizeOf(keptShape)
  const count = sizeOf(reduced.map((a) => shape[a]!))
  const lastReduced = shape.reduce((p, d, i) => (reduced.includes(i) && d > 1 ? i : p), -1)
  const firstKept = shape.findIndex((d, i) => !reduced.includes(i) && d > 1)
  if (firstKept === -1 || lastReduced < firstKept) return { n, k, count, keptShape, index: undefined }
  const st = stridesOf(keptShape).map((s, i) => (reduced.includes(i) ? 0 : s))
  const index = new Int32Array(n)
  const rank = shape.length
  const idx = new Array<number>(rank).fill(0)
  let o = 0
  for (let i = 0; i < n; i++) {
    index[i] = o
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++
      o += st[d]!
      if (idx[d]! < shape[d]!) break
      o -= st[d]! * shape[d]!
      idx[d] = 0
    }
  }
  return { n, k, count, keptShape, index }
}

// ---------------------------------------------------------------------------------------
// Kernels: float64 accumulation, one float32 rounding at the end
//
// With the kept positions last (no `index`), each loop first offers its work to the
// WebAssembly pass of `internal/wasm/batchnorm.ts` that does the same float64 operations in
// the same order (bitwise the same result), when the kernel set is 'wasm' and x has at least
// BN_WASM_MIN elements; the js loop below it is the reference and the fallback.

const bnWasm = (n: number): boolean => n >= BN_WASM_MIN && kernelSet() === 'wasm'

/** Per kept position: the mean, then the biased variance about it (two passes). */
const statsKernel = (x: Float32Array, L: Layout): { mean: Float64Array; variance: Float64Array } => {
  const { n, k, count, index } = L
  const mean = new Float64Array(k)
  const variance = new Float64Array(k)
  if (index === undefined) {
    if (!(bnWasm(n) && wasmColumnMoments(x, k, count, mean, variance))) {
      for (let i = 0; i < n; ) for (let j = 0; j < k; j++, i++) mean[j]! += x[i]!
      for (let j = 0; j < k; j++) mean[j]! /= count
      for (let i = 0; i < n; )
        for (let j = 0; j < k; j++, i++) {
          const c = x[i]! - mean[j]!
          variance[j]! += c * c
        }
    }
  } else {
    for (let i = 0; i < n; i++) mean[index[i]!]! += x[i]!
    for (let j = 0; j < k; j++) mean[j]! /= count
    for (let i = 0; i < n; i++) {
      const c = x[i]! - mean[index[i]!]!
      variance[index[i]!]! += c * c
    }
  }
  for (let j = 0; j < k; j++) variance[j]! /= count
  return { mean, variance }
}

/** out[i] = (x[i] − shift[j])·a[j] + b[j] for the kept position j of element i. */
const affineKernel = (
  x: Float32Array,
  L: Layout,
  shift: Float64Array,
  a: Float64Array,
  b: Float64Array,
): Float32Array => {
  const { n, k, index } = L
  const out = allocWritten(n)
  if (index === undefined) {
    if (!(bnWasm(n) && wasmAffineInto(x, k, shift, a, b, out)))
      for (let i = 0; i < n; ) for (let j = 0; j < k; j++, i++) out[i] = (x[i]! - shift[j]!) * a[j]! + b[j]!
  } else
    for (let i = 0; i < n; i++) {
      const j = index[i]!
      out[i] = (x[i]! - shift[j]!) * a[j]! + b[j]!
    }
  return out
}

/** Per kept position: `Σ g` and `Σ g·(x − shift)·scale`. */
const gradSumsKernel = (
  g: Float32Array,
  x: Float32Array,
  L: Layout,
  shift: Float64Array,
  scale: Float64Array,
): { sg: Float64Array; sgx: Float64Array } => {
  const { n, k, index } = L
  const sg = new Float64Array(k)
  const sgx = new Float64Array(k)
  if (index === undefined) {
    if (!(bnWasm(n) && wasmGradSums(g, x, k, shift, sg, sgx)))
      for (let i = 0; i < n; )
        for (let j = 0; j < k; j++, i++) {
          const gi = g[i]!
          sg[j]! += gi
          sgx[j]! += gi * (x[i]! - shift[j]!)
        }
  } else
    for (let i = 0; i < n; i++) {
      const j = index[i]!
      const gi = g[i]!
      sg[j]! += gi
      sgx[j]! += gi * (x[i]! - shift[j]!)
    }
  for (let j = 0; j < k; j++) sgx[j]! *= scale[j]!
  return { sg, sgx }
}

/** out[i] = c[j]·(g[i] − m1[j] − (x[i] − shift[j])·m2[j]), or c[j]·g[i] when g is per element. */
const dxKernel = (
  g: Float32Array,
  x: Float32Array,
  L: Layout,
  c: Float64Array,
  m1: Float64Array,
  shift: Float64Array,
  m2: Float64Array,
): Float32Array => {
  const { n, k, index } = L
  const out = allocWritten(n)
  if (index === undefined) {
    if (!(bnWasm(n) && wasmDxInto(g, x, k, c, m1, shift, m2, out)))
      for (let i = 0; i < n; )
        for (let j = 0; j < k; j++, i++) out[i] = c[j]! * (g[i]! - m1[j]! - (x[i]! - shift[j]!) * m2[j]!)
  } else
    for (let i = 0; i < n; i++) {
      const j = index[i]!
      out[i] = c[j]! * (g[i]! - m1[j]! - (x[i]! - shift[j]!) * m2[j]!)
    }
  return out
}

/** A per-kept-position vector as a tensor of shape `like` (same size, same order). */
const keptTensor = (shape: readonly number[], v: Float64Array): Tensor => {
  const out = allocWritten(v.length)
  out.set(v)
  return fromBuffer(shape, out)
}

/** A statistic or parameter, broadcast to the kept shape, as float64 values. */
const keptValues = (op: string, what: string, t: Tensor, L: Layout): Float64Array => {
  let out: number[]
  try {
    out = broadcastShapes(op, t.shape, L.keptShape)
  } catch {
    out = []
  }
  if (!sameShape(out, L.keptShape))
    throw new ShapeError(
      `${op}: ${what} of shape ${fmt(t.shape)} does not broadcast to the kept shape ${fmt(L.keptShape)}`,
    )
  return Float64Array.from(t.size === L.k ? buf(t) : expand(buf(t), t.shape, L.keptShape))
}

/** The gradient of a kept-shape input, in that input's own shape when no broadcasting happened. */
const keptGrad = (t: Tensor, L: Layout, v: Float64Array): Tensor =>
  keptTensor(t.size === L.k ? t.shape : L.keptShape, v)

/** Runs `f` once per distinct cotangent: the VJPs of one op share their reductions. */
const perCotangent = <T>(f: (g: Tensor) => T): ((g: Tensor) => T) => {
  let last: Tensor | undefined
  let value: T | undefined
  return (g) => {
    if (g !== last || value === undefined) {
      value = f(g)
      last = g
    }
    return value
  }
}

const constant = (k: number, v: number): Float64Array => new Float64Array(k).fill(v)

const statShape = (x: Tensor, reduced: readonly number[], keepDims: boolean): number[] =>
  keepDims
    ? x.shape.map((d, i) => (reduced.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !reduced.includes(i))

/** Records the batch mean and variance of x as two differentiable outputs. */
const recordMoments = (
  op: string,
  x: Tensor,
  L: Layout,
  reduced: readonly number[],
  keepDims: boolean,
  mean: Float64Array,
  variance: Float64Array,
): Moments => {
  const shape = statShape(x, reduced, keepDims)
  const xd = buf(x)
  const zeros = constant(L.k, 0)
  const meanData = alloc(L.k)
  meanData.set(mean)
  const varData = alloc(L.k)
  varData.set(variance)
  return {
    // ∂mean/∂xᵢ = 1/N
    mean: record(
      `${op}.mean`,
      shape,
      meanData,
      [x],
      [
        (g) => {
          const gv = Float64Array.from(buf(g), (v) => v / L.count)
          return fromBuffer(x.shape, affineKernel(xd, L, zeros, zeros, gv))
        },
      ],
      (x) => meanOf(x, reduced, keepDims),
    ),
    // ∂var/∂xᵢ = 2(xᵢ − mean)/N (the path through the mean vanishes: Σ(xᵢ − mean) = 0)
    variance: record(
      `${op}.variance`,
      shape,
      varData,
      [x],
      [
        (g) => {
          const gv = Float64Array.from(buf(g), (v) => (2 * v) / L.count)
          return fromBuffer(x.shape, affineKernel(xd, L, mean, gv, zeros))
        },
      ],
      (x) => varianceOf(x, reduced, keepDims),
    ),
  }
}

// ---------------------------------------------------------------------------------------
// Ops

/**
 * Mean and biased variance over `axes` in one fused op (TensorFlow's `tf.nn.moments`).
 *
 * @remarks
 * $\mathrm{mean} = \frac{1}{N} \sum x$, $\mathrm{variance} = \frac{1}{N} \sum (x - \mathrm{mean})^2$ with $N$ the number of reduced
 * elements: the population variance that batch normalization uses (Ioffe & Szegedy 2015,
 * "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate
 * Shift"). Two passes over `x`, accumulated in float64, so there is no cancellation of
 * $\mathbb{E}[x^2] - \mathbb{E}[x]^2$. Both outputs are differentiable: $\partial \mathrm{mean} / \partial x_i = 1/N$,
 * $\partial \mathrm{variance} / \partial x_i = 2(x_i - \mathrm{mean})/N$. Equal, to float32 rounding, to
 * `{ mean: mean(x, axes), variance: variance(x, axes) }`.
 *
 * @param x - the input
 * @param axes - the axes reduced over (all when omitted); negative axes count from the end
 * @param keepDims - keep the reduced axes as size-1 axes (default false)
 * @returns `{ mean, variance }`, each of the shape of `mean(x, axes, keepDims)`
 * @throws ShapeError on a bad or repeated axis.
 * @example
 * ```ts
 * import { moments, tensor } from '@purenn/tensor'
 * const { mean, variance } = moments(tensor([[1, 2], [3, 6]]), 0)
 * console.log(mean.toString(), variance.toString()) // tensor([2, 4]) tensor([1, 4])
 * ```
 * @category Normalization
 */
export const moments = (x: Tensor, axes?: Axes, keepDims = false): Moments => {
  const reduced = normalizeAxes('moments', axes, x.shape)
  const L = layoutOf(x.shape, reduced)
  const { mean, variance } = statsKernel(buf(x), L)
  return recordMoments('moments', x, L, reduced, keepDims, mean, variance)
}

/**
 * Batch normalization with given statistics, fused: $\gamma \, (x - \mathrm{mean}) / \sqrt{\mathrm{variance} + \varepsilon} + \beta$.
 *
 * @remarks
 * The inference form of batch normalization (Ioffe & Szegedy 2015): `mean` and `variance`
 * are fixed (the moving statistics), and so the op is an affine map of `x` per kept
 * position. `mean`, `variance`, `gamma` and `beta` must broadcast to `x` without enlarging
 * it (`[features]` for `[batch, features]`, `[h, w]` or `[1, h, w]` for per-pixel statistics,
 * `[c, 1, 1]` for NCHW channels); axes where all four have size 1 are the normalized ones.
 * `gamma` defaults to 1 and `beta` to 0. Computed in float64 per element, rounded once.
 *
 * VJP, with $\gamma$ = `gamma`, $s = 1/\sqrt{\mathrm{variance} + \varepsilon}$ and sums over the normalized axes:
 *
 * $$
 * \begin{aligned}
 * dx &= g \gamma s, & d\,\mathrm{mean} &= -\gamma s \textstyle\sum g, & d\,\mathrm{variance} &= -\tfrac{1}{2} \gamma s^3 \textstyle\sum g\,(x - \mathrm{mean}), \\
 * d\gamma &= s \textstyle\sum g\,(x - \mathrm{mean}), & d\beta &= \textstyle\sum g.
 * \end{aligned}
 * $$
 *
 * Equal, to float32 rounding, to
 * `add(mul(gamma, div(sub(x, mean), sqrt(add(variance, epsilon)))), beta)`.
 *
 * @param x - the input
 * @param mean - the mean to subtract, broadcastable to `x`
 * @param variance - the variance to divide by (after adding `epsilon` and taking the root)
 * @param gamma - the scale, or `undefined` for 1
 * @param beta - the offset, or `undefined` for 0
 * @param epsilon - added to the variance (default 1e-3, as Keras' `BatchNormalization`)
 * @returns a tensor of the shape of `x`
 * @throws ShapeError when a statistic does not broadcast to `x`.
 * @example
 * ```ts
 * import { batchNorm, tensor } from '@purenn/tensor'
 * const x = tensor([[1, 10], [3, 20]])
 * const y = batchNorm(x, tensor([2, 10]), tensor([1, 4]), tensor([1, 2]), tensor([0, 1]), 0)
 * console.log(y.toString()) // tensor([[-1, 1], [1, 11]])
 * ```
 * @category Normalization
 */
export const batchNorm = (
  x: Tensor,
  mean: Tensor,
  variance: Tensor,
  gamma: Tensor | undefined,
  beta: Tensor | undefined,
  epsilon = 1e-3,
): Tensor => {
  const stats = [mean, variance, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])]
  const rank = x.shape.length
  const kept = new Array<number>(rank).fill(1)
  for (const s of stats) {
    if (s.shape.length > rank || !sameShape(broadcastShapes('batchNorm', x.shape, s.shape), x.shape))
      throw new ShapeError(
        `batchNorm: statistic of shape ${fmt(s.shape)} does not broadcast to x of shape ${fmt(x.shape)}`,
      )
    s.shape.forEach((d, i) => {
      if (d !== 1) kept[rank - s.shape.length + i] = d
    })
  }
  const L = layoutOf(
    x.shape,
    kept.flatMap((d, i) => (d === 1 ? [i] : [])),
  )
  const mu = keptValues('batchNorm', 'mean', mean, L)
  const v = keptValues('batchNorm', 'variance', variance, L)
  const ga = gamma ? keptValues('batchNorm', 'gamma', gamma, L) : constant(L.k, 1)
  const be = beta ? keptValues('batchNorm', 'beta', beta, L) : constant(L.k, 0)
  const s = v.map((vj) => 1 / Math.sqrt(vj + epsilon))
  const a = s.map((sj, j) => sj * ga[j]!)
  const xd = buf(x)
  const zeros = constant(L.k, 0)
  // Σg and s·Σg·(x − mean), shared by the VJPs of mean, variance, gamma and beta
  const sums = perCotangent((g) => gradSumsKernel(buf(g), xd, L, mu, s))
  const vjps = [
    (g: Tensor) => fromBuffer(x.shape, dxKernel(buf(g), xd, L, a, zeros, zeros, zeros)),
    (g: Tensor) =>
      keptGrad(
        mean,
        L,
        sums(g).sg.map((sg, j) => -a[j]! * sg),
      ),
    (g: Tensor) =>
      keptGrad(
        variance,
        L,
        sums(g).sgx.map((sgx, j) => -0.5 * a[j]! * s[j]! * sgx),
      ),
    ...(gamma ? [(g: Tensor) => keptGrad(gamma, L, sums(g).sgx)] : []),
    ...(beta ? [(g: Tensor) => keptGrad(beta, L, sums(g).sg)] : []),
  ]
  // the composition, differentiated instead of the fused VJPs when they are differentiated
  const compose = (x: Tensor, m: Tensor, v: Tensor, ...gb: Tensor[]): Tensor => {
    const ga = gamma ? gb[0]! : undefined
    const bt = beta ? gb[gamma ? 1 : 0]! : undefined
    const xhat = div(sub(x, m), sqrt(add(v, epsilon)))
    const scaled = ga ? mul(xhat, ga) : xhat
    return bt ? add(scaled, bt) : scaled
  }
  return record('batchNorm', x.shape, affineKernel(xd, L, mu, a, be), [x, ...stats], vjps, compose)
}

/**
 * Batch normalization in training mode, fused: normalizes `x` with its own mean and biased
 * variance over `axes`, then scales and shifts, in two passes forward and two backward.
 *
 * @remarks
 * With N the number of elements reduced per kept position (Ioffe & Szegedy 2015, Alg. 1):
 * $\mathrm{mean} = \frac{1}{N} \sum x$, $\mathrm{variance} = \frac{1}{N} \sum (x - \mathrm{mean})^2$,
 * $\sigma = \sqrt{\mathrm{variance} + \varepsilon}$, $\hat{x} = (x - \mathrm{mean})/\sigma$, $y = \gamma \hat{x} + \beta$.
 * The gradient flows through the batch statistics (the classic fused backward formula):
 *
 * $$
 * dx = \frac{\gamma}{N \sigma} \left(N g - \textstyle\sum g - \hat{x} \sum g \hat{x}\right), \qquad
 * d\gamma = \textstyle\sum g \hat{x}, \qquad d\beta = \textstyle\sum g
 * $$
 *
 * The returned `mean` and `variance` are differentiable outputs too (as {@link moments});
 * batch normalization layers detach them before updating their moving averages.
 * Equal, to float32 rounding, to the composition
 * `add(mul(gamma, div(sub(x, mean(x, axes, true)), sqrt(add(variance(x, axes, true), epsilon)))), beta)`.
 *
 * `gamma` and `beta` must broadcast to the kept shape (`x.shape` with 1 on the reduced axes):
 * `[features]` for `[batch, features]` with `axes = 0`, `[h, w]` or `[1, h, w]` for
 * per-pixel statistics on `[batch, h, w]`, `[c, 1, 1]` for NCHW with `axes = [0, 2, 3]`.
 *
 * @param x - the batch
 * @param gamma - the scale, or `undefined` for 1
 * @param beta - the offset, or `undefined` for 0
 * @param axes - the axes reduced over (the batch axis and every other non-feature axis)
 * @param epsilon - added to the variance (default 1e-3, as Keras)
 * @param keepDims - shape of the returned statistics: as `mean(x, axes, keepDims)` (default false)
 * @returns `{ y, mean, variance }`
 * @throws ShapeError on a bad axis, or when `gamma`/`beta` do not broadcast to the kept shape.
 * @example
 * ```ts
 * import { batchNormTrain, tensor } from '@purenn/tensor'
 * const { y, mean, variance } = batchNormTrain(tensor([[1, 10], [3, 30]]), undefined, undefined, 0, 0)
 * console.log(y.toString()) // tensor([[-1, -1], [1, 1]])
 * console.log(mean.toString(), variance.toString()) // tensor([2, 20]) tensor([1, 100])
 * ```
 * @category Normalization
 */
export const batchNormTrain = (
  x: Tensor,
  gamma: Tensor | undefined,
  beta: Tensor | undefined,
  axes: Axes,
  epsilon = 1e-3,
  keepDims = false,
): BatchNormTrainResult => {
  const reduced = normalizeAxes('batchNormTrain', axes, x.shape)
  const L = layoutOf(x.shape, reduced)
  const ga = gamma ? keptValues('batchNormTrain', 'gamma', gamma, L) : constant(L.k, 1)
  const be = beta ? keptValues('batchNormTrain', 'beta', beta, L) : constant(L.k, 0)
  const xd = buf(x)
  const { mean, variance } = statsKernel(xd, L)
  const inv = variance.map((v) => 1 / Math.sqrt(v + epsilon))
  const a = inv.map((s, j) => s * ga[j]!)
  // Σg and Σg·x̂, shared by the VJPs of x, gamma and beta
  const sums = perCotangent((g) => gradSumsKernel(buf(g), xd, L, mean, inv))
  const N = L.count
  const vjps = [
    (g: Tensor) => {
      const { sg, sgx } = sums(g)
      const m1 = sg.map((v) => v / N)
      const m2 = sgx.map((v, j) => (v / N) * inv[j]!)
      return fromBuffer(x.shape, dxKernel(buf(g), xd, L, a, m1, mean, m2))
    },
    ...(gamma ? [(g: Tensor) => keptGrad(gamma, L, sums(g).sgx)] : []),
    ...(beta ? [(g: Tensor) => keptGrad(beta, L, sums(g).sg)] : []),
  ]
  const parents = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])]
  const compose = (x: Tensor, ...gb: Tensor[]): Tensor => {
    const ga = gamma ? gb[0]! : undefined
    const bt = beta ? gb[gamma ? 1 : 0]! : undefined
    const xhat = div(sub(x, meanOf(x, reduced, true)), sqrt(add(varianceOf(x, reduced, true), epsilon)))
    const scaled = ga ? mul(xhat, ga) : xhat
    return bt ? add(scaled, bt) : scaled
  }
  const y = record('batchNormTrain', x.shape, affineKernel(xd, L, mean, a, be), parents, vjps, compose)
  return { y, ...recordMoments('batchNormTrain', x, L, reduced, keepDims, mean, variance) }
}

/**
 * A dense layer's forward pass, fused: `act(x·kernel + bias)` over the last axis of `x`, with
 * one VJP for the three inputs.
 *
 * @remarks
 * With `z = x·W + b` and `y = act(z)`, and `gz = g ⊙ act'(z)`: `dx = gz·Wᵀ`, `dW = xᵀ·gz`,
 * `db = Σ gz` over the rows. `act'` is read off `y` (relu 1 where y > 0; leaky ReLU 1 where
 * y > 0, else α; ELU y + α where y < 0, else 1; SELU y + λα where y < 0, else λ), so no
 * pre-activation is kept. The products run on the matmul kernels (and the worker pool when
 * large), `Wᵀ` read in place; the bias, the activation, `g ⊙ act'` and the bias gradient
 * (summed in float64) are one pass each. With the `'wasm'` kernel set the bias and
 * activation run in the WebAssembly memory right after the product, before it is copied
 * out, and the backward passes on SIMD kernels too: bitwise the js kernels' results given
 * the same product, except `exp` in the negative branch of ELU and SELU (within
 * $4\alpha\cdot 2^{-23}$). Leading axes of `x` are rows: `x` of shape `[..., n]`, `kernel`
 * `[n, units]`, `bias` `[units]`, result `[..., units]`. Equal to the composition
 * `act(add(matmul(x, kernel), bias))` with the activations of this package: bitwise for a
 * 2-D `x` with the js kernels in value and gradient; for more axes `dW` sums all rows at once,
 * so it can differ by float32 rounding from the composition's per-matrix sums. Second
 * derivatives differentiate that composition.
 *
 * @param x - the input, at least 2 axes (rows, features)
 * @param kernel - the weights `[features, units]`
 * @param bias - the offset `[units]`, or `undefined` for none
 * @param activation - `'linear'` (default), `'relu'`, `'leakyRelu'`, `'elu'` or `'selu'`
 * @param alpha - α of `'leakyRelu'` (default 0.2, at least 0) and `'elu'` (default 1, above 0)
 * @returns a tensor of shape `[...x.shape.slice(0, -1), units]`
 * @throws ShapeError when the shapes do not fit, e.g.
 * `denseOp: x [32,784] does not fit kernel [300,100]`; TypeError for an unknown activation;
 * RangeError for an α out of range.
 * @example
 * ```ts
 * import { denseOp, tensor } from '@purenn/tensor'
 * const x = tensor([[1, 2], [3, 4]])
 * const w = tensor([[1, -1], [0, 1]])
 * console.log(denseOp(x, w, tensor([0, -2]), 'relu').toString()) // tensor([[1, 0], [3, 0]])
 * console.log(denseOp(x, w, tensor([0, -2]), 'leakyRelu', 0.5).toString()) // tensor([[1, -0.5], [3, -0.5]])
 * ```
 * @category Linear algebra
 */
export const denseOp = (
  x: Tensor,
  kernel: Tensor,
  bias: Tensor | undefined,
  activation: DenseActivation = 'linear',
  alpha?: number,
): Tensor => {
  const r = x.shape.length
  const [K, N] = kernel.shape as [number, number]
  if (r < 2 || kernel.shape.length !== 2 || x.shape[r - 1] !== K)
    throw new ShapeError(`denseOp: x ${fmt(x.shape)} does not fit kernel ${fmt(kernel.shape)}`)
  if (bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== N))
    throw new ShapeError(`denseOp: bias ${fmt(bias.shape)} does not fit kernel ${fmt(kernel.shape)}`)
  if (!DENSE_ACTIVATIONS.includes(activation))
    throw new TypeError(
      `denseOp: activation must be one of ${DENSE_ACTIVATIONS.map((a) => `'${a}'`).join(', ')}, got ${String(activation)}`,
    )
  const a = alpha ?? (activation === 'leakyRelu' ? 0.2 : 1)
  if (
    typeof a !== 'number' ||
    !Number.isFinite(a) ||
    (activation === 'leakyRelu' && a < 0) ||
    (activation === 'elu' && a <= 0)
  )
    throw new RangeError(
      `denseOp: alpha of '${activation}' must be a finite number ${activation === 'elu' ? 'above 0' : 'of at least 0'}, got ${String(alpha)}`,
    )
  const M = sizeOf(x.shape.slice(0, -1))
  const out = allocWritten(M * N)
  denseForwardInto(
    buf(x),
    buf(kernel),
    bias === undefined ? undefined : buf(bias),
    out,
    M,
    K,
    N,
    activation,
    a,
  )
  // g ⊙ act'(z), shared by the three VJPs, read off y
  const gz = perCotangent((g: Tensor): Float32Array => denseGz(buf(g), out, activation, a))
  const vjps = [
    (g: Tensor) => {
      const dx = allocWritten(M * K)
      matmulInto(gz(g), 0, buf(kernel), 0, dx, 0, M, N, K, true)
      return fromBuffer(x.shape, dx)
    },
    (g: Tensor) => {
      // the kernel's gradient, when the trainer asked for it so, in a buffer it frees after its step
      const dw = gradientBuffer(kernel, K * N)
      matmulInto(buf(x), 0, gz(g), 0, dw, 0, K, M, N, false, true)
      return fromBuffer(kernel.shape, dw)
    },
    ...(bias === undefined
      ? []
      : [
          (g: Tensor) => {
            const db = alloc(N)
            columnSumsInto(gz(g), db, M, N)
            return fromBuffer(bias.shape, db)
          },
        ]),
  ]
  const parents = bias === undefined ? [x, kernel] : [x, kernel, bias]
  const compose = (x: Tensor, kernel: Tensor, bias?: Tensor): Tensor => {
    const z = bias === undefined ? matmul(x, kernel) : add(matmul(x, kernel), bias)
    switch (activation) {
      case 'linear':
        return z
      case 'relu':
        return reluOf(z)
      case 'leakyRelu':
        return leakyReluOf(z, a)
      case 'elu':
        return eluOf(z, a)
      case 'selu':
        return seluOf(z)
    }
  }
  return record('denseOp', [...x.shape.slice(0, -1), N], out, parents, vjps, compose)
}

const DENSE_ACTIVATIONS: readonly DenseActivation[] = ['linear', 'relu', 'leakyRelu', 'elu', 'selu']
