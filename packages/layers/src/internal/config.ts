import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import type * as t from 'io-ts'
import { PathReporter } from 'io-ts/lib/PathReporter.js'

/**
 * Decodes `u` with an io-ts codec into an Either whose Left is one readable line naming the
 * failing fields, prefixed by `where` (e.g. `Dense config`).
 */
export const decodeWith =
  <A, O>(codec: t.Type<A, O, unknown>, where: string) =>
  (u: unknown): E.Either<string, A> =>
    pipe(
      codec.decode(u),
      E.mapLeft(() => `${where}: ${PathReporter.report(codec.decode(u)).join('; ')}`),
    )

/** The Right value, or a thrown Error with the Left message (the outermost shell's job). */
export const orThrow = <A>(e: E.Either<string, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left)
  return e.right
}

/** Copies `opts` keeping only the defined fields (for exactOptionalPropertyTypes). */
export const defined = <T extends object>(opts: T): T =>
  Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as T
