// Parsing JSON read from outside, for every runtime (no Node module here, so the browser's
// in-memory loaders use the same checks as the file loaders).
import * as E from 'fp-ts/lib/Either.js'

/** How deep arrays and objects may nest in a file a loader reads (the walks after it recurse). */
export const MAX_JSON_DEPTH = 100

/** The nesting depth of parsed JSON, measured without recursion; stops counting past `limit`. */
const depthOf = (u: unknown, limit: number): number => {
  let deepest = 0
  const stack: [unknown, number][] = [[u, 0]]
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (d + 1 > deepest) deepest = d + 1
    if (deepest > limit) return deepest
    for (const child of Object.values(v)) stack.push([child, d + 1])
  }
  return deepest
}

/**
 * `JSON.parse` whose Left gives only the position (never the bytes found there), and refuses
 * nesting deeper than {@link MAX_JSON_DEPTH} levels.
 */
export const parseJson = (text: string): E.Either<string, unknown> => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message)
    return E.left(`not valid JSON${at === null ? '' : ` (at character ${at[1]})`}`)
  }
  return depthOf(parsed, MAX_JSON_DEPTH) > MAX_JSON_DEPTH
    ? E.left(`nested more than ${MAX_JSON_DEPTH} levels deep`)
    : E.right(parsed)
}
