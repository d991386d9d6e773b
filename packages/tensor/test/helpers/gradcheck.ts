/**
 * The op properties' glue to `@purenn/testing`: its arbitraries (shapes with broadcasting
 * and size-1 axes, float32 inputs in [−3, 3]) and its `checkGrads` (central differences in
 * float64, kinks detected), fed with the float64 reference implementation of reference.ts.
 */

import {
  checkGrads,
  float32Arb,
  broadcastShapesArb as kitBroadcastShapes,
  shapeArb as kitShape,
} from '@purenn/testing'
import fc from 'fast-check'
import { type Tensor, tensor } from '../../src/tensor.js'
import { broadcastIndex, type Ref, ref, size, unravel } from './reference.js'

/**
 * Inputs: float32 values in [−3, 3]. `fc.float` draws uniformly over float32 bit patterns,
 * so ~97% of its values have |x| < 0.1 and most are tiny (1e-40): alone it would test every
 * op near 0, where a VJP missing a factor of `x` or `eˣ` still looks right. Half of the
 * draws therefore come from `fc.float` (zeros, subnormals, the bounds) and half from a grid
 * of step 2⁻¹² spread evenly over [−3, 3] (exact in float32).
 */
export const f32 = float32Arb({ min: -3, max: 3, anyFloat32: true })

/** f32 values away from a kink at 0: |x| ≥ 1e-2. */
export const f32AwayFromZero = f32.filter((v) => Math.abs(v) >= 1e-2)

/** f32 values in (0.1, 3]: the domain of log, sqrt, rsqrt and a pow base, away from 0. */
export const f32Positive = f32.filter((v) => v > 0.1)

/** Every test property runs with a fixed seed and a bounded number of runs. */
export const runs = (seed: number, numRuns = 40): { seed: number; numRuns: number } => ({ seed, numRuns })

/** A shape of rank minRank..maxRank with dimensions 1..maxDim. */
export const shapeArb = (minRank = 0, maxRank = 3, maxDim = 4): fc.Arbitrary<number[]> =>
  kitShape({ minRank, maxRank, maxDim })

/** An array of the given shape with elements drawn from `elem`. */
export const refArb = (shape: readonly number[], elem: fc.Arbitrary<number> = f32): fc.Arbitrary<Ref> =>
  fc.array(elem, { minLength: size(shape), maxLength: size(shape) }).map((vs) => ref(shape, vs))

/**
 * `k` shapes that broadcast together: an output shape of rank 0..3, from which each operand
 * drops some leading axes and turns some others into size-1 axes.
 */
export const broadcastShapesArb = (k: number, maxRank = 3): fc.Arbitrary<number[][]> =>
  kitBroadcastShapes(k, { maxRank }).map(([, ...shapes]) => shapes)

/** Arrays of broadcast-compatible shapes, the i-th drawn from `elems[i]`. */
export const broadcastRefsArb = (elems: readonly fc.Arbitrary<number>[]): fc.Arbitrary<Ref[]> =>
  broadcastShapesArb(elems.length).chain((shapes) => fc.tuple(...shapes.map((s, i) => refArb(s, elems[i]!))))

/** Cotangent values, cycled over the output's elements. */
export const cotangentArb: fc.Arbitrary<number[]> = fc.array(f32, { minLength: 64, maxLength: 64 })

/** A float32 tensor holding the values of a reference array. */
export const toTensor = (r: Ref): Tensor => tensor(Float32Array.from(r.data), r.shape)

/** A reference array holding the values of a tensor. */
export const toRef = (t: Tensor): Ref => ref(t.shape, t.data)

/**
 * For elementwise ops with broadcasting: per input, the elements that take part in an output
 * position where `degenerate(...values)` holds. For points where several operands sit on one
 * kink (clip with lo = hi), which no coordinate-wise difference can check; plain kinks are
 * detected by checkGrads.
 */
