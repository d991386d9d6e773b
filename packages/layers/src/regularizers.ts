import { abs, add, mul, scalar, square, sum, type Tensor } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeAt, FiniteNumber } from './internal/config.js'
import type { Json } from './layer.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * A weight regularizer as a value: the penalty a layer adds to the loss for one of its
 * weights (`dense({ kernelRegularizer: l2(0.01) })`).
 *
 * @remarks
 * `penalty(w)` returns a scalar tensor built from differentiable tensor ops, so the
 * gradient of `loss + penalty` includes the penalty's pull on the weights. `name` and
 * `config` (`{ l1 }`, `{ l2 }` or `{ l1, l2 }`) are what {@link regularizerToConfig} saves.
 *
 * @example
 * ```ts
 * import { l2 } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * const r = l2(0.01)
 * console.log(r.name, r.config, r.penalty(tensor([3, 4])).item()) // l2 { l2: 0.01 } 0.25
 * ```
 * @category Regularizers
 */
export interface Regularizer {
  /** Which penalty: Keras' `L1`, `L2` or `L1L2`. */
  readonly name: 'l1' | 'l2' | 'l1l2'
  /** The factors: `{ l1 }`, `{ l2 }` or `{ l1, l2 }`. */
  readonly config: {
    /** Factor of $\sum \lvert w \rvert$ (`l1` and `l1l2`). */
    readonly l1?: number
    /** Factor of $\sum w^2$ (`l2` and `l1l2`). */
    readonly l2?: number
  }
  /** The penalty of a weight tensor: a scalar tensor, differentiable through the tensor ops. */
  readonly penalty: (w: Tensor) => Tensor
}

/**
 * Options of {@link l1l2}.
 * @category Regularizers
 */
export interface L1L2Options {
  /** Factor of $\sum \lvert w \rvert$. Default 0.01. */
  readonly l1?: number
  /** Factor of $\sum w^2$. Default 0.01. */
  readonly l2?: number
}

// ---------------------------------------------------------------------------------------
// Constructors

const checkFactor = (fn: string, field: string, c: unknown): number => {
  if (typeof c !== 'number' || !Number.isFinite(c))
    throw new RangeError(`${fn}: ${field} must be a finite number, got ${String(c)}`)
  return c
}

const l1Term = (c: number, w: Tensor): Tensor => mul(sum(abs(w)), c)
const l2Term = (c: number, w: Tensor): Tensor => mul(sum(square(w)), c)

/**
 * L1 regularization (Keras' `L1`): penalty $c \sum_i \lvert w_i \rvert$.
 *
 * @remarks
 * Gradient `c·sign(w)` (0 at w = 0): a constant pull toward 0 whatever the weight's size,
 * which drives many weights to exactly 0 (a sparse model; Tibshirani, 1996, "the lasso").
 * Keras' default factor is 0.01.
 *
 * @param c - the factor; default 0.01
 * @returns the regularizer, with `config` `{ l1: c }`
 * @throws RangeError when `c` is not a finite number
 * @example
 * ```ts
 * import { l1 } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * console.log(l1(0.5).penalty(tensor([-1, 2, 0])).item()) // 1.5
 * ```
 * @category Regularizers
 */
export const l1 = (c = 0.01): Regularizer => {
  const f = checkFactor('l1', 'c', c)
  return Object.freeze({ name: 'l1', config: Object.freeze({ l1: f }), penalty: (w: Tensor) => l1Term(f, w) })
}

/**
 * L2 regularization (Keras' `L2`, \"weight decay\" in plain SGD): penalty $c \sum_i w_i^2$, with no $\frac{1}{2}$.
 *
 * @remarks
 * Gradient $2 c w$: a pull toward 0 proportional to the weight (Krogh & Hertz, 1992). Keras
 * (and purenn) compute $c \sum_i w_i^2$; texts that write the penalty as $\frac{C}{2} \sum_i w_i^2$ (so that the
 * gradient is $C w$) mean $C = 2c$: `l2(0.01)` is their $C = 0.02$. Keras' default factor is 0.01.
 *
 * @param c - the factor; default 0.01
 * @returns the regularizer, with `config` `{ l2: c }`
 * @throws RangeError when `c` is not a finite number
 * @example
 * ```ts
 * import { l2 } from '@purenn/layers'
 * import { grad, tensor } from '@purenn/tensor'
 * const r = l2(0.5)
 * console.log(r.penalty(tensor([1, 2])).item(), grad(r.penalty)(tensor([1, 2])).toString()) // 2.5 tensor([1, 2])
 * ```
 * @category Regularizers
 */
export const l2 = (c = 0.01): Regularizer => {
  const f = checkFactor('l2', 'c', c)
  return Object.freeze({ name: 'l2', config: Object.freeze({ l2: f }), penalty: (w: Tensor) => l2Term(f, w) })
}

/**
 * L1 and L2 together (Keras' `L1L2`, the \"elastic net\"): penalty $\ell_1 \sum_i \lvert w_i \rvert + \ell_2 \sum_i w_i^2$.
 *
 * @remarks
 * Gradient `l1·sign(w) + 2·l2·w`. Both factors default to 0.01, as Keras' `l1_l2()`
 * function (the class `L1L2()` defaults both to 0). A zero factor's term is skipped, as in
 * Keras. Zou & Hastie (2005).
 *
 * @param opts - `l1` and `l2` factors (default 0.01 each)
 * @returns the regularizer, with `config` `{ l1, l2 }`
 * @throws RangeError when a factor is not a finite number
 * @example
 * ```ts
 * import { l1l2 } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * console.log(l1l2({ l1: 0.5, l2: 0.25 }).penalty(tensor([-2, 2])).item()) // 4
 * ```
 * @category Regularizers
 */
