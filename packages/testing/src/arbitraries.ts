import { type Key, key, type Tensor, type Tree, tensor } from '@purenn/tensor'
import fc from 'fast-check'

// ---------------------------------------------------------------------------------------
// Types

/**
 * Bounds of the shapes {@link shapeArb} and {@link broadcastShapesArb} draw.
 * @category Arbitraries
 */
export interface ShapeConstraints {
  /** Smallest rank (number of axes). Default 0 (a scalar). */
  readonly minRank?: number
  /** Largest rank. Default 3. */
  readonly maxRank?: number
  /** Smallest length of an axis. Default 1. */
  readonly minDim?: number
  /** Largest length of an axis. Default 4. */
  readonly maxDim?: number
}

/**
 * Which numbers {@link float32Arb} and {@link tensorArb} draw.
 * @category Arbitraries
 */
export interface Float32Constraints {
  /** Smallest value. Default −3. */
  readonly min?: number
  /** Largest value. Default 3. */
  readonly max?: number
  /**
   * The spacing of the grid the values are drawn from: a power of two, default 2⁻¹². Every
   * grid value in [−2¹¹, 2¹¹] is exact in float32, so a float32 tensor and its float64
   * reference hold the very same numbers.
   */
  readonly step?: number
  /**
   * When true, half of the draws come from `fc.float` over [min, max] instead of the grid:
   * any float32 value, including tiny and subnormal ones (still exact in float64). Default
   * false: `fc.float` alone draws ~97% of its values with |x| < 0.1, where a derivative
   * missing a factor of `x` still looks right.
   */
  readonly anyFloat32?: boolean
}

/**
 * Bounds of the parameter trees {@link paramsArb} draws.
 * @category Arbitraries
 */
export interface ParamsConstraints {
  /** How deep subtrees nest below the top-level object. Default 1. */
  readonly maxDepth?: number
  /** Most keys of an object or items of an array. Default 3. */
  readonly maxWidth?: number
  /** The shapes of the leaves. Default rank 0 to 2, axes 1 to 3. */
  readonly shape?: ShapeConstraints
  /** The values of the leaves. Default the grid over [−3, 3]. */
  readonly values?: Float32Constraints
}

// ---------------------------------------------------------------------------------------
// Constructors

const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1)

/** NumPy broadcasting of shapes that are known to broadcast. */
const broadcastOf = (shapes: readonly (readonly number[])[]): number[] => {
  const n = Math.max(0, ...shapes.map((s) => s.length))
  return Array.from({ length: n }, (_, i) => Math.max(1, ...shapes.map((s) => s[s.length - n + i] ?? 1)))
}

const checkConstraints = (where: string, c: ShapeConstraints): Required<ShapeConstraints> => {
  const minRank = c.minRank ?? 0
  const maxRank = c.maxRank ?? Math.max(3, minRank)
  const minDim = c.minDim ?? 1
  const maxDim = c.maxDim ?? Math.max(4, minDim)
  const ok = (v: number) => Number.isSafeInteger(v) && v >= 0
  if (![minRank, maxRank, minDim, maxDim].every(ok) || minRank > maxRank || minDim > maxDim)
    throw new RangeError(
      `${where}: need integers 0 ≤ minRank ≤ maxRank and 0 ≤ minDim ≤ maxDim, got ${JSON.stringify({ minRank, maxRank, minDim, maxDim })}`,
    )
  return { minRank, maxRank, minDim, maxDim }
}

/**
 * Shapes of bounded rank and axis length: `[]`, `[3]`, `[2, 1, 4]`, ...
 *
 * @remarks
 * Shrinks towards fewer and shorter axes, so a failing case is reported with the smallest
 * shape that still fails. Size-1 axes are drawn as often as any other length.
 *
 * @param constraints - rank 0 to 3 and axes of length 1 to 4 unless given
 * @returns an arbitrary of shapes
 * @example
 * ```ts
 * import { shapeArb } from '@purenn/testing'
 * import fc from 'fast-check'
 * const shapes = fc.sample(shapeArb({ minRank: 1, maxRank: 2, maxDim: 3 }), { seed: 1, numRuns: 50 })
 * console.log(shapes.every((s) => s.length >= 1 && s.length <= 2 && s.every((d) => d >= 1 && d <= 3))) // true
 * ```
 * @category Arbitraries
 */
export const shapeArb = (constraints: ShapeConstraints = {}): fc.Arbitrary<number[]> => {
  const c = checkConstraints('shapeArb', constraints)
  return fc.array(fc.integer({ min: c.minDim, max: c.maxDim }), {
    minLength: c.minRank,
    maxLength: c.maxRank,
  })
}