export const kinkMask = (
  inputs: readonly Ref[],
  degenerate: (...values: number[]) => boolean,
): boolean[][] => {
  const n = Math.max(0, ...inputs.map((r) => r.shape.length))
  const shape = Array.from({ length: n }, (_, i) =>
    Math.max(1, ...inputs.map((r) => r.shape[r.shape.length - n + i] ?? 1)),
  )
  const masks = inputs.map((r) => new Array<boolean>(r.data.length).fill(false))
  for (let i = 0; i < size(shape); i++) {
    const idx = unravel(i, shape)
    const at = inputs.map((r) => broadcastIndex(idx, r.shape))
    if (degenerate(...inputs.map((r, k) => r.data[at[k]!]!)))
      at.forEach((p, k) => {
        masks[k]![p] = true
      })
  }
  return masks
}

/** Forward tolerance: `|y − ref| ≤ FORWARD_TOL·(1 + |ref|)`. */
export const FORWARD_TOL = 1e-5

/** Gradient tolerance: `|analytic − numeric| ≤ GRAD_TOL·(1 + |numeric|)`. */
export const GRAD_TOL = 1e-3

/** Checks that a tensor has the shape and (to FORWARD_TOL) the values of a reference array. */
export const expectClose = (what: string, t: Tensor, r: Ref, tol = FORWARD_TOL): void => {
  if (JSON.stringify(t.shape) !== JSON.stringify(r.shape))
    throw new Error(`${what}: shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(r.shape)}`)
  for (let i = 0; i < r.data.length; i++) {
    const got = t.data[i]!
    const want = r.data[i]!
    if (!(Math.abs(got - want) <= tol * (1 + Math.abs(want))))
      throw new Error(`${what}: element ${i} is ${got}, expected ${want} (shape ${JSON.stringify(r.shape)})`)
  }
}

/** One gradient check: an op, its float64 reference, inputs and a cotangent. */
export interface GradCase {
  /** Name used in failure messages. */
  readonly name: string
  /** The op under test. */
  readonly op: (...xs: Tensor[]) => Tensor
  /** Its independent float64 reference implementation. */
  readonly ref: (...xs: Ref[]) => Ref
  /** The inputs, with float32-representable values. */
  readonly inputs: readonly Ref[]
  /** Cotangent values, cycled over the output's elements. */
  readonly w: readonly number[]
  /** Which inputs to differentiate (default: all); the others are passed as constants. */
  readonly wrt?: readonly number[]
  /** Per input, elements whose derivative is not compared (see {@link kinkMask}). */
  readonly skip?: readonly (readonly boolean[])[]
}

/**
 * Checks the forward values and the gradient of `op` at `inputs`.
 *
 * @remarks
 * Forward: `|op(x) − ref(x)| ≤ 1e-5·(1 + |ref(x)|)`. The op computes in float32 (relative
 * rounding 6e-8 per operation); with inputs in [−3, 3] and at most a few dozen operations
 * per element, the error stays below 1e-6 relative to the magnitudes involved.
 *
 * Gradient: `checkGrads` of `@purenn/testing` with the reference as its float64 side: the
 * objective `Σ w·op(x)`, central differences with h = 1e-6 in float64, tolerance
 * `1e-3·(1 + |numeric|)` (GRAD_TOL). The analytic gradient is a float32 computation (error
 * ~1e-5 relative), the float64 difference is good to ~1e-7 here, and a wrong VJP (a missing
 * factor, a wrong sign, a gradient not summed back over broadcast axes) is off by O(1).
 * Points within a step of a kink (relu and abs at 0, maximum/minimum ties, clip bounds, max
 * reductions with ties) are detected by checkGrads: there the analytic value must lie
 * between the left and right difference quotients. It also fails if the op wrote into an input.
 */
export const checkGrad = (c: GradCase): void => {
  const tensors = c.inputs.map(toTensor)
  const expected = c.ref(...c.inputs)
  expectClose(`${c.name} forward`, c.op(...tensors), expected)
  try {
    checkGrads(c.op, tensors, {
      ...(c.wrt === undefined ? {} : { wrt: c.wrt }),
      ...(c.skip === undefined ? {} : { skip: c.skip }),
      cotangent: c.w,
      reference: (...xs) => c.ref(...xs.map((d, i) => ref(c.inputs[i]!.shape, d))).data,
      rtol: GRAD_TOL,
      atol: GRAD_TOL,
    })
  } catch (e) {
    throw new Error(`${c.name}: ${(e as Error).message}`)
  }
}
