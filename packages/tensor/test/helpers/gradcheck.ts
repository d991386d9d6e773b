/**
 * Gradient checking against central finite differences computed in float64, and the
 * fast-check arbitraries the op properties share (random shapes with broadcasting and
 * size-1 axes, float32 inputs in [−3, 3], a random cotangent).
 */

import fc from 'fast-check'
import { mul } from '../../src/arith.js'
import { valueAndGrad } from '../../src/grad.js'
import { sum } from '../../src/reduce.js'
import { type Tensor, tensor } from '../../src/tensor.js'
import { broadcastIndex, type Ref, reduceGroups, ref, size, unravel } from './reference.js'

/** `fc.float` over [−3, 3], with 32-bit bounds as docs/contributing/style.md §9 asks. */
export const f32Float = fc.float({ min: Math.fround(-3), max: Math.fround(3), noNaN: true })

/**
 * Inputs: float32 values in [−3, 3]. `fc.float` draws uniformly over float32 bit patterns,
 * so ~97% of its values have |x| < 0.1 and most are tiny (1e-40): alone it would test every
 * op near 0, where a VJP missing a factor of `x` or `eˣ` still looks right. Half of the
 * draws therefore come from `fc.float` (zeros, subnormals, the bounds) and half from a grid
 * of step 2⁻¹² spread evenly over [−3, 3] (exact in float32).
 */
export const f32 = fc.oneof(
  f32Float,
  fc.integer({ min: -3 * 4096, max: 3 * 4096 }).map((i) => i / 4096),
)

/** f32 values away from a kink at 0: |x| ≥ 1e-2. */
export const f32AwayFromZero = f32.filter((v) => Math.abs(v) >= 1e-2)

/** f32 values in (0.1, 3]: the domain of log, sqrt, rsqrt and a pow base, away from 0. */
export const f32Positive = f32.filter((v) => v > 0.1)

/** Every test property runs with a fixed seed and a bounded number of runs. */
export const runs = (seed: number, numRuns = 40): { seed: number; numRuns: number } => ({ seed, numRuns })

/** A shape of rank minRank..maxRank with dimensions 1..maxDim. */
export const shapeArb = (minRank = 0, maxRank = 3, maxDim = 4): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank })

/** An array of the given shape with elements drawn from `elem`. */
export const refArb = (shape: readonly number[], elem: fc.Arbitrary<number> = f32): fc.Arbitrary<Ref> =>
  fc.array(elem, { minLength: size(shape), maxLength: size(shape) }).map((vs) => ref(shape, vs))

/**
 * `k` shapes that broadcast together: an output shape of rank 0..3, from which each operand
 * drops some leading axes and turns some others into size-1 axes.
 */
export const broadcastShapesArb = (k: number, maxRank = 3): fc.Arbitrary<number[][]> =>
  shapeArb(0, maxRank).chain((out) =>
    fc.tuple(
      ...Array.from({ length: k }, () =>
        fc
          .tuple(
            fc.integer({ min: 0, max: out.length }),
            fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
          )
          .map(([drop, ones]) => out.map((d, i) => (ones[i] ? 1 : d)).slice(drop)),
      ),
    ),
  )

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
 * For elementwise ops with broadcasting: per input, the elements that take part in an
 * output position where `nearKink(...values)` holds. Their derivative is not compared (the
 * finite difference may straddle the kink); every other element's is, since perturbing it
 * by h moves no output across a kink.
 */
export const kinkMask = (inputs: readonly Ref[], nearKink: (...values: number[]) => boolean): boolean[][] => {
  const n = Math.max(0, ...inputs.map((r) => r.shape.length))
  const shape = Array.from({ length: n }, (_, i) =>
    Math.max(1, ...inputs.map((r) => r.shape[r.shape.length - n + i] ?? 1)),
  )
  const masks = inputs.map((r) => new Array<boolean>(r.data.length).fill(false))
  for (let i = 0; i < size(shape); i++) {
    const idx = unravel(i, shape)
    const at = inputs.map((r) => broadcastIndex(idx, r.shape))
    if (nearKink(...inputs.map((r, k) => r.data[at[k]!]!)))
      at.forEach((p, k) => {
        masks[k]![p] = true
      })
  }
  return masks
}

/**
 * For max/min reductions: the elements within `eps` of their group's extremum, in groups
 * where more than one element is (a near tie, where the gradient is a kink).
 */
export const tieMask = (
  x: Ref,
  axes: number | readonly number[] | undefined,
  which: 'max' | 'min',
  eps = 1e-2,
): boolean[] => {
  const ext = reduceGroups(x, axes, true, (vs) => (which === 'max' ? Math.max(...vs) : Math.min(...vs)))
  const near = x.data.map((v, i) =>
    Math.abs(v - ext.data[broadcastIndex(unravel(i, x.shape), ext.shape)]!) < eps ? 1 : 0,
  )
  const count = reduceGroups(ref(x.shape, near), axes, true, (vs) => vs.reduce((s, v) => s + v, 0))
  return Array.from(
    near,
    (v, i) => v === 1 && count.data[broadcastIndex(unravel(i, x.shape), count.shape)]! > 1,
  )
}

