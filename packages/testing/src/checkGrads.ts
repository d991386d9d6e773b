import { add, grad, mul, sum, type Tensor, tensor, valueAndGrad } from '@purenn/tensor'

// ---------------------------------------------------------------------------------------
// Types

/**
 * Options of {@link checkGrads}.
 * @category Gradients
 */
export interface CheckGradsOptions {
  /**
   * 1 checks first derivatives; 2 checks first and second derivatives (every column of the
   * Hessian of `Σ w·f(x)`, by reverse-over-reverse `grad`). Default 1.
   */
  readonly order?: 1 | 2
  /** Relative tolerance. Default 1e-3 with a `reference`, 1e-2 without. */
  readonly rtol?: number
  /** Absolute tolerance. Default 1e-3 with a `reference`, 1e-2 without. */
  readonly atol?: number
  /**
   * A float64 implementation of `f` on the inputs' elements (row-major, one array per
   * argument), returning the output's elements. With it, the finite differences are taken
   * entirely in float64 (step 1e-6, second differences with step 1e-4); without it, they are
   * taken of `f` itself, in float32, with a larger step (2⁻¹⁰·max(1, |x|)) and looser default
   * tolerances.
   */
  readonly reference?: (...xs: Float64Array[]) => ArrayLike<number>
  /** Which arguments to differentiate (indices into `args`). Default all. */
  readonly wrt?: readonly number[]
  /** The finite-difference step, overriding the defaults above. */
  readonly step?: number
  /**
   * Per argument, elements whose derivatives are not compared: their first derivatives and,
   * with `order: 2`, their elements of `H·v` (with a `direction`) or their rows of the
   * Hessian. For points that sit on a kink of several arguments at once, where `f` is flat
   * along each coordinate (`clip(x, lo, hi)` with `x = lo = hi`), where two kinks coincide and
   * their jumps cancel in the one-sided quotients (two relu units both at 0 that one input
   * feeds), or, at second order, near ties that a step along `direction` can swap (max
   * pooling of values closer than the step) without either step size noticing: no difference
   * quotient can tell the reverse-mode convention from a bug there. Counted in `skipped`.
   */
  readonly skip?: readonly (readonly boolean[] | undefined)[]
  /**
   * The cotangent `w` of the objective `Σ w·f(x)`, cycled over the output's elements.
   * Default a fixed pattern of non-zero values of different sizes and signs.
   */
  readonly cotangent?: ArrayLike<number>
  /**
   * With `order: 2`, check the Hessian-vector product `H·v` along this direction instead of
   * every column of the Hessian: one reverse-over-reverse pass (`hessianVectorProduct`)
   * instead of one per input element, for inputs too large for the full Hessian. `v` is
   * cycled over the differentiated arguments' elements, in the order of `wrt` (argument by
   * argument, row-major), like the cotangent. Every argument moves along `v` at once, so the
   * mixed partials between arguments are checked too. Throws a `RangeError` with `order: 1`.
   */
  readonly direction?: ArrayLike<number>
}

/**
 * One compared derivative: where it is and its two values.
 * @category Gradients
 */
export interface GradComparison {
  /** `d/d(args[0])[1,2]` or `d²/d(args[0])[1] d(args[1])[0]`. */
  readonly where: string
  /** Reverse-mode value. */
  readonly analytic: number
  /** Finite-difference value. */
  readonly numeric: number
  /** `|analytic − numeric| / (atol + rtol·|numeric|)`: above 1 fails. */
  readonly ratio: number
}

/**
 * What {@link checkGrads} found when it passed.
 * @category Gradients
 */
export interface GradReport {
  /** How many derivatives were compared. */
  readonly checked: number
  /**
   * How many lay within a finite-difference step of a kink (relu, abs, max, clipping): at
   * first order the reverse-mode value only has to lie between the left and right
   * difference quotients (a Clarke subgradient); at second order the element is skipped.
   */
  readonly kinks: number
  /** How many derivatives `skip` left out (first derivatives, and at order 2 elements of `H·v` or of the Hessian). */
  readonly skipped: number
  /** The comparison closest to failing, if any was made. */
  readonly worst: GradComparison | undefined
}

// ---------------------------------------------------------------------------------------
// Helpers

const fmtIndex = (i: number, shape: readonly number[]): string => {
  if (shape.length === 0) return '[]'
  const idx = new Array<number>(shape.length)
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!
    i = Math.floor(i / shape[d]!)
  }
  return `[${idx.join(',')}]`
}

