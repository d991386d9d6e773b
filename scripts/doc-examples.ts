// Type-checks and runs every ```ts block of every TSDoc `@example` in packages/*/src (docs/contributing/style.md §10).
//
//   pnpm doc-examples [package...]      e.g. `pnpm doc-examples tensor` or `pnpm doc-examples @purenn/optim`
//
// Each block becomes a module of its own under .doc-examples/ (git-ignored), next to a generated
// tsconfig.json whose `paths` send `@purenn/*` and `purenn` to the packages' src/index.ts. Then, at the same
// time: one `tsc --noEmit -p .doc-examples/tsconfig.json` type-checks all of them, and one tsx process
// (doc-examples-runner.ts) imports them one after another with console.log captured. A line
// `console.log(<args>) // <expected>` passes if what that call printed, trimmed, equals <expected>.
// Every problem is reported at its source line: `packages/tensor/src/arith.ts:54 (add): printed ...`.
import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  checkPrints,
  type DocExample,
  type ExtractProblem,
  extractExamples,
  type Failure,
  guideBlocks,
  guideScript,
  modulePath,
  namespaceReexports,
  type Print,
  parseTscOutput,
} from './doc-examples-lib.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(root, '.doc-examples')
const posix = (p: string) => p.split(sep).join('/')
const require = createRequire(import.meta.url)

// A module's first line says where it comes from; example code starts on line 2.
const header = 1
const timeoutMs = 10_000

const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    if (statSync(p).isDirectory())
      return f === 'test' || f === '__tests__' || f === 'node_modules' ? [] : walk(p)
    return /\.[cm]?ts$/.test(f) && !/\.d\.[cm]?ts$|\.test\.[cm]?ts$/.test(f) ? [p] : []
  })

// ---- which packages ----
const packages = readdirSync(join(root, 'packages'))
  .filter((d) => existsSync(join(root, 'packages', d, 'package.json')))
  .map((dir) => ({
    dir,
    name: String(JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')).name),
  }))
const args = process.argv.slice(2)
const unknown = args.filter((a) => a !== 'guides' && !packages.some((p) => p.dir === a || p.name === a))
if (unknown.length > 0) {
  console.error(
    `doc-examples: unknown package ${unknown.join(', ')}; known: ${packages.map((p) => p.name).join(', ')}`,
  )
  process.exit(2)
}
const selected =
  args.length === 0 ? packages : packages.filter((p) => args.includes(p.dir) || args.includes(p.name))

// ---- extract ----
const examples: DocExample[] = []
const problems: ExtractProblem[] = []
for (const { dir } of selected) {
  const src = join(root, 'packages', dir, 'src')
  if (!existsSync(src)) continue
  const index = join(src, 'index.ts')
  const namespaces = existsSync(index) ? namespaceReexports(readFileSync(index, 'utf8')) : {}
  for (const path of walk(src).sort()) {
    const ns = namespaces[posix(relative(src, path))]
    const found = extractExamples(readFileSync(path, 'utf8'), posix(relative(root, path)), ns ? `${ns}.` : '')
    examples.push(...found.examples)
    problems.push(...found.problems)
  }
}

// guides marked `snippets: script` run as one program each (all of them, or with the argument `guides`)
const guidesDir = join(root, 'docs', 'guides')
if ((args.length === 0 || args.includes('guides')) && existsSync(guidesDir))
  for (const f of readdirSync(guidesDir).sort())
    if (f.endsWith('.md')) {
      const ex = guideScript(readFileSync(join(guidesDir, f), 'utf8'), `docs/guides/${f}`)
      if (ex !== undefined) examples.push(ex)
      examples.push(...guideBlocks(readFileSync(join(guidesDir, f), 'utf8'), `docs/guides/${f}`))
    }

// ---- write the modules, the tsconfig and the manifest ----
const writeIfChanged = (path: string, text: string) => {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text)
}
mkdirSync(outDir, { recursive: true })
const modules = new Map<string, DocExample>() // absolute module path -> example
for (const ex of examples) {
  const path = join(outDir, 'examples', modulePath(ex))
  modules.set(path, ex)
  writeIfChanged(
    path,
    `// ${ex.file}:${ex.line} (${ex.symbol}), written by scripts/doc-examples.ts\n${ex.code}\n`,
  )
}
// modules of examples that are gone (or not selected this time) are removed
if (existsSync(join(outDir, 'examples')))
  for (const path of walk(join(outDir, 'examples'))) if (!modules.has(path)) unlinkSync(path)

