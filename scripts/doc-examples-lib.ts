// Pure helpers of scripts/doc-examples.ts: extracting `@example` blocks from TSDoc comments, finding the
// `console.log(...) // expected` checks in them, mapping tsc diagnostics back to the source, and judging what
// an example printed. No file system or process access here, so test/doc-examples.test.ts can test it all.

/** One fenced ```ts block of an `@example`, written out and run as a module of its own. */
export interface DocExample {
  /** Repo-relative source file, `/`-separated: `packages/tensor/src/arith.ts`. */
  readonly file: string
  /** The documented declaration: `add`, `Tensor.item`, `tree.map`. */
  readonly symbol: string
  /** 1-based source line of the first line of code (the line after the opening fence). */
  readonly line: number
  /** The code with the ` * ` comment prefix (and the fence's own indentation) stripped. */
  readonly code: string
  /** For each line of `code`, the 0-based column in the source file where it starts. */
  readonly columns: readonly number[]
  /** Lines of `code` of the form `console.log(<args>) // <expected>`. */
  readonly checks: readonly Check[]
}

/** `console.log(<args>) // <expected>` starting on 0-based line `line` of an example's code. */
export interface Check {
  readonly line: number
  readonly expected: string
}

/** Something wrong with a doc comment itself (an `@example` with no ```ts block, an unclosed fence). */
export interface ExtractProblem {
  readonly file: string
  readonly line: number
  readonly symbol: string
  readonly message: string
}

/** One line of a doc comment, with the ` * ` prefix removed. */
export interface CommentLine {
  readonly text: string
  /** 1-based line in the file. */
  readonly line: number
  /** 0-based column in the file where `text` starts. */
  readonly column: number
}

/** A `/** ... *\/` comment: its lines and the offset just past its end. */
export interface DocComment {
  readonly lines: readonly CommentLine[]
  /** 1-based line of the `/**`. */
  readonly line: number
  /** Column of the `/**` (0 for a top-level declaration, more for a member). */
  readonly column: number
  readonly end: number
}

const lineAt = (text: string, offset: number): number => {
  let n = 1
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) n++
  return n
}

/**
 * Every `/** ... *\/` comment in `text`, each line without its leading `*` and the one space after it.
 * (A `/**` inside a string literal would be taken for a comment too; sources do not do that.)
 */
export const docComments = (text: string): DocComment[] => {
  const out: DocComment[] = []
  for (const m of text.matchAll(/\/\*\*(?![*/])[\s\S]*?\*\//g)) {
    const start = m.index
    const line = lineAt(text, start)
    const column = start - (text.lastIndexOf('\n', start - 1) + 1)
    const raw = m[0].slice(3, -2).split('\n')
    const lines = raw.map((l, i) => {
      const prefix = (i === 0 ? /^ ?/ : /^[ \t]*\*(?!\/) ?/).exec(l)?.[0] ?? ''
      const text = l.slice(prefix.length)
      return {
        text: /^[ \t]+$/.test(text) ? '' : text,
        line: line + i,
        column: (i === 0 ? column + 3 : 0) + prefix.length,
      }
    })
    out.push({ lines, line, column, end: start + m[0].length })
  }
  return out
}

const declaration =
  /^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\s*\*?|const|let|var|class|interface|type|enum|namespace|module)\s+([A-Za-z_$][\w$]*)/
const member =
  /^(?:(?:public|private|protected|static|readonly|abstract|override|declare|async|get|set)\s+)*\*?\s*([A-Za-z_$][\w$]*|'[^']*'|"[^"]*"|\[[^\]\n]*\])\s*[?!]?\s*[(:<=;,]/

/**
 * The name of the declaration a doc comment documents: the text after the comment, past whitespace, line
 * comments and decorators. A comment inside an interface or class (indented) names `Container.member`.
 */
