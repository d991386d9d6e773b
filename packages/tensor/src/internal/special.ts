/**
 * Special functions in float64: the error function, its complement and its inverse.
 * Used by the normal samplers in `random.ts` and by the exact `gelu`. Not exported from the package.
 */

/** 2/√π */
const TWO_OVER_SQRT_PI = 1.1283791670955126
/** √π */
const SQRT_PI = 1.772453850905516
/** 1/√π */
const ONE_OVER_SQRT_PI = 0.5641895835477563

/**
 * `x²` as an unevaluated sum `s + e` with `s = fl(x²)`: Dekker's exact product (1971), by
 * splitting `x` into two 26-bit halves.
 */
const exactSquare = (x: number): [number, number] => {
  const c = 134217729 * x // 2^27 + 1
  const hi = c - (c - x)
  const lo = x - hi
  const s = x * x
  return [s, hi * hi - s + 2 * hi * lo + lo * lo]
}

/** `e^(−x²)` without the error of rounding `x²` first: `e^(−s) (1 − e)` with `x² = s + e` exactly. */
const expMinusSquare = (x: number): number => {
  const [s, e] = exactSquare(x)
  return Math.exp(-s) * (1 - e)
}

/** Maclaurin series `erf x = 2/√π Σ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n+1))`, for |x| ≤ 0.5 (at most ~12 terms). */
const erfMaclaurin = (x: number): number => {
  const x2 = x * x
  let term = x // (−1)ⁿ x²ⁿ⁺¹ / n!
  let sum = x
  for (let n = 1; n < 60; n++) {
    term *= -x2 / n
    const t = term / (2 * n + 1)
    sum += t
    if (Math.abs(t) <= 1e-17 * Math.abs(sum)) break
  }
  return TWO_OVER_SQRT_PI * sum
}

/**
 * Series with positive terms, `erf x = 2/√π e^(−x²) Σ 2ⁿ x²ⁿ⁺¹ / (1·3·5···(2n+1))`
 * (Abramowitz & Stegun 7.1.6), for 0.5 < x < 2: no cancellation, so it keeps full relative precision.
 * The terms use the rounded `fl(x²) = x² − e`; term n is then too small by the factor `(1 − e/x²)ⁿ`,
 * which the sum `Σ n·termₙ` corrects to first order (the error would otherwise grow like x² ulps).
 */
const erfPositiveSeries = (x: number): number => {
  const [s, e] = exactSquare(x)
  const r = 2 * s
  let term = x
  let sum = x
  let comp = 0 // Neumaier's running compensation: naive summation of ~40 terms loses ~10 ulps
  let weighted = 0 // Σ n·termₙ
  for (let n = 1; n < 200; n++) {
    term *= r / (2 * n + 1)
    const t = sum + term
    comp += sum >= term ? sum - t + term : term - t + sum
    sum = t
    weighted += n * term
    if (term <= 1e-17 * sum) break
  }
  return TWO_OVER_SQRT_PI * (Math.exp(-s) * (1 - e)) * (sum + (comp + (e / s) * weighted))
}

/**
 * Laplace's continued fraction `F(x) = x + (1/2)/(x + 1/(x + (3/2)/(x + …)))`, with
 * `erfc x = e^(−x²) / (√π F(x))` (A&S 7.1.14), evaluated by the modified Lentz method; for x ≥ 2
 * (at most ~60 steps there, and ~7e-16 relative error).
 */
const laplaceFraction = (x: number): number => {
  const tiny = 1e-300
  let f = x
  let c = x
  let d = 0
  for (let n = 1; n < 500; n++) {
    const a = n / 2
    d = x + a * d
    d = 1 / (d === 0 ? tiny : d)
    c = x + a / c
    if (c === 0) c = tiny
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) <= 1e-16) break
  }
  return f
}

const erfcContinuedFraction = (x: number): number =>
  (ONE_OVER_SQRT_PI * expMinusSquare(x)) / laplaceFraction(x)

/**
 * The error function `erf x = 2/√π ∫₀ˣ e^(−t²) dt`, in float64, to about 1e-15 relative error.
 *
 * @remarks
 * Maclaurin series for |x| ≤ 0.5, the positive-term series `2/√π e^(−x²) Σ 2ⁿx²ⁿ⁺¹/(2n+1)!!` for
 * |x| < 2 and `1 − erfc x` with Laplace's continued fraction beyond (Abramowitz & Stegun 7.1.5,
 * 7.1.6, 7.1.14), with compensated summation and `x²` carried exactly (Dekker's product) into
 * `e^(−x²)`. Odd: `erf(−x) = −erf x`.
 *
 * @param x - any number; `erf(±∞) = ±1`, `erf(NaN) = NaN`
 * @returns `erf x` in [−1, 1]
 */
