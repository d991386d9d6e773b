// The dependency graph is the architecture (docs/contributing/style.md §1). This check fails when
//  - a package imports a workspace package it is not allowed to (e.g. layers -> optim),
//  - a package's package.json or tsconfig references disagree with that graph,
//  - any source file takes part in an import cycle (checked with madge),
//  - a script under scripts/ imports a package's src instead of the package.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import madge from 'madge'

const allowed = {
  tensor: [],
  layers: ['tensor'],
  optim: ['tensor'],
  data: ['tensor'],
  train: ['tensor', 'layers', 'optim'],
  purenn: ['tensor', 'layers', 'optim', 'data', 'train', 'testing'],
  testing: ['tensor', 'layers', 'optim'],
  onnx: ['tensor', 'layers'],
  keras: ['tensor', 'layers'],
}
const nameOf = (spec) => (spec === 'purenn' ? 'purenn' : spec.replace(/^@purenn\//, ''))
const walk = (dir) =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : []
  })

const problems = []
for (const [pkg, deps] of Object.entries(allowed)) {
  for (const file of walk(join('packages', pkg, 'src'))) {
    // comments (TSDoc examples import the package itself) are not imports
    const text = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '')
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'((?:@purenn\/[a-z]+)|purenn)(?:\/[^']*)?'/g)) {
      const target = nameOf(m[1])
      if (target !== pkg && !deps.includes(target))
        problems.push(`${file}: imports ${m[1]}, not allowed for ${pkg}`)
      if (target === pkg) problems.push(`${file}: imports its own package ${m[1]}; use a relative import`)
    }
  }
  const pj = JSON.parse(readFileSync(join('packages', pkg, 'package.json'), 'utf8'))
  const declared = Object.keys(pj.dependencies ?? {})
    .filter((d) => d.startsWith('@purenn/'))
    .map(nameOf)
  const refs = JSON.parse(readFileSync(join('packages', pkg, 'tsconfig.json'), 'utf8')).references ?? []
  const referenced = refs.map((r) => r.path.replace('../', ''))
  if (declared.sort().join() !== [...deps].sort().join())
    problems.push(`packages/${pkg}/package.json: depends on [${declared}], the graph says [${deps}]`)
  if (referenced.sort().join() !== [...deps].sort().join())
    problems.push(`packages/${pkg}/tsconfig.json: references [${referenced}], the graph says [${deps}]`)
}

// scripts import the packages by name (built dist), as users do: a script importing a package's
// src gets a second copy of every package that one imports by name (two pools, tapes, wasm memories)
const walkScripts = (dir) =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? walkScripts(p) : /\.(ts|mjs)$/.test(p) ? [p] : []
  })
for (const file of walkScripts('scripts'))
  for (const m of readFileSync(file, 'utf8').matchAll(
    /(?:from|import)\s*\(?\s*'((?:\.\.\/)+packages\/[a-z]+\/src\/[^']*)'/g,
  ))
    problems.push(`${file}: imports ${m[1]}; import the package by name (@purenn/...)`)

const graph = await madge(
  Object.keys(allowed).map((p) => join('packages', p, 'src')),
  {
    fileExtensions: ['ts'],
    tsConfig: 'tsconfig.base.json',
    detectiveOptions: { ts: { skipTypeImports: true } },
  },
)
for (const cycle of graph.circular()) problems.push(`import cycle: ${cycle.join(' -> ')}`)

if (problems.length > 0) {
  console.error(`import graph check failed:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log('import graph: ok (no cycles, package edges as in docs/contributing/design.md)')
