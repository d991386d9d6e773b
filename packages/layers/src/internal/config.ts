import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'

// Decoding configs and files from outside: every Left names the field, what was expected and
// what was found (`activation.alpha: expected a finite number, got "big"`).

/** Where the first error of a failed decode is, what was expected there and what was found. */
export interface DecodeError {
  /** The field inside the decoded value: `weights[3].shape`, `units`, or `''` for the value itself. */
  readonly path: string
  /** The name of the codec that failed there (leaf codecs carry the words of the message). */
  readonly expected: string
  /** The value found there (`undefined` when the field is missing). */
  readonly value: unknown
}

/** A codec for values that satisfy `is`, whose name is the `expected` of its errors. */
export const leaf = <A>(name: string, is: (u: unknown) => u is A): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity)

/** A finite number (not NaN, not ±Infinity). */
export const FiniteNumber: t.Type<number, number, unknown> = leaf(
  'a finite number',
  (u): u is number => typeof u === 'number' && Number.isFinite(u),
)

/** A value as it appears in an error message: its JSON, or `nothing` when it is missing. */
export const show = (u: unknown): string => {
  if (u === undefined) return 'nothing'
  // JSON writes NaN and ±Infinity as null
  if (typeof u === 'number' && !Number.isFinite(u)) return String(u)
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return String(u)
  }
}

/**
 * The first error of a failed decode. A union is reported as a whole (its name, the value it
 * was given) rather than by the first of its members; the members of intersections and unions
 * add nothing to the path, array indices are bracketed: `weights[3].shape`.
 */
export const firstError = (errors: t.Errors): DecodeError => {
  const context = errors[0]!.context
  const union = context.findIndex((entry) => entry.type instanceof t.UnionType)
  const at = union === -1 ? context : context.slice(0, union + 1)
  const path = at.reduce((p, entry, i) => {
    if (i === 0) return p
    const parent = at[i - 1]!.type
    if (parent instanceof t.IntersectionType || parent instanceof t.UnionType) return p
    if (parent instanceof t.ArrayType) return `${p}[${entry.key}]`
    return p === '' ? entry.key : `${p}.${entry.key}`
  }, '')
  return { path, expected: at.at(-1)!.type.name, value: union === -1 ? errors[0]!.value : at.at(-1)!.actual }
}

/**
 * Decodes `u`, the field `path` of some config, with an io-ts codec; the Left names `path`
 * (followed by the failing field inside `u`), what was expected and what was found, e.g.
 * `activation.alpha: expected a finite number, got "big"`.
 */
export const decodeAt = <A>(codec: t.Decoder<unknown, A>, u: unknown, path: string): E.Either<string, A> => {
  const r = codec.decode(u)
  if (E.isRight(r)) return E.right(r.right)
  const e = firstError(r.left)
  const at = e.path === '' ? path : path === '' ? e.path : `${path}.${e.path}`
  return E.left(`${at === '' ? '' : `${at}: `}expected ${e.expected}, got ${show(e.value)}`)
}

/**
 * Decodes `u` with an io-ts codec into an Either whose Left is one readable line prefixed by
 * `where` (e.g. `Dense config`) and naming the failing field: `Dense config: units: expected
 * number, got "3"`.
 */
export const decodeWith =
  <A>(codec: t.Decoder<unknown, A>, where: string) =>
  (u: unknown): E.Either<string, A> =>
    E.mapLeft((message: string) => `${where}: ${message}`)(decodeAt(codec, u, ''))

/** The Right value, or a thrown Error with the Left message (the outermost shell's job). */
export const orThrow = <A>(e: E.Either<string, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left)
  return e.right
}

/** Copies `opts` keeping only the defined fields (for exactOptionalPropertyTypes). */
export const defined = <T extends object>(opts: T): T =>
  Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as T

/**
 * Throws when `opts` (an option object passed by a caller, possibly from untyped JavaScript)
 * has a field that `fn` does not take: a misspelt or unsupported option is an error, never
 * silently ignored (`dense: unknown option 'kernelConstraints'; dense takes units, ...`).
 */
export const checkOptions = (fn: string, opts: unknown, known: readonly string[]): void => {
  if (opts === undefined) return
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts))
    throw new TypeError(`${fn}: options must be an object, got ${show(opts)}`)
  for (const k of Object.keys(opts)) {
    if (!known.includes(k))
      throw new Error(
        `${fn}: unknown option '${k}'; ${fn} takes ${known.length === 0 ? 'no options' : known.join(', ')}`,
      )
  }
}
