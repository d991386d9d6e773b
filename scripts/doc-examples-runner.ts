// Runs the example modules written by scripts/doc-examples.ts, one after another in this one process, and
// appends one JSON line per example to a results file: what each console.log call printed (util.format of
// its arguments, as console.log prints them) and on which line of the module, and the error if it threw.
// Started by doc-examples.ts as `tsx --tsconfig .doc-examples/tsconfig.json <this file> <manifest.json>`,
// so that `@purenn/*` imports resolve to the packages' TypeScript sources.
import { appendFileSync, readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { format } from 'node:util'

interface Manifest {
  readonly results: string
  readonly timeoutMs: number
  readonly examples: readonly { readonly id: string; readonly path: string }[]
}

const manifest = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Manifest
const realLog = console.log

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * The 1-based line of the first frame in module `path` of a stack, or null. With source maps (tsx enables
 * them) a frame names the .ts file by its path; without, by its file URL.
 */
const lineFinder = (path: string) => {
  const frame = new RegExp(
    `(?:${escapeRegExp(path)}|${escapeRegExp(pathToFileURL(path).href)}):(\\d+):\\d+\\)?$`,
    'm',
  )
  return (stack: string | undefined): number | null => {
    const m = frame.exec(stack ?? '')
    return m ? Number(m[1]) : null
  }
}

// an error thrown or a promise rejected outside the import (by a callback) counts for the current example
let current: { error?: unknown } | undefined
process.on('unhandledRejection', (e) => {
  if (current && current.error === undefined) current.error = e
})
process.on('uncaughtException', (e) => {
  if (current && current.error === undefined) current.error = e
})

Error.stackTraceLimit = 100
for (const { id, path } of manifest.examples) {
  const url = pathToFileURL(path).href
  const lineIn = lineFinder(path)
  const prints: { line: number | null; text: string }[] = []
  const state: { error?: unknown } = {}
  current = state
  console.log = (...args: unknown[]) => {
    prints.push({ line: lineIn(new Error().stack), text: format(...args) })
  }
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      import(url),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`did not finish within ${manifest.timeoutMs} ms`)),
          manifest.timeoutMs,
        )
      }),
    ])
    // let callbacks the example left queued (an un-awaited promise) run while console.log is still captured
    await new Promise((resolve) => setImmediate(resolve))
  } catch (e) {
    state.error ??= e
  } finally {
    clearTimeout(timer)
    console.log = realLog
    current = undefined
  }
  const e = state.error
  const error =
    e === undefined
      ? undefined
      : e instanceof Error
        ? { name: e.name, message: e.message, line: lineIn(e.stack) }
        : { name: 'thrown value', message: format(e), line: null }
  const result = { id, prints, error, ms: Math.round(performance.now() - started) }
  appendFileSync(manifest.results, `${JSON.stringify(result)}\n`)
}
process.exit(0) // timers or worker threads an example left behind must not keep us waiting