/**
 * `count` shapes that broadcast together (NumPy rules), with size-1 axes and missing
 * leading axes on either side.
 *
 * @remarks
 * Draws a target shape first, then derives each operand from it by dropping some leading
 * axes and turning some others into 1. The first shape returned is the shape the operands
 * broadcast to, so `count + 1` shapes come back: `[out, s1, ..., s_count]`.
 *
 * @param count - how many operand shapes (at least 1)
 * @param constraints - bounds of the broadcast result
 * @returns an arbitrary of `[outShape, ...operandShapes]`
 * @example
 * ```ts
 * import { broadcastShapesArb } from '@purenn/testing'
 * import { add, zeros } from '@purenn/tensor'
 * import fc from 'fast-check'
 * fc.assert(
 *   fc.property(broadcastShapesArb(2), ([out, a, b]) => {
 *     if (JSON.stringify(add(zeros(a!), zeros(b!)).shape) !== JSON.stringify(out)) throw new Error('shape')
 *   }),
 *   { seed: 1, numRuns: 30 },
 * )
 * console.log('broadcast shapes ok') // broadcast shapes ok
 * ```
 * @category Arbitraries
 */
export const broadcastShapesArb = (
  count: number,
  constraints: ShapeConstraints = {},
): fc.Arbitrary<number[][]> => {
  if (!Number.isSafeInteger(count) || count < 1)
    throw new RangeError(`broadcastShapesArb: count must be a positive integer, got ${count}`)
  return shapeArb(constraints).chain((out) =>
    fc
      .tuple(
        ...Array.from({ length: count }, () =>
          fc
            .tuple(
              fc.integer({ min: 0, max: out.length }),
              fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
            )
            .map(([drop, ones]) => out.map((d, i) => (ones[i] ? 1 : d)).slice(drop)),
        ),
      )
      .map((shapes) => [broadcastOf(shapes), ...shapes]),
  )
}

/**
 * Numbers that float32 represents exactly, so a float32 tensor and a float64 reference
 * computed from the same numbers agree on the inputs (STYLE §9: 32-bit bounds).
 *
 * @remarks
 * Values are multiples of `step` (default 2⁻¹²) in [min, max] (default [−3, 3]), drawn
 * uniformly over that grid, shrinking towards 0. With `anyFloat32: true` half of the draws
 * are any float32 value in the range (`fc.float` with `Math.fround` bounds).
 *
 * @param constraints - range, grid step and whether to mix in arbitrary float32 values
 * @returns an arbitrary of numbers `v` with `Math.fround(v) === v`
 * @example
 * ```ts
 * import { float32Arb } from '@purenn/testing'
 * import fc from 'fast-check'
 * const vs = fc.sample(float32Arb({ min: -1, max: 1 }), { seed: 7, numRuns: 100 })
 * console.log(vs.every((v) => Math.fround(v) === v && v >= -1 && v <= 1)) // true
 * ```
 * @category Arbitraries
 */
export const float32Arb = (constraints: Float32Constraints = {}): fc.Arbitrary<number> => {
  const min = constraints.min ?? -3
  const max = constraints.max ?? 3
  const step = constraints.step ?? 2 ** -12
  if (!(Number.isFinite(min) && Number.isFinite(max) && min <= max))
    throw new RangeError(`float32Arb: need finite min ≤ max, got min ${min}, max ${max}`)
  if (!(step > 0 && 2 ** Math.round(Math.log2(step)) === step))
    throw new RangeError(`float32Arb: step must be a power of two, got ${step}`)
  const lo = Math.ceil(min / step)
  const hi = Math.floor(max / step)
  if (lo > hi) throw new RangeError(`float32Arb: no multiple of ${step} lies in [${min}, ${max}]`)
  if (Math.max(Math.abs(lo), Math.abs(hi)) > 2 ** 24)
    throw new RangeError(
      `float32Arb: [${min}, ${max}] holds multiples of ${step} that float32 cannot represent; use a larger step`,
    )
  const grid = fc.integer({ min: lo, max: hi }).map((i) => i * step)
  if (constraints.anyFloat32 !== true) return grid
  const fmin = Math.fround(min) < min ? Math.fround(min + Math.abs(min) * 2 ** -23) : Math.fround(min)
  const fmax = Math.fround(max) > max ? Math.fround(max - Math.abs(max) * 2 ** -23) : Math.fround(max)
  return fc.oneof(
    grid,
    fc.float({ min: fmin, max: fmax, noNaN: true }).map((v) => (v === 0 ? 0 : v)),
  )
}