/** A number with 6 significant digits, for messages. */
const short = (v: number): number => Number(v.toPrecision(6))

const defaultCotangent = (n: number): Float64Array =>
  Float64Array.from({ length: n }, (_, i) => Math.fround(((1 + ((i * 7) % 11)) / 8) * (i % 2 === 0 ? 1 : -1)))

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i])

// ---------------------------------------------------------------------------------------
// The check

/**
 * Checks reverse-mode derivatives of `f` at `args` against central finite differences
 * computed in float64 (JAX's `check_grads`), and throws a readable error at the worst
 * mismatch.
 *
 * @remarks
 * The objective is `L(x) = Σ w·f(x)` with a fixed cotangent `w`, so its gradient is the VJP
 * of `f` applied to `w`. For each element `xⱼ` of each differentiated argument the check
 * compares `∂L/∂xⱼ` from `valueAndGrad` with `(L(x + h·eⱼ) − L(x − h·eⱼ)) / 2h`, and passes
 * when `|analytic − numeric| ≤ atol + rtol·|numeric|`.
 *
 * Kinks (relu at 0, abs, max/min ties, clipping bounds) are detected, not failed on: when the
 * left and right quotients `(L(x) − L(x − h·eⱼ))/h` and `(L(x + h·eⱼ) − L(x))/h` disagree, a
 * kink lies within one step, and the analytic value passes if it lies between them (up to the
 * tolerance), which holds for any of the usual conventions (relu′(0) = 0, abs′(0) = 0). When
 * an element fails the central comparison, the same test is made with a wider step (1e-2,
 * or 2⁻⁷ without a reference): the float32 computation may sit on the other side of a kink
 * that the float64 side sees a little farther than h away (a pre-activation of 1e-8 that
 * rounds to −1e-8). Such elements are counted in `kinks`; a smooth function never has
 * left and right quotients that disagree by more than the tolerance, so a wrong derivative
 * there still fails.
 *
 * With `order: 2` the second derivatives are checked too: each column `H·eⱼ` of the Hessian
 * of `L` is computed by reverse over reverse (`grad` of `Σ eⱼ·grad(L)`), and compared with
 * float64 second differences of the `reference` or, without one, with central differences
 * of the first-order gradient. An element whose estimate changes with the step (a kink of
 * the first derivative) is skipped and counted. If nested `grad` were to lose the inner
 * derivative (a silent zero), this fails.
 *
 * With `order: 2` and a `direction` v, only the Hessian-vector product is checked, for
 * inputs too large for the full Hessian: `H·v = ∇ₓ⟨∇L(x), v⟩` by one reverse-over-reverse
 * pass, against the float64 mixed difference of the `reference` along v and eᵢ,
 * `[L(x+εv+heᵢ) − L(x+εv−heᵢ) − L(x−εv+heᵢ) + L(x−εv−heᵢ)] / 4εh` with ε = h = 1e-4 (scaled
 * by `max(1, |xᵢ|)` for h), or without a reference against `(∇L(x+hv) − ∇L(x−hv)) / 2h` of the
 * float32 gradient (h = 2⁻¹⁰). Elements whose estimate changes when the steps are halved
 * (a kink within reach) are skipped and counted in `kinks`.
 *
 * Precision: with a `reference`, the numeric side is float64 (truncation ~h²·|f‴| with
 * h = 1e-6, rounding ~1e-16·|L|/h), so the error is the float32 analytic gradient's own
 * (~1e-5 relative for a few dozen operations); 1e-3 leaves a wide margin while a wrong VJP
 * is off by O(1). Without one, `f` is evaluated in float32 (relative rounding 6e-8) with a
 * step of 2⁻¹⁰, which gives ~1e-4 relative accuracy: hence 1e-2.
 *
 * Also throws when `f` writes into one of its inputs. Plain function: usable from vitest,
 * jest or `node:test`, inside a fast-check property or alone.
 *
 * @param f - the function under test, from tensors to a tensor of any shape
 * @param args - the point, float32 tensors (use {@link tensorArb} for exact values)
 * @param options - order, tolerances, float64 reference, arguments to differentiate
 * @returns how many derivatives were compared, how many were near a kink, the worst one
 * @throws Error naming the worst element (argument and index), its analytic and numeric values
 * @example
 * ```ts
 * import { checkGrads } from '@purenn/testing'
 * import { mul, sum, tanh, tensor } from '@purenn/tensor'
 * const f = (x: ReturnType<typeof tensor>) => sum(mul(tanh(x), x))
 * const r = checkGrads(f, [tensor([0.5, -1, 2])], {
 *   reference: (x) => [x.reduce((s, v) => s + Math.tanh(v) * v, 0)],
 * })
 * console.log(r.checked, r.kinks) // 3 0
 * ```
 * @example
 * ```ts
 * import { checkGrads } from '@purenn/testing'
 * import { relu, tensor } from '@purenn/tensor'
 * // relu at exactly 0 is a kink: detected, not failed on
 * console.log(checkGrads(relu, [tensor([0, 1.5, -2])]).kinks) // 1
 * // a wrong derivative (here: a reference of another function) fails with the element, the analytic and the numeric value
 * try {
 *   checkGrads(relu, [tensor([1])], { reference: ([v]) => [2 * v!], cotangent: [1] })
 * } catch (e) {
 *   console.log((e as Error).message.split('\n')[0]) // checkGrads: d/d(args[0])[0] is 1 (reverse mode), 2 numerically
 * }
 * ```
 * @example
 * ```ts
 * import { checkGrads } from '@purenn/testing'
 * import { mul, sum, tanh, tensor } from '@purenn/tensor'
 * // second derivatives along one direction: H·v of Σ tanh(x)·x, the cheap check for large inputs
 * const f = (x: ReturnType<typeof tensor>) => sum(mul(tanh(x), x))
 * const r = checkGrads(f, [tensor([0.5, -1, 2, 0.25])], {
 *   order: 2,
 *   direction: [1, -0.5],
 *   reference: (x) => [x.reduce((s, v) => s + Math.tanh(v) * v, 0)],
 * })
 * // 4 first derivatives and the 4 elements of H·v (the full Hessian would be 16)
 * console.log(r.checked, r.kinks) // 8 0
 * ```
 * @example
 * ```ts
 * import { checkGrads } from '@purenn/testing'
 * import { maxPool2d, square, tensor } from '@purenn/tensor'
 * // max pooling of 1 and 1.00005: a step along the direction swaps the winner, so those two
 * // elements are skipped at both orders (the others are still compared)
 * const x = tensor([1, 1.00005, -2, 0.5], [1, 2, 2, 1])
 * const r = checkGrads((v: typeof x) => square(maxPool2d(v, { poolSize: [1, 2] })), [x], {
 *   order: 2,
 *   direction: [1, -1, 0.5, 2],
 *   skip: [[true, true, false, false]],
 * })
 * console.log(r.checked, r.skipped) // 4 4
 * ```
 * @category Gradients
 */