const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2022'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    moduleDetection: 'force',
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noImplicitOverride: true,
    noFallthroughCasesInSwitch: true,
    isolatedModules: true,
    skipLibCheck: true,
    forceConsistentCasingInFileNames: true,
    noEmit: true,
    incremental: true,
    tsBuildInfoFile: './tsconfig.tsbuildinfo',
    baseUrl: '..',
    paths: {
      '@purenn/tensor/internal': ['packages/tensor/src/internal/index.ts'],
      '@purenn/*': ['packages/*/src/index.ts'],
      purenn: ['packages/purenn/src/index.ts'],
    },
  },
  files: [...modules.keys()].map((p) => posix(relative(outDir, p))),
}
const tsconfigPath = join(outDir, 'tsconfig.json')
writeIfChanged(tsconfigPath, `${JSON.stringify(tsconfig, null, 2)}\n`)
const resultsPath = join(outDir, 'results.jsonl')
rmSync(resultsPath, { force: true })
const manifestPath = join(outDir, 'manifest.json')
const ids = new Map<string, DocExample>()
const manifest = {
  results: resultsPath,
  timeoutMs,
  examples: [...modules].map(([path, ex]) => {
    const id = `${ex.file}:${ex.line}`
    ids.set(id, ex)
    return { id, path }
  }),
}
writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`)

// ---- type-check and run, at the same time ----
const run = (argv: string[]) =>
  new Promise<{ code: number | null; out: string }>((done, fail) => {
    const child = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d))
    child.stderr.on('data', (d: Buffer) => (out += d))
    child.on('error', fail)
    child.on('close', (code) => done({ code, out }))
  })
const none = Promise.resolve({ code: 0, out: '' })
const [tsc, runner] = await Promise.all([
  modules.size > 0
    ? run([require.resolve('typescript/bin/tsc'), '--noEmit', '-p', tsconfigPath, '--pretty', 'false'])
    : none,
  modules.size > 0
    ? run([
        require.resolve('tsx/cli'),
        '--tsconfig',
        tsconfigPath,
        join(root, 'scripts', 'doc-examples-runner.ts'),
        manifestPath,
      ])
    : none,
])

// ---- report ----
const failures = new Map<DocExample, Failure[]>()
const fail = (ex: DocExample, f: Failure) => failures.set(ex, [...(failures.get(ex) ?? []), f])
const general: string[] = []

for (const d of parseTscOutput(tsc.out)) {
  const ex = d.file === '' ? undefined : modules.get(resolve(root, d.file))
  const message = `type error ${d.code}: ${d.message.replace(/\n\s*/g, ' ')}`
  if (ex) {
    const i = d.line - 1 - header
    fail(ex, { line: ex.line + i, column: d.column + (ex.columns[i] ?? 0), message })
  } else
    general.push(
      d.file === ''
        ? message
        : `${posix(relative(root, resolve(root, d.file)))}:${d.line}:${d.column}: ${message}`,
    )
}
if (tsc.code !== 0 && parseTscOutput(tsc.out).length === 0) general.push(`tsc failed:\n${tsc.out}`)

const results = new Map<
  string,
  { prints: Print[]; error?: { name: string; message: string; line: number | null } }
>()
if (existsSync(resultsPath))
  for (const l of readFileSync(resultsPath, 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(l)
    results.set(r.id, r)
  }
for (const [id, ex] of ids) {
  const r = results.get(id)
  if (!r) {
    fail(ex, { line: ex.line, message: 'did not run (the runner stopped before it)' })
    continue
  }
  // prints and errors come with 1-based lines of the module; the example's code starts after the header
  const codeLine = (l: number | null) => (l === null ? null : l - 1 - header)
  const prints = r.prints.map((p) => ({ ...p, line: codeLine(p.line) }))
  const threwAt = r.error ? codeLine(r.error.line) : undefined
  for (const f of checkPrints(ex, prints, threwAt)) fail(ex, f)
  if (r.error) {
    const line = ex.line + Math.max(0, threwAt ?? 0)
    fail(ex, {
      line,
      message: `threw ${r.error.name}: ${r.error.message.split('\n')[0]!.replaceAll(`${root}${sep}`, '')}`,
    })
  }
}
if (runner.code !== 0 || results.size < ids.size)
  general.push(`the example runner exited with ${runner.code}:\n${runner.out}`)

const lines = [
  ...problems.map((p) => ({
    file: p.file,
    line: p.line,
    text: `${p.file}:${p.line} (${p.symbol}): ${p.message}`,
  })),
  ...[...failures].flatMap(([ex, fs]) =>
    fs.map((f) => ({
      file: ex.file,
      line: f.line,
      text: `${ex.file}:${f.line}${f.column ? `:${f.column}` : ''} (${ex.symbol}): ${f.message}`,
    })),
  ),
].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line)
// an error that many examples throw alike (a package fails to load) is shown three times, then counted
const threw = (text: string) => /^.*?\): (threw .*)$/.exec(text)?.[1]
const count = new Map<string, number>()
for (const l of lines) {
  const t = threw(l.text)
  if (t) count.set(t, (count.get(t) ?? 0) + 1)
}
const shown = new Map<string, number>()
for (const l of lines) {
  const t = threw(l.text)
  const n = t ? (shown.get(t) ?? 0) + 1 : 0
  if (t) shown.set(t, n)
  if (n <= 3) console.error(l.text)
  if (t && n === 3 && count.get(t)! > 3)
    console.error(`  ... and ${count.get(t)! - 3} more examples that ${t}`)
}
if (general.length > 0) {
  console.error('\nproblems outside the doc examples:')
  for (const g of general) console.error(`  ${g}`)
}
const failed = failures.size + problems.length
console.log(`doc examples: ${examples.length - failures.size} passed, ${failed} failed`)
process.exit(failed > 0 || general.length > 0 ? 1 : 0)
