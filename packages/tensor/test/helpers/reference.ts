/**
 * An independent float64 reference implementation of the tensor ops, for the tests: plain
 * loops over `Float64Array` and `Math` functions, with its own broadcasting and index
 * helpers. It never calls the code under test, so a bug there cannot hide in both sides.
 */

/** A float64 array with a shape, row-major. */
export interface Ref {
  readonly shape: readonly number[]
  readonly data: Float64Array
}

export const ref = (shape: readonly number[], data: ArrayLike<number>): Ref => ({
  shape: [...shape],
  data: Float64Array.from(data),
})

export const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1)

/** Multi-index of flat position `i` in `shape`. */
export const unravel = (i: number, shape: readonly number[]): number[] => {
  const idx = new Array<number>(shape.length).fill(0)
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!
    idx[d] = i % n
    i = Math.floor(i / n)
  }
  return idx
}

/** Flat position of a multi-index in `shape`. */
export const ravel = (idx: readonly number[], shape: readonly number[]): number => {
  let p = 0
  for (let d = 0; d < shape.length; d++) p = p * shape[d]! + idx[d]!
  return p
}

/** NumPy broadcasting of shapes (null when they do not broadcast). */
export const broadcastShape = (...shapes: (readonly number[])[]): number[] | null => {
  const n = Math.max(0, ...shapes.map((s) => s.length))
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    let d = 1
    for (const s of shapes) {
      const k = s[s.length - n + i] ?? 1
      if (k !== 1) {
        if (d !== 1 && d !== k) return null
        d = k
      }
    }
    out.push(d)
  }
  return out
}

/** The flat position in `inShape` read by output multi-index `outIdx` under broadcasting. */
export const broadcastIndex = (outIdx: readonly number[], inShape: readonly number[]): number => {
  const off = outIdx.length - inShape.length
  let p = 0
  for (let d = 0; d < inShape.length; d++) p = p * inShape[d]! + (inShape[d] === 1 ? 0 : outIdx[d + off]!)
  return p
}

const mustBroadcast = (...shapes: (readonly number[])[]): number[] => {
  const s = broadcastShape(...shapes)
  if (s === null) throw new Error(`reference: shapes do not broadcast: ${JSON.stringify(shapes)}`)
  return s
}

/** Elementwise f over one array. */
export const map1 = (x: Ref, f: (v: number) => number): Ref => ({ shape: [...x.shape], data: x.data.map(f) })

/** Elementwise f over any number of broadcast arrays. */
export const mapN = (xs: readonly Ref[], f: (...v: number[]) => number): Ref => {
  const shape = mustBroadcast(...xs.map((x) => x.shape))
  const n = size(shape)
  const data = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape)
    data[i] = f(...xs.map((x) => x.data[broadcastIndex(idx, x.shape)]!))
  }
  return { shape, data }
}

export const broadcastTo = (x: Ref, shape: readonly number[]): Ref =>
  mapN([x, ref(shape, new Float64Array(size(shape)))], (v) => v)

/** Normalized, sorted axes (all when undefined). */
export const axesOf = (axes: number | readonly number[] | undefined, rank: number): number[] => {
  const list =
    axes === undefined ? Array.from({ length: rank }, (_, i) => i) : typeof axes === 'number' ? [axes] : axes
  return list.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b)
}

/**
 * Reduces the groups of elements that share their indices off `axes` with `f`, which gets
 * the group's values in row-major order.
 */
export const reduceGroups = (
  x: Ref,
  axes: number | readonly number[] | undefined,
  keepDims: boolean,
  f: (values: number[]) => number,
): Ref => {
  const ax = axesOf(axes, x.shape.length)
  const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d))
  const groups: number[][] = Array.from({ length: size(kept) }, () => [])
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, d) => (ax.includes(d) ? 0 : v))
    groups[ravel(idx, kept)]!.push(x.data[i]!)
  }
  const shape = keepDims ? kept : x.shape.filter((_, i) => !ax.includes(i))
  return { shape, data: Float64Array.from(groups, f) }
}

/** The smallest gap between the largest (or smallest) value of any group and the runner-up. */
export const extremumGap = (
  x: Ref,
  axes: number | readonly number[] | undefined,
  which: 'max' | 'min',
): number => {
  let gap = Infinity
  reduceGroups(x, axes, false, (vs) => {
    const s = [...vs].sort((a, b) => (which === 'max' ? b - a : a - b))
    if (s.length > 1) gap = Math.min(gap, Math.abs(s[0]! - s[1]!))
    return 0
  })
  return gap
}

export const sum = (vs: number[]): number => vs.reduce((s, v) => s + v, 0)
export const mean = (vs: number[]): number => sum(vs) / vs.length
export const variance = (vs: number[]): number => {
  const m = mean(vs)
  return mean(vs.map((v) => (v - m) ** 2))
}

/** Swaps the last two axes. */
const swapLast = (x: Ref): Ref => {
  const r = x.shape.length
  return transpose(
    x,
    x.shape.map((_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i)),
  )
}