export const documentedSymbol = (text: string, comment: Pick<DocComment, 'end' | 'column'>): string => {
  const after = text
    .slice(comment.end)
    .replace(/^(?:\s+|\/\/[^\n]*|\/\*(?!\*)[\s\S]*?\*\/|@[\w.]+(?:\([^)]*\))?)*/, '')
  const d = declaration.exec(after)
  if (d) return d[1]!
  if (/^export\s+default\b/.test(after)) return 'default'
  const m = comment.column > 0 ? member.exec(after) : null
  if (m) {
    const before = text.slice(0, comment.end).split('\n').reverse()
    const container = before.map((l) => (/^\S/.test(l) ? declaration.exec(l) : null)).find((x) => x)
    return container ? `${container[1]}.${m[1]}` : m[1]!
  }
  return '(unknown)'
}

const fenceOpen = /^([ \t]*)(`{3,}|~{3,})[ \t]*([\w-]*)/
const tsLangs = new Set(['ts', 'typescript', 'mts', 'cts'])

/**
 * The ```ts blocks of every `@example` in one file. `symbolPrefix` qualifies names (`tree.` for a module
 * re-exported as `export * as tree`).
 */
export const extractExamples = (
  text: string,
  file: string,
  symbolPrefix = '',
): { examples: DocExample[]; problems: ExtractProblem[] } => {
  const examples: DocExample[] = []
  const problems: ExtractProblem[] = []
  for (const comment of docComments(text)) {
    if (!comment.lines.some((l) => /(^|\s)@example\b/.test(l.text))) continue
    const symbol = symbolPrefix + documentedSymbol(text, comment)
    let inExample = false
    let exampleLine = 0
    let blocks = 0
    let fence:
      | { marker: string; indent: number; ts: boolean; line: number; code: string[]; columns: number[] }
      | undefined
    const endExample = () => {
      if (inExample && blocks === 0)
        problems.push({ file, line: exampleLine, symbol, message: '@example has no ```ts code block' })
      inExample = false
    }
    for (const { text: l, line, column } of comment.lines) {
      if (fence) {
        const close = new RegExp(`^[ \\t]*${fence.marker[0]}{${fence.marker.length},}[ \\t]*$`)
        if (close.test(l)) {
          if (fence.ts) {
            const code = fence.code.join('\n')
            examples.push({
              file,
              symbol,
              line: fence.line + 1,
              code,
              columns: fence.columns,
              checks: findChecks(code),
            })
          }
          fence = undefined
        } else {
          const indent = new RegExp(`^[ \\t]{0,${fence.indent}}`).exec(l)?.[0].length ?? 0
          fence.code.push(l.slice(indent))
          fence.columns.push(column + indent)
        }
        continue
      }
      const tag = /^\s*@(\w+)/.exec(l)
      if (tag) {
        endExample()
        if (tag[1] === 'example') {
          inExample = true
          exampleLine = line
          blocks = 0
        }
        continue
      }
      const open = fenceOpen.exec(l)
      if (open) {
        const ts = inExample && tsLangs.has(open[3]!.toLowerCase())
        if (ts) blocks++
        fence = { marker: open[2]!, indent: open[1]!.length, ts, line, code: [], columns: [] }
      }
    }
    if (fence) problems.push({ file, line: fence.line, symbol, message: 'code fence is never closed' })
    endExample()
  }
  return { examples, problems }
}

/**
 * Index just past the string, template literal or comment starting at `i`, or `i` itself if none starts
 * there. `-1` if it is never closed.
 */
const skipToken = (code: string, i: number): number => {
  const c = code[i]
  if (c === "'" || c === '"') {
    for (let j = i + 1; j < code.length; j++) {
      if (code[j] === '\\') j++
      else if (code[j] === c) return j + 1
      else if (code[j] === '\n') return -1
    }
    return -1
  }
  if (c === '`') {
    for (let j = i + 1; j < code.length; j++) {
      if (code[j] === '\\') j++
      else if (code[j] === '`') return j + 1
      else if (code[j] === '$' && code[j + 1] === '{') {
        j = closingBracket(code, j + 2)
        if (j === -1 || code[j] !== '}') return -1
      }
    }
    return -1
  }
  if (c === '/' && code[i + 1] === '/') {
    const nl = code.indexOf('\n', i)
    return nl === -1 ? code.length : nl
  }
  if (c === '/' && code[i + 1] === '*') {
    const end = code.indexOf('*/', i + 2)
    return end === -1 ? -1 : end + 2
  }
  return i
}

/**
 * Index of the first closing bracket (`)`, `]` or `}`) at nesting depth 0 from `i` on, skipping strings,
 * template literals and comments; `-1` if there is none. (Regular expression literals are not recognised:
 * a bracket inside one would confuse it.)
 */
export const closingBracket = (code: string, i: number): number => {
  let depth = 0
  while (i < code.length) {
    const next = skipToken(code, i)
    if (next === -1) return -1
    if (next !== i) {
      i = next
      continue
    }
    const c = code[i]
    if (c === '(' || c === '[' || c === '{') depth++
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) return i
      depth--
    }
    i++
  }
  return -1
}