export const l1l2 = (opts: L1L2Options = {}): Regularizer => {
  const a = checkFactor('l1l2', 'l1', opts.l1 ?? 0.01)
  const b = checkFactor('l1l2', 'l2', opts.l2 ?? 0.01)
  const penalty = (w: Tensor): Tensor => {
    if (a === 0 && b === 0) return scalar(0)
    if (b === 0) return l1Term(a, w)
    if (a === 0) return l2Term(b, w)
    return add(l1Term(a, w), l2Term(b, w))
  }
  return Object.freeze({ name: 'l1l2', config: Object.freeze({ l1: a, l2: b }), penalty })
}

/**
 * The regularizers under one name (Keras' `keras.regularizers`): `regularizers.l2(0.01)` is
 * {@link l2}`(0.01)`.
 *
 * @example
 * ```ts
 * import { regularizers } from '@purenn/layers'
 * console.log(regularizers.l2(0.01).config) // { l2: 0.01 }
 * ```
 * @category Regularizers
 */
export const regularizers = Object.freeze({ l1, l2, l1l2 })

// ---------------------------------------------------------------------------------------
// Config (plain JSON) and its decoding

/**
 * The plain-JSON config of a regularizer: `{ name, ...factors }`, e.g.
 * `{ name: 'l2', l2: 0.01 }` (Keras' `L2` config `{ l2: 0.01 }` plus the name).
 *
 * @remarks Inverse of {@link regularizerFromConfig}.
 * @param r - the regularizer
 * @returns the JSON to save
 * @example
 * ```ts
 * import { l1l2, regularizerToConfig } from '@purenn/layers'
 * console.log(regularizerToConfig(l1l2({ l1: 0, l2: 0.001 }))) // { name: 'l1l2', l1: 0, l2: 0.001 }
 * ```
 * @category Regularizers
 */
export const regularizerToConfig = (r: Regularizer): Json => ({ name: r.name, ...r.config })

type RegularizerName = Regularizer['name']

const fieldsOf: { readonly [N in RegularizerName]: readonly ('l1' | 'l2')[] } = {
  l1: ['l1'],
  l2: ['l2'],
  l1l2: ['l1', 'l2'],
}
const regularizerNames = Object.keys(fieldsOf) as RegularizerName[]
const namesText = regularizerNames.map((n) => `'${n}'`).join(' | ')

const NameC = t.keyof({ l1: null, l2: null, l1l2: null }, `one of ${namesText}`)
const Named = t.type({ name: t.unknown }, `a regularizer name or { name, ...factors }`)

const fromFactors = (
  name: RegularizerName,
  f: { readonly l1?: number; readonly l2?: number },
): Regularizer => (name === 'l1' ? l1(f.l1) : name === 'l2' ? l2(f.l2) : l1l2(f))

/**
 * Rebuilds a regularizer from its plain-JSON config (data from outside: a saved model), with
 * io-ts. Accepts `{ name, ...factors }` as written by {@link regularizerToConfig}, or a bare
 * name (`'l2'`: the default factor 0.01, as Keras accepts `kernel_regularizer='l2'`); missing
 * factors take the default 0.01.
 *
 * @remarks
 * Never throws: a bad config gives a `Left` whose message names the field, e.g.
 * `regularizer.l2: expected a finite number, got "0.01"`. Factors a regularizer does not take
 * are rejected (`{ name: 'l2', l1: 0.1 }` is an error, not a silent drop).
 *
 * @param u - the JSON value
 * @param path - the name of the field being decoded, used in messages; default `'regularizer'`
 * @returns `Right(regularizer)` or `Left(message)`
 * @example
 * ```ts
 * import { regularizerFromConfig } from '@purenn/layers'
 * const ok = regularizerFromConfig({ name: 'l2', l2: 0.001 })
 * console.log(ok._tag === 'Right' && ok.right.config) // { l2: 0.001 }
 * const bad = regularizerFromConfig({ name: 'l2', l2: '0.01' }, 'kernelRegularizer')
 * console.log(bad._tag === 'Left' && bad.left) // kernelRegularizer.l2: expected a finite number, got "0.01"
 * ```
 * @category Regularizers
 */
export const regularizerFromConfig = (u: unknown, path = 'regularizer'): E.Either<string, Regularizer> => {
  if (typeof u === 'string')
    return E.map((n: RegularizerName) => fromFactors(n, {}))(decodeAt(NameC, u, path))
  const named = decodeAt(Named, u, path)
  if (E.isLeft(named)) return named
  const name = decodeAt(NameC, named.right.name, `${path}.name`)
  if (E.isLeft(name)) return name
  const fields = named.right as { readonly [k: string]: unknown }
  const allowed: readonly string[] = fieldsOf[name.right]
  const factors: { l1?: number; l2?: number } = {}
  for (const k of Object.keys(fields)) {
    if (k === 'name') continue
    if (!allowed.includes(k))
      return E.left(`${path}.${k}: '${name.right}' takes only ${allowed.join(', ')}, got a field '${k}'`)
    const v = decodeAt(FiniteNumber, fields[k], `${path}.${k}`)
    if (E.isLeft(v)) return v
    factors[k as 'l1' | 'l2'] = v.right
  }
  return E.right(fromFactors(name.right, factors))
}
