/**
 * Shared test helpers: fast-check arbitraries for parameter trees, a driver that runs an
 * optimizer for several steps, bitwise and relative comparisons, and a JSON round trip of
 * optimizer state (the way a state would be saved to disk and read back).
 */

import { isTensor, type Tensor, type Tree, tensor, tree } from '@purenn/tensor'
import fc from 'fast-check'
import { expect } from 'vitest'
import { applyUpdates, type GradientTransformation } from '../../src/index.js'

/** Float32 values in [−10, 10] (fast-check bounds must be 32-bit). */
export const float = fc.float({ min: Math.fround(-10), max: Math.fround(10), noNaN: true })

/** Float32 values with |x| in [0.01, 10] (for tests that divide by gradients). */
export const nonZeroFloat = fc
  .tuple(fc.float({ min: Math.fround(0.01), max: Math.fround(10), noNaN: true }), fc.boolean())
  .map(([x, s]) => (s ? x : -x))

/** A tensor of a random shape (rank 0 to 3, axes of 1 to 4) with elements from `elem`. */
export const tensorArb = (elem: fc.Arbitrary<number> = float): fc.Arbitrary<Tensor> =>
  fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 }).chain((shape) => {
    const n = shape.reduce((p, d) => p * d, 1)
    return fc.array(elem, { minLength: n, maxLength: n }).map((v) => tensor(v, shape))
  })

/**
 * The structure shared by the generated trees: a nested object with an array inside. (A type
 * alias, not an interface: an object type alias gets the implicit index signature that
 * `Tree` asks for, an interface does not.)
 */
export type Params = {
  readonly dense: { readonly kernel: Tensor; readonly bias: Tensor }
  readonly blocks: readonly [Tensor, Tensor]
}

/** A tree of the {@link Params} structure: shapes from `shapes`, elements from `elem`. */
export const paramsLike = (shapes: readonly (readonly number[])[], elem: fc.Arbitrary<number> = float) =>
  fc
    .tuple(
      ...shapes.map((s) => {
        const n = s.reduce((p, d) => p * d, 1)
        return fc.array(elem, { minLength: n, maxLength: n }).map((v) => tensor(v, s))
      }),
    )
    .map(
      ([kernel, bias, b0, b1]): Params => ({ dense: { kernel: kernel!, bias: bias! }, blocks: [b0!, b1!] }),
    )

/** Shapes for {@link paramsLike}: kernel, bias, two blocks. */
export const shapesArb = fc
  .tuple(
    fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 })),
    fc.integer({ min: 1, max: 5 }),
  )
  .map(([[r, c], k]) => [[r, c], [c], [k], []] as const)

/** Params and a sequence of `steps` gradients of the same structure. */
export const problemArb = (steps: { min: number; max: number }, elem: fc.Arbitrary<number> = float) =>
  shapesArb.chain((shapes) =>
    fc.tuple(
      paramsLike(shapes, elem),
      fc.array(paramsLike(shapes, elem), { minLength: steps.min, maxLength: steps.max }),
    ),
  )

/** One step of an optimizer run. */
export interface Step<S> {
  readonly updates: Tree
  readonly params: Tree
  readonly state: S
}

/** Runs `tx` from `params` on the gradient sequence `grads`; returns every step. */
export const run = <S>(
  tx: GradientTransformation<S>,
  params: Tree,
  grads: readonly Tree[],
  state = tx.init(params),
): Step<S>[] => {
  const out: Step<S>[] = []
  let p = params
  let s = state
  for (const g of grads) {
    const r = tx.update(g, s, p)
    p = applyUpdates(p, r.updates)
    s = r.state
    out.push({ updates: r.updates, params: p, state: s })
  }
  return out
}

/** The tree with `f` applied to every element (in float64, then rounded to float32). */
export const mapValues = <T extends Tree>(t: T, f: (x: number) => number): T =>
  tree.map(t, (x) => tensor(Array.from(x.data, f), x.shape))

/** All leaf values of a tree in flatten order, as numbers. */
export const values = (t: Tree): number[] => tree.leaves(t).flatMap((x) => Array.from(x.data))

/** The bit patterns of a float32 tree (distinguishes −0 from 0 and compares NaNs). */
export const bits = (t: Tree): number[] =>
  tree.leaves(t).flatMap((x) => Array.from(new Uint32Array(Float32Array.from(x.data).buffer)))

/** Expects two trees to have the same structure and bitwise the same values. */
export const expectBitwise = (a: Tree, b: Tree): void => {
  expect(tree.flatten(a).map(([p, x]) => [p, x.shape])).toEqual(tree.flatten(b).map(([p, x]) => [p, x.shape]))
  expect(bits(a)).toEqual(bits(b))
}

/** Expects `actual[i]` within `rel · |expected[i]|` of `expected[i]` for every i. */
export const expectRelClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-6): void => {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!
    const e = expected[i]!
    if (Math.abs(a - e) > rel * Math.abs(e))
      expect.fail(`element ${i}: got ${a}, expected ${e} (relative ${rel})`)
  }
}

/**
 * A JSON-friendly copy of an optimizer state: tensors become `{ shape, bits }` with the
 * float32 bit patterns as integers (exact, −0 included), as a binary weights file would.
 */
export const toJson = (s: unknown): unknown => {
  if (isTensor(s))
    return {
      $tensor: true,
      shape: [...s.shape],
      bits: Array.from(new Uint32Array(Float32Array.from(s.data).buffer)),
    }
  if (Array.isArray(s)) return s.map(toJson)
  if (typeof s === 'object' && s !== null)
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, toJson(v)]))
  return s
}

/** The inverse of {@link toJson}. */
export const fromJson = (j: unknown): unknown => {
  if (Array.isArray(j)) return j.map(fromJson)
  if (typeof j === 'object' && j !== null) {
    const o = j as Record<string, unknown>
    if (o.$tensor === true)
      return tensor(new Float32Array(Uint32Array.from(o.bits as number[]).buffer), o.shape as number[])
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fromJson(v)]))
  }
  return j
}

/** Saves a state as a JSON string and reads it back. */
export const roundTrip = <S>(s: S): S => fromJson(JSON.parse(JSON.stringify(toJson(s)))) as S

/** Three fixed float32 gradients of a two-element leaf, for the reference-sequence tests. */
export const fixedGradients: readonly (readonly number[])[] = [
  [1, -2],
  [3, 0.5],
  [-0.5, 1],
].map((g) => g.map(Math.fround))

/** {@link run} of `tx` on the leaf `w = [0, 0]` with the {@link fixedGradients}, in order. */
export const runFixed = <S>(tx: GradientTransformation<S>): Step<S>[] =>
  run(
    tx,
    { w: tensor([0, 0]) },
    fixedGradients.map((g) => ({ w: tensor([...g]) })),
  )