/**
 * The `console.log(<args>) // <expected>` checks of an example: a line that starts with `console.log(`
 * whose call ends (on that line or a later one) with `)`, an optional `;` and a line comment; the comment,
 * trimmed, is the expected output. A call with no comment after it, or an empty one, is not checked.
 */
export const findChecks = (code: string): Check[] => {
  const checks: Check[] = []
  const lines = code.split('\n')
  let offset = 0
  lines.forEach((l, line) => {
    const m = /^\s*console\.log\s*\(/.exec(l)
    if (m) {
      const close = closingBracket(code, offset + m[0].length)
      if (close !== -1 && code[close] === ')') {
        const rest = code.slice(close + 1).split('\n')[0]!
        const c = /^\s*;?\s*\/\/(.*)$/.exec(rest)
        const expected = c?.[1]?.trim()
        if (expected) checks.push({ line, expected })
      }
    }
    offset += l.length + 1
  })
  return checks
}

/** A tsc diagnostic as printed by `tsc --pretty false`. */
export interface Diagnostic {
  /** As tsc printed it (relative to tsc's working directory); empty for a global diagnostic. */
  readonly file: string
  /** 1-based; 0 for a global diagnostic. */
  readonly line: number
  readonly column: number
  readonly code: string
  /** The message, continuation lines (the elaboration of a type error) included. */
  readonly message: string
}

/** The diagnostics in the output of `tsc --pretty false`. */
export const parseTscOutput = (output: string): Diagnostic[] => {
  const out: Diagnostic[] = []
  let last: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } | undefined
  for (const l of output.split(/\r?\n/)) {
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(l) ?? /^()()()error (TS\d+): (.*)$/.exec(l)
    if (m) {
      last = { file: m[1]!, line: Number(m[2] || 0), column: Number(m[3] || 0), code: m[4]!, message: m[5]! }
      out.push(last)
    } else if (last && /^\s+\S/.test(l)) last.message += `\n${l}`
  }
  return out
}

/** What an example printed through `console.log` on one line of its module (`null` if unknown). */
export interface Print {
  readonly line: number | null
  readonly text: string
}

/** A failed check or a thrown error: where (a 1-based source line) and what. */
export interface Failure {
  readonly line: number
  /** 1-based, when known. */
  readonly column?: number
  readonly message: string
}

/** `"text"` with newlines and other control characters escaped, for one-line messages. */
export const quote = (s: string): string => JSON.stringify(s)

/**
 * The checks of `example` that its prints fail: a checked line must print at least once, and each of its
 * prints, trimmed, must equal the expected text. `prints` carry 0-based lines of the example's code. If the
 * example threw (at 0-based line `threwAt`, or `null` if the line is unknown), a check it never reached is
 * not reported: the error is.
 */