export const checkGrads = (
  f: (...args: Tensor[]) => Tensor,
  args: readonly Tensor[],
  options: CheckGradsOptions = {},
): GradReport => {
  const order = options.order ?? 1
  if (order !== 1 && order !== 2) throw new RangeError(`checkGrads: order must be 1 or 2, got ${order}`)
  const reference = options.reference
  const rtol = options.rtol ?? (reference ? 1e-3 : 1e-2)
  const atol = options.atol ?? (reference ? 1e-3 : 1e-2)
  const wrt = options.wrt ?? args.map((_, i) => i)
  const direction = options.direction
  if (direction !== undefined) {
    if (order !== 2) throw new RangeError('checkGrads: a direction (H·v) needs order: 2')
    if (direction.length === 0) throw new RangeError('checkGrads: the direction is empty')
    for (let i = 0; i < direction.length; i++)
      if (!Number.isFinite(direction[i]))
        throw new RangeError(`checkGrads: direction[${i}] is ${direction[i]}, not a finite number`)
  }
  for (const k of wrt)
    if (!Number.isSafeInteger(k) || k < 0 || k >= args.length)
      throw new RangeError(`checkGrads: wrt holds ${k}, but there are ${args.length} arguments`)
  const shapes = args.map((a) => a.shape)
  const x0 = args.map((a) => Float64Array.from(a.data))
  const before = args.map((a) => Float32Array.from(a.data))

  const y0 = f(...args)
  const n = y0.size
  const cot = options.cotangent
  if (cot !== undefined && cot.length === 0) throw new RangeError('checkGrads: the cotangent is empty')
  const w =
    cot === undefined ? defaultCotangent(n) : Float64Array.from({ length: n }, (_, i) => cot[i % cot.length]!)
  const wT = tensor(Float32Array.from(w), [...y0.shape])
  const dot = (y: ArrayLike<number>, what: string): number => {
    if (y.length !== n)
      throw new Error(
        `checkGrads: ${what} returned ${y.length} values, f returned ${n} (shape [${y0.shape}])`,
      )
    let s = 0
    for (let i = 0; i < n; i++) s += w[i]! * y[i]!
    return s
  }
  if (reference) {
    const r0 = reference(...x0.map((x) => x.slice()))
    dot(r0, 'the reference')
  }
  // L at a point given as float64 arrays: in float64 with the reference, else f in float32
  const loss = (xs: readonly Float64Array[]): number =>
    reference
      ? dot(reference(...xs), 'the reference')
      : dot(f(...xs.map((x, i) => tensor(Float32Array.from(x), [...shapes[i]!]))).data, 'f')
  const stepAt = (v: number, base: number): number => {
    const h = options.step ?? base * Math.max(1, Math.abs(v))
    return reference ? h : Math.fround(v + h) - v
  }
  const moved = (xs: readonly Float64Array[], k: number, e: number, v: number): Float64Array[] =>
    xs.map((x, i) => {
      if (i !== k) return x
      const c = x.slice()
      c[e] = reference ? v : Math.fround(v)
      return c
    })

  const L = (ps: Tensor[]): Tensor => {
    const xs = [...args]
    wrt.forEach((k, j) => {
      xs[k] = ps[j]!
    })
    return sum(mul(f(...xs), wT))
  }
  const wrtArgs = wrt.map((k) => args[k]!)
  const g1 = valueAndGrad(L)(wrtArgs).grad
  wrt.forEach((k, j) => {
    if (!sameShape(g1[j]!.shape, shapes[k]!))
      throw new Error(
        `checkGrads: the gradient of args[${k}] has shape [${g1[j]!.shape}], the argument [${shapes[k]}]`,
      )
  })

  let checked = 0
  let kinks = 0
  let skipped = 0
  const skip = options.skip
  let worst: GradComparison | undefined
  let failure: GradComparison | undefined
  const judge = (c: GradComparison, pass: boolean) => {
    checked++
    if (worst === undefined || c.ratio > worst.ratio) worst = c
    if (!pass && (failure === undefined || c.ratio > failure.ratio)) failure = c
  }
  const tolOf = (numeric: number) => atol + rtol * Math.abs(numeric)

  // ---- first order
  const L0 = loss(x0)
  wrt.forEach((k, j) => {
    const g = g1[j]!.data
    for (let e = 0; e < x0[k]!.length; e++) {
      if (skip?.[k]?.[e] === true) {
        skipped++
        continue
      }
      const v = x0[k]![e]!
      const base = reference ? 1e-6 : 2 ** -10
      const hp = stepAt(v, base)
      const hm = reference ? hp : v - Math.fround(v - hp)
      const Lp = loss(moved(x0, k, e, v + hp))
      const Lm = loss(moved(x0, k, e, v - hm))
      const numeric = (Lp - Lm) / (hp + hm)
      const right = (Lp - L0) / hp
      const left = (L0 - Lm) / hm
      const analytic = g[e]!
      const tol = tolOf(numeric)
      const ratio = Math.abs(analytic - numeric) / tol
      const c = { where: `d/d(args[${k}])${fmtIndex(e, shapes[k]!)}`, analytic, numeric, ratio }
      // between the left and right quotients (up to the tolerance): for a smooth f they differ
      // by ~h·|f″|, at a kink the reverse-mode value may be any convention between them
      const within = (qs: readonly number[]) => {
        const lo = Math.min(...qs)
        const hi = Math.max(...qs)
        return analytic >= lo - tolOf(lo) && analytic <= hi + tolOf(hi)
      }
      let kink = Math.abs(right - left) > tol
      let pass = within([left, right])
      if (!pass) {
        // a kink a little farther away: float32 rounding of the point (or of an intermediate
        // value) can put f on the other side of a kink that the float64 side sees beyond h
        const hw = reference ? 1e-2 * Math.max(1, Math.abs(v)) : stepAt(v, 2 ** -7)
        const hwm = reference ? hw : v - Math.fround(v - hw)
        const right2 = (loss(moved(x0, k, e, v + hw)) - L0) / hw
        const left2 = (L0 - loss(moved(x0, k, e, v - hwm))) / hwm
        if (Math.abs(right2 - left2) > tol) {
          kink = true
          pass = within([left, right, left2, right2])
        }
      }
      if (kink) kinks++
      judge(pass ? { ...c, ratio: Math.min(ratio, 1) } : c, pass)
    }
  })

  // ---- second order, along one direction: H·v
  if (order === 2 && failure === undefined && direction !== undefined) {
    let at = 0
    const v64 = wrt.map((k) => Float64Array.from(x0[k]!, () => direction[at++ % direction.length]!))
    const vT = wrt.map((k, j) => tensor(Float32Array.from(v64[j]!), [...shapes[k]!]))
    const hv = grad((ps: Tensor[]) => {
      const gs = grad(L)(ps)
      return gs.map((gi, i) => sum(mul(gi, vT[i]!))).reduce((a, b) => add(a, b))
    })(wrtArgs)
    // the point x + t·v (every differentiated argument moves), plus d on element e of args[k]
    const along = (t: number, k: number, e: number, d: number): Float64Array[] =>
      x0.map((x, i) => {
        const j = wrt.indexOf(i)
        const c = j < 0 ? x.slice() : Float64Array.from(x, (u, m) => u + t * v64[j]![m]!)
        if (i === k) c[e] = c[e]! + d
        return c
      })
    let numericOf: (j: number, e: number) => { numeric: number; kink: boolean }
    if (reference) {
      const h = options.step ?? 1e-4
      const mixed = (k: number, e: number, eps: number, hh: number) =>
        (loss(along(eps, k, e, hh)) -
          loss(along(eps, k, e, -hh)) -
          loss(along(-eps, k, e, hh)) +
          loss(along(-eps, k, e, -hh))) /
        (4 * eps * hh)
      numericOf = (j, e) => {
        const k = wrt[j]!
        const hh = h * Math.max(1, Math.abs(x0[k]![e]!))
        const a = mixed(k, e, h, hh)
        const b = mixed(k, e, h / 2, hh / 2)
        return { numeric: b, kink: Math.abs(a - b) > tolOf(b) }
      }
    } else {
      // central differences of the float32 reverse-mode gradient along v
      const h = options.step ?? 2 ** -10
      const gradAlong = (t: number): Float64Array[] =>
        grad(L)(
          wrt.map((k, j) =>
            tensor(
              Float32Array.from(x0[k]!, (u, m) => u + t * v64[j]![m]!),
              [...shapes[k]!],
            ),
          ),
        ).map((g) => Float64Array.from(g.data))
      const gp = gradAlong(h)
      const gm = gradAlong(-h)
      const g0 = g1.map((g) => g.data)
      numericOf = (j, e) => {
        const numeric = (gp[j]![e]! - gm[j]![e]!) / (2 * h)
        const right = (gp[j]![e]! - g0[j]![e]!) / h
        const left = (g0[j]![e]! - gm[j]![e]!) / h
        return { numeric, kink: Math.abs(right - left) > tolOf(numeric) }
      }
    }
    wrt.forEach((k, j) => {
      for (let e = 0; e < x0[k]!.length; e++) {
        if (skip?.[k]?.[e] === true) {
          skipped++
          continue
        }
        const { numeric, kink } = numericOf(j, e)
        if (kink) {
          kinks++
          continue
        }
        const analytic = hv[j]!.data[e]!
        const ratio = Math.abs(analytic - numeric) / tolOf(numeric)
        judge(
          { where: `(H·v) of args[${k}]${fmtIndex(e, shapes[k]!)}`, analytic, numeric, ratio },
          ratio <= 1,
        )
      }
    })
  }

  // ---- second order, every column of the Hessian
  if (order === 2 && failure === undefined && direction === undefined) {
    const total = wrt.map((k) => x0[k]!.length)
    // column (kc, ec) of the Hessian by reverse over reverse
    const hessianColumn = (jc: number, ec: number): Tensor[] => {
      const v = wrt.map((k, j) => {
        const d = new Float32Array(total[j]!)
        if (j === jc) d[ec] = 1
        return tensor(d, [...shapes[k]!])
      })
      return grad((ps: Tensor[]) => {
        const gs = grad(L)(ps)
        return gs.map((gi, i) => sum(mul(gi, v[i]!))).reduce((a, b) => add(a, b))
      })(wrtArgs)
    }
    // float64 second difference of the reference
    const second = (k1: number, e1: number, k2: number, e2: number, h: number): number => {
      const at = (d1: number, d2: number) => {
        const xs = x0.map((x) => x.slice())
        xs[k1]![e1] = xs[k1]![e1]! + d1
        xs[k2]![e2] = xs[k2]![e2]! + d2
        return loss(xs)
      }
      return (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)
    }
    // first-order gradient (float32, reverse mode) at a moved point
    const gradAt = (jc: number, ec: number, value: number): Float64Array[] => {
      const ps = wrtArgs.map((a, j) => {
        if (j !== jc) return a
        const d = Float32Array.from(a.data)
        d[ec] = value
        return tensor(d, [...a.shape])
      })
      return grad(L)(ps).map((t) => Float64Array.from(t.data))
    }
    wrt.forEach((kc, jc) => {
      for (let ec = 0; ec < total[jc]!; ec++) {
        const col = hessianColumn(jc, ec)
        let numericCol: Float64Array[]
        let kinkCol: boolean[][]
        if (reference) {
          const h = options.step ?? 1e-4
          numericCol = wrt.map((kr) => new Float64Array(x0[kr]!.length))
          kinkCol = wrt.map((kr) => new Array<boolean>(x0[kr]!.length).fill(false))
          wrt.forEach((kr, jr) => {
            for (let er = 0; er < x0[kr]!.length; er++) {
              const hh = h * Math.max(1, Math.abs(x0[kr]![er]!), Math.abs(x0[kc]![ec]!))
              const a = second(kr, er, kc, ec, hh)
              const b = second(kr, er, kc, ec, hh / 2)
              numericCol[jr]![er] = b
              kinkCol[jr]![er] = Math.abs(a - b) > tolOf(b)
            }
          })
        } else {
          const v = x0[kc]![ec]!
          const hp = stepAt(v, 2 ** -10)
          const vm = Math.fround(v - hp)
          const gp = gradAt(jc, ec, Math.fround(v + hp))
          const gm = gradAt(jc, ec, vm)
          const g0 = g1.map((t) => t.data)
          const hm = v - vm
          numericCol = gp.map((p, i) => p.map((pv, e) => (pv - gm[i]![e]!) / (hp + hm)))
          kinkCol = gp.map((p, i) =>
            Array.from(p, (pv, e) => {
              const right = (pv - g0[i]![e]!) / hp
              const left = (g0[i]![e]! - gm[i]![e]!) / hm
              return Math.abs(right - left) > tolOf(numericCol[i]![e]!)
            }),
          )
        }
        wrt.forEach((kr, jr) => {
          const a = col[jr]!
          for (let er = 0; er < x0[kr]!.length; er++) {
            if (skip?.[kr]?.[er] === true) {
              skipped++
              continue
            }
            if (kinkCol[jr]![er]) {
              kinks++
              continue
            }
            const analytic = a.data[er]!
            const numeric = numericCol[jr]![er]!
            const ratio = Math.abs(analytic - numeric) / tolOf(numeric)
            judge(
              {
                where: `d²/d(args[${kr}])${fmtIndex(er, shapes[kr]!)} d(args[${kc}])${fmtIndex(ec, shapes[kc]!)}`,
                analytic,
                numeric,
                ratio,
              },
              ratio <= 1,
            )
          }
        })
      }
    })
  }

  args.forEach((a, i) => {
    const b = before[i]!
    for (let e = 0; e < b.length; e++)
      if (!Object.is(a.data[e], b[e]))
        throw new Error(`checkGrads: args[${i}] was modified at element ${fmtIndex(e, a.shape)}`)
  })
  if (failure !== undefined) {
    const fl: GradComparison = failure
    throw new Error(
      `checkGrads: ${fl.where} is ${short(fl.analytic)} (reverse mode), ${short(fl.numeric)} numerically\n` +
        `  |difference| ${Math.abs(fl.analytic - fl.numeric).toPrecision(3)} > atol ${atol} + rtol ${rtol}·|numeric|` +
        ` (${fl.ratio.toPrecision(3)}× the tolerance); order ${order}, ${checked} derivatives compared,` +
        ` ${kinks} near a kink; argument shapes ${JSON.stringify(shapes)}` +
        `${reference ? ', numeric side from the float64 reference' : ', numeric side from f in float32'}`,
    )
  }
  return { checked, kinks, skipped, worst }
}