export const erf = (x: number): number => {
  if (Number.isNaN(x)) return Number.NaN
  const ax = Math.abs(x)
  const r =
    ax <= 0.5
      ? erfMaclaurin(ax)
      : ax < 2
        ? erfPositiveSeries(ax)
        : ax >= 6
          ? 1
          : 1 - erfcContinuedFraction(ax)
  return x < 0 ? -r : r
}

/**
 * The complementary error function `erfc x = 1 − erf x`, in float64.
 *
 * @remarks
 * Laplace's continued fraction for x ≥ 2 keeps full relative precision (about 1e-15) in the tail,
 * down to underflow near x ≈ 26.5; elsewhere it is `1 − erf x`, accurate to about 1e-16 absolute.
 *
 * @param x - any number; `erfc(−∞) = 2`, `erfc(+∞) = 0`
 * @returns `erfc x` in [0, 2]
 */
export const erfc = (x: number): number => {
  if (Number.isNaN(x)) return Number.NaN
  if (x >= 2) return x > 27 ? 0 : erfcContinuedFraction(x)
  return 1 - erf(x)
}

/**
 * Giles' single-precision approximation of erfinv (M. Giles, "Approximating the erfinv
 * function", GPU Computing Gems, 2011): about 1e-7 relative error, the starting point of the
 * Halley refinement below.
 */
const erfinvGiles = (y: number): number => {
  let w = -Math.log1p(-y * y)
  let p: number
  if (w < 5) {
    w -= 2.5
    p = 2.81022636e-8
    p = 3.43273939e-7 + p * w
    p = -3.5233877e-6 + p * w
    p = -4.39150654e-6 + p * w
    p = 0.00021858087 + p * w
    p = -0.00125372503 + p * w
    p = -0.00417768164 + p * w
    p = 0.246640727 + p * w
    p = 1.50140941 + p * w
  } else {
    w = Math.sqrt(w) - 3
    p = -0.000200214257
    p = 0.000100950558 + p * w
    p = 0.00134934322 + p * w
    p = -0.00367342844 + p * w
    p = 0.00573950773 + p * w
    p = -0.0076224613 + p * w
    p = 0.00943887047 + p * w
    p = 1.00167406 + p * w
    p = 2.83297682 + p * w
  }
  return p * y
}

/**
 * erfinv in the tail, `q = 1 − y < erfc(2) ≈ 0.00468` (x > 2): Newton's method on
 * `g(x) = ln erfc x − ln q = −x² − ln(√π F(x)) − ln q`, whose slope is `g'(x) = −2F(x)`. In this
 * form g is nearly a parabola, so Newton converges in a few steps from the asymptotic start
 * `x² + ln(x√π) = −ln q`, and the relative precision of q (not of y) carries into x.
 */
const erfinvTail = (q: number): number => {
  const lnq = Math.log(q)
  let x = Math.sqrt(-lnq)
  for (let i = 0; i < 3; i++) x = Math.sqrt(-lnq - Math.log(x * SQRT_PI))
  for (let i = 0; i < 30; i++) {
    const f = laplaceFraction(x)
    const dx = (-x * x - Math.log(SQRT_PI * f) - lnq) / (2 * f)
    x += dx
    if (Math.abs(dx) <= 1e-16 * x) break
  }
  return x
}

/** erfc(2): below this `1 − |y|`, erfinv works on the tail form. */
const ERFC_2 = 0.004677734981047266

/**
 * The inverse error function: the `x` with `erf x = y`, in float64.
 *
 * @remarks
 * Giles' approximation (2011) as a starting point, then two Halley steps on `f(x) = erf x − y`
 * (`f' = 2/√π e^(−x²)`, `f'' = −2x f'`, so the step is `x ← x − u/(1 + x u)` with `u = f/f'`).
 * Cubic convergence takes the 1e-7 start to full double precision. In the tail
 * (`1 − |y| < erfc 2 ≈ 0.00468`) it solves `ln erfc x = ln(1 − |y|)` by Newton's method instead, which keeps
 * full precision where Giles' start is poor and `erf x − y` would cancel.
 *
 * @param y - a number in [−1, 1]
 * @returns `erfinv y`; `±∞` at `y = ±1`, `NaN` outside [−1, 1]
 */
export const erfinv = (y: number): number => {
  if (Number.isNaN(y) || y < -1 || y > 1) return Number.NaN
  if (y === 1) return Number.POSITIVE_INFINITY
  if (y === -1) return Number.NEGATIVE_INFINITY
  if (y === 0) return y
  const ay = Math.abs(y)
  let x: number
  if (1 - ay < ERFC_2) x = erfinvTail(1 - ay)
  else {
    x = erfinvGiles(ay)
    for (let i = 0; i < 2; i++) {
      const u = (erf(x) - ay) / (TWO_OVER_SQRT_PI * expMinusSquare(x))
      x -= u / (1 + x * u)
    }
  }
  return y < 0 ? -x : x
}