/**
 * Float32 tensors of a given shape (or of shapes drawn from an arbitrary), with values from
 * {@link float32Arb}.
 *
 * @param shape - a fixed shape or an arbitrary of shapes (e.g. {@link shapeArb})
 * @param values - the values' range and grid (default multiples of 2⁻¹² in [−3, 3])
 * @returns an arbitrary of tensors
 * @example
 * ```ts
 * import { tensorArb } from '@purenn/testing'
 * import fc from 'fast-check'
 * const [t] = fc.sample(tensorArb([2, 3], { min: 0, max: 1 }), { seed: 3, numRuns: 1 })
 * console.log(t!.shape, t!.data.every((v) => v >= 0 && v <= 1)) // [ 2, 3 ] true
 * ```
 * @category Arbitraries
 */
export const tensorArb = (
  shape: readonly number[] | fc.Arbitrary<readonly number[]>,
  values: Float32Constraints = {},
): fc.Arbitrary<Tensor> => {
  const elem = float32Arb(values)
  const ofShape = (s: readonly number[]) =>
    fc
      .array(elem, { minLength: sizeOf(s), maxLength: sizeOf(s) })
      .map((vs) => tensor(Float32Array.from(vs), [...s]))
  return Array.isArray(shape)
    ? ofShape(shape as readonly number[])
    : (shape as fc.Arbitrary<readonly number[]>).chain(ofShape)
}

/**
 * PRNG keys (`key(seed)` for a seed in [0, 2³¹)): for properties such as "same key, same
 * weights" or "dropout at inference ignores the key".
 *
 * @returns an arbitrary of keys
 * @example
 * ```ts
 * import { keyArb } from '@purenn/testing'
 * import { uniform } from '@purenn/tensor'
 * import fc from 'fast-check'
 * fc.assert(
 *   fc.property(keyArb(), (k) => uniform(k, [3]).toString() === uniform(k, [3]).toString()),
 *   { seed: 1, numRuns: 20 },
 * )
 * console.log('same key, same numbers') // same key, same numbers
 * ```
 * @category Arbitraries
 */
export const keyArb = (): fc.Arbitrary<Key> => fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((s) => key(s))

const names = ['w', 'b', 'kernel', 'bias', 'gamma', 'beta', 'dense', 'head', 'base', 'encoder'] as const

/**
 * Parameter trees: an object at the top, holding tensors, nested objects and arrays, with
 * small shapes and float32-exact values. For optimizer laws and tree helpers.
 *
 * @param constraints - depth, width, leaf shapes and values
 * @returns an arbitrary of trees whose top level is an object with at least one key
 * @example
 * ```ts
 * import { paramsArb } from '@purenn/testing'
 * import { tree } from '@purenn/tensor'
 * import fc from 'fast-check'
 * const [p] = fc.sample(paramsArb(), { seed: 4, numRuns: 1 })
 * console.log(tree.leaves(p!).length > 0) // true
 * ```
 * @category Arbitraries
 */
export const paramsArb = (constraints: ParamsConstraints = {}): fc.Arbitrary<{ [key: string]: Tree }> => {
  const maxDepth = constraints.maxDepth ?? 1
  const maxWidth = constraints.maxWidth ?? 3
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 0 || !Number.isSafeInteger(maxWidth) || maxWidth < 1)
    throw new RangeError(
      `paramsArb: need integers maxDepth ≥ 0 and maxWidth ≥ 1, got ${JSON.stringify({ maxDepth, maxWidth })}`,
    )
  const leaf: fc.Arbitrary<Tree> = tensorArb(
    shapeArb({ maxRank: 2, maxDim: 3, ...constraints.shape }),
    constraints.values,
  )
  const object = (child: fc.Arbitrary<Tree>) =>
    fc
      .uniqueArray(fc.tuple(fc.constantFrom(...names), child), {
        minLength: 1,
        maxLength: Math.min(maxWidth, names.length),
        selector: ([k]) => k,
      })
      .map((entries) => Object.fromEntries(entries) as { [key: string]: Tree })
  const node = (depth: number): fc.Arbitrary<Tree> =>
    depth === 0
      ? leaf
      : fc.oneof(
          { arbitrary: leaf, weight: 2 },
          { arbitrary: object(node(depth - 1)), weight: 1 },
          { arbitrary: fc.array(node(depth - 1), { minLength: 1, maxLength: maxWidth }), weight: 1 },
        )
  return object(node(maxDepth))
}