/** op(A)·op(B) over the last two axes, batch axes broadcast; plain triple loop. */
export const matmul = (a: Ref, b: Ref, transposeA = false, transposeB = false): Ref => {
  const A = transposeA ? swapLast(a) : a
  const B = transposeB ? swapLast(b) : b
  const [M, K] = A.shape.slice(-2) as [number, number]
  const N = B.shape.at(-1)!
  const aBatch = A.shape.slice(0, -2)
  const bBatch = B.shape.slice(0, -2)
  const batch = mustBroadcast(aBatch, bBatch)
  const shape = [...batch, M, N]
  const data = new Float64Array(size(shape))
  for (let bi = 0; bi < size(batch); bi++) {
    const idx = unravel(bi, batch)
    const ao = broadcastIndex(idx, aBatch) * M * K
    const bo = broadcastIndex(idx, bBatch) * K * N
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0
        for (let k = 0; k < K; k++) s += A.data[ao + i * K + k]! * B.data[bo + k * N + j]!
        data[(bi * M + i) * N + j] = s
      }
  }
  return { shape, data }
}

/** Output axis i is input axis perm[i]. */
export const transpose = (x: Ref, perm: readonly number[]): Ref => {
  const shape = perm.map((p) => x.shape[p]!)
  const data = new Float64Array(x.data.length)
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape)
    const src = new Array<number>(perm.length)
    perm.forEach((p, d) => {
      src[p] = idx[d]!
    })
    data[i] = x.data[ravel(src, x.shape)]!
  }
  return { shape, data }
}

export const reshape = (x: Ref, shape: readonly number[]): Ref => ({
  shape: [...shape],
  data: x.data.slice(),
})

export const slice = (x: Ref, begin: readonly number[], sz: readonly number[]): Ref => {
  const data = new Float64Array(size(sz))
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, sz).map((v, d) => v + begin[d]!)
    data[i] = x.data[ravel(idx, x.shape)]!
  }
  return { shape: [...sz], data }
}

export const gather = (x: Ref, indices: readonly number[], axis: number): Ref => {
  const shape = x.shape.map((d, i) => (i === axis ? indices.length : d))
  const data = new Float64Array(size(shape))
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape)
    idx[axis] = indices[idx[axis]!]!
    data[i] = x.data[ravel(idx, x.shape)]!
  }
  return { shape, data }
}

export const concat = (xs: readonly Ref[], axis: number): Ref => {
  const first = xs[0]!
  const shape = first.shape.map((d, i) => (i === axis ? xs.reduce((s, x) => s + x.shape[axis]!, 0) : d))
  const data = new Float64Array(size(shape))
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape)
    let k = idx[axis]!
    let j = 0
    while (k >= xs[j]!.shape[axis]!) k -= xs[j++]!.shape[axis]!
    idx[axis] = k
    data[i] = xs[j]!.data[ravel(idx, xs[j]!.shape)]!
  }
  return { shape, data }
}

/** Numerically stable log-sum-exp of a group. */
const logSumExp = (vs: number[]): number => {
  const m = Math.max(...vs)
  return m + Math.log(sum(vs.map((v) => Math.exp(v - m))))
}

/** f applied along `axis` to each 1-D lane; f maps a lane to a lane of the same length. */
export const alongAxis = (x: Ref, axis: number, f: (lane: number[]) => number[]): Ref => {
  const a = axis < 0 ? axis + x.shape.length : axis
  const len = x.shape[a]!
  const inner = size(x.shape.slice(a + 1))
  const outer = size(x.shape.slice(0, a))
  const data = new Float64Array(x.data.length)
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < inner; j++) {
      const lane = Array.from({ length: len }, (_, k) => x.data[(o * len + k) * inner + j]!)
      f(lane).forEach((v, k) => {
        data[(o * len + k) * inner + j] = v
      })
    }
  return { shape: [...x.shape], data }
}

export const softmax = (x: Ref, axis: number): Ref =>
  alongAxis(x, axis, (lane) => {
    const l = logSumExp(lane)
    return lane.map((v) => Math.exp(v - l))
  })

export const logSoftmax = (x: Ref, axis: number): Ref =>
  alongAxis(x, axis, (lane) => {
    const l = logSumExp(lane)
    return lane.map((v) => v - l)
  })

/** erf in float64: Maclaurin series (|x| < 3, ample terms) and 1 beyond |x| = 6. */
export const erf = (x: number): number => {
  if (Math.abs(x) > 6) return Math.sign(x)
  if (Math.abs(x) >= 3) {
    // continued fraction for erfc (Lentz), accurate for x ≥ 3
    const z = Math.abs(x)
    let f = z
    for (let n = 60; n >= 1; n--) f = z + n / 2 / f
    const erfc = Math.exp(-z * z) / Math.sqrt(Math.PI) / f
    return Math.sign(x) * (1 - erfc)
  }
  let term = x
  let s = x
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n
    s += term / (2 * n + 1)
  }
  return (2 / Math.sqrt(Math.PI)) * s
}

export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v))
export const SELU_ALPHA = 1.6732632423543772
export const SELU_SCALE = 1.0507009873554805