/** Forward tolerance: `|y − ref| ≤ FORWARD_TOL·(1 + |ref|)`. */
export const FORWARD_TOL = 1e-5

/** Gradient tolerance: `|analytic − numeric| ≤ GRAD_TOL·(1 + |numeric|)`. */
export const GRAD_TOL = 1e-3

/** Step of the central differences. */
export const H = 1e-6

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
  /** Per input, elements near a kink whose derivative is not compared (see {@link kinkMask}). */
  readonly skip?: readonly (readonly boolean[])[]
}

/**
 * Checks the forward values and the gradient of `op` at `inputs`.
 *
 * @remarks
 * The objective is `L(x) = sum(mul(op(x), w))` with a random cotangent `w`, so its gradient
 * is the VJP of `op` applied to `w`. The analytic gradient comes from `valueAndGrad`; the
 * numerical one from central differences `(L(x + h·eⱼ) − L(x − h·eⱼ)) / 2h`, `h = 1e-6`,
 * evaluated entirely in float64 with the reference implementation (`Σ w·ref(x)`).
 *
 * Tolerances:
 * - forward: `|op(x) − ref(x)| ≤ 1e-5·(1 + |ref(x)|)`. The op computes in float32 (relative
 *   rounding 6e-8 per operation); with inputs in [−3, 3] and at most a few dozen operations
 *   per element, the error stays below 1e-6 relative to the magnitudes involved.
 * - gradient: `|analytic − numeric| ≤ 1e-3·(1 + |numeric|)`. The analytic gradient is a
 *   float32 computation (forward values rounded to float32 reused by the VJPs, sums of up to
 *   ~64 terms), so its error is at most ~1e-5 relative; the float64 central difference has
 *   truncation error ~h²·|f‴| < 1e-9 and rounding error ~1e-16·|L|/h < 1e-7 on these
 *   inputs. 1e-3 leaves a wide margin over both, while a wrong VJP (a missing factor, a
 *   wrong sign, a gradient not summed back over broadcast axes) is off by O(1).
 *
 * Points near kinks are skipped, where the derivative is not defined or the finite
 * difference would straddle the kink: callers draw |x| ≥ 1e-2 for relu/abs/elu/...,
 * x > 0.1 for log/sqrt/rsqrt and a pow base, and pass `skip` masks for the elements of
 * near-equal operands of maximum/minimum/clip and near ties of max/min reductions.
 *
 * Also checks that no op wrote into its inputs. Throws an Error describing the first
 * mismatch, so it can be used inside a fast-check property.
 */
export const checkGrad = (c: GradCase): void => {
  const wrt = c.wrt ?? c.inputs.map((_, i) => i)
  const tensors = c.inputs.map(toTensor)
  const before = tensors.map((t) => Float32Array.from(t.data))
  const expected = c.ref(...c.inputs)
  expectClose(`${c.name} forward`, c.op(...tensors), expected)
  const wRef = ref(
    expected.shape,
    Array.from({ length: expected.data.length }, (_, i) => c.w[i % c.w.length]!),
  )
  const wT = toTensor(wRef)
  const assemble = (ps: readonly Tensor[]): Tensor[] => {
    const xs = [...tensors]
    wrt.forEach((k, j) => {
      xs[k] = ps[j]!
    })
    return xs
  }
  const { grad } = valueAndGrad((ps: Tensor[]) => sum(mul(c.op(...assemble(ps)), wT)))(
    wrt.map((k) => tensors[k]!),
  )
  const loss = (xs: Ref[]): number => {
    const y = c.ref(...xs)
    let s = 0
    for (let i = 0; i < y.data.length; i++) s += wRef.data[i]! * y.data[i]!
    return s
  }
  wrt.forEach((k, j) => {
    const g = grad[j]!
    const x = c.inputs[k]!
    if (JSON.stringify(g.shape) !== JSON.stringify(x.shape))
      throw new Error(
        `${c.name}: gradient of input ${k} has shape ${JSON.stringify(g.shape)}, expected ${JSON.stringify(x.shape)}`,
      )
    for (let e = 0; e < x.data.length; e++) {
      if (c.skip?.[k]?.[e] === true) continue
      const at = (delta: number): Ref[] =>
        c.inputs.map((r, i) => {
          if (i !== k) return r
          const d = r.data.slice()
          d[e] = d[e]! + delta
          return { shape: r.shape, data: d }
        })
      const numeric = (loss(at(H)) - loss(at(-H))) / (2 * H)
      const analytic = g.data[e]!
      if (!(Math.abs(analytic - numeric) <= GRAD_TOL * (1 + Math.abs(numeric))))
        throw new Error(
          `${c.name}: d/d(input ${k})[${e}] is ${analytic}, numeric ${numeric}; input shapes ${JSON.stringify(
            c.inputs.map((r) => r.shape),
          )}`,
        )
    }
  })
  tensors.forEach((t, i) => {
    if (!t.data.every((v, j) => Object.is(v, before[i]![j])))
      throw new Error(`${c.name}: input ${i} was modified`)
  })
}