export const checkPrints = (
  example: DocExample,
  prints: readonly Print[],
  threwAt?: number | null,
): Failure[] => {
  const failures: Failure[] = []
  for (const { line, expected } of example.checks) {
    const mine = prints.filter((p) => p.line === line)
    const at = example.line + line
    const reached = threwAt === undefined || (threwAt !== null && line < threwAt)
    if (mine.length === 0 && reached)
      failures.push({ line: at, message: `printed nothing, expected ${quote(expected)}` })
    for (const p of mine) {
      const printed = p.text.trim()
      if (printed !== expected)
        failures.push({ line: at, message: `printed ${quote(printed)}, expected ${quote(expected)}` })
    }
  }
  return failures
}

/** The `export * as name from './file.js'` lines of an index module: `{ 'tree.ts': 'tree' }`. */
export const namespaceReexports = (indexText: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const m of indexText.matchAll(
    /export\s+\*\s+as\s+([\w$]+)\s+from\s+['"]\.\/([^'"]+?)(?:\.js|\.ts)?['"]/g,
  ))
    out[`${m[2]}.ts`] = m[1]!
  return out
}

/** A file name for an example's module: `tensor/src/arith/L54-add.ts` for line 54 of arith.ts. */
export const modulePath = (example: Pick<DocExample, 'file' | 'line' | 'symbol'>): string =>
  `${example.file.replace(/^packages\//, '').replace(/\.[cm]?ts$/, '')}/L${example.line}-${example.symbol.replace(/[^\w$.-]+/g, '_')}.ts`

/**
 * A guide whose front matter says `snippets: script` as one example: its ```ts blocks, in
 * order, form one program. Every other line of the Markdown file becomes an empty line, so the
 * program's line numbers are the guide's and failures are reported at the guide's own lines.
 * Undefined for a guide without that front matter.
 */
export const guideScript = (text: string, file: string): DocExample | undefined => {
  const front = /^---\n([\s\S]*?)\n---\n/.exec(text)
  if (front === null || !/^snippets:\s*script\s*$/m.test(front[1]!)) return undefined
  let inTs = false
  const lines = text.split('\n').map((l) => {
    if (!inTs && /^```ts\s*$/.test(l)) {
      inTs = true
      return ''
    }
    if (inTs && /^```\s*$/.test(l)) {
      inTs = false
      return ''
    }
    return inTs ? l : ''
  })
  const code = lines.join('\n')
  return { file, symbol: 'guide', line: 1, code, columns: lines.map(() => 0), checks: findChecks(code) }
}

/**
 * Every ```ts block of a guide without `snippets: script` as an example of its own (each block
 * is a whole program: it imports what it uses). Other lines become empty lines, so failures are
 * reported at the guide's own lines.
 */
export const guideBlocks = (text: string, file: string): DocExample[] => {
  const front = /^---\n([\s\S]*?)\n---\n/.exec(text)
  // `snippets: unchecked`: a guide whose blocks do not run (no guide says it now). A block that
  // needs a page is fenced ```ts page instead: skipped here, run in Chromium by browser-test.
  if (front !== null && /^snippets:\s*(script|unchecked)\s*$/m.test(front[1]!)) return []
  const all = text.split('\n')
  const out: DocExample[] = []
  let start = -1
  all.forEach((l, i) => {
    if (start < 0 && /^```ts\s*$/.test(l)) start = i
    else if (start >= 0 && /^```\s*$/.test(l)) {
      const lines = all.map((m, j) => (j > start && j < i ? m : ''))
      const code = lines.slice(0, i).join('\n')
      out.push({
        file,
        symbol: `block${start + 1}`,
        line: 1,
        code,
        columns: lines.slice(0, i).map(() => 0),
        checks: findChecks(code),
      })
      start = -1
    }
  })
  return out
}
