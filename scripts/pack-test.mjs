#!/usr/bin/env node
// Packs every package as it would be published, installs the tarballs into a new project
// with npm (dependencies from the npm registry), and checks what a user sees:
//   - each package imports from plain Node ESM (`import`), and `require` works on Node >= 20.19
//     (no top-level await anywhere in the graph) or fails with a clear ESM-only message;
//   - a consumer type-checks against the shipped .d.ts files under `moduleResolution: nodenext`
//     without @types/node (the DOM library only, as in a browser project);
//   - every tarball has its README.md and LICENSE and no build info;
// and reports tarball sizes, the installed dependency count and size, and cold import times.
// Usage: node scripts/pack-test.mjs [--keep]   (run after `tsc -b`; CI runs it after typecheck)
import { execFileSync, spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const keep = process.argv.includes('--keep')
const scratch = mkdtempSync(join(tmpdir(), 'purenn-pack-'))
const tarballs = join(scratch, 'tarballs')
const project = join(scratch, 'project')
mkdirSync(tarballs)
mkdirSync(project)

const failures = []
const fail = (msg) => {
  failures.push(msg)
  console.error(`FAIL ${msg}`)
}
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`

// 1. pack every publishable package (pnpm pack turns workspace:* into versions)
const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter((p) => p.manifest.private !== true)
const packed = []
for (const p of packages) {
  const before = new Set(readdirSync(tarballs))
  run('pnpm', ['pack', '--pack-destination', tarballs], p.dir)
  const file = readdirSync(tarballs).find((f) => !before.has(f))
  if (file === undefined) throw new Error(`pnpm pack made no tarball for ${p.manifest.name}`)
  const listing = run('tar', ['-tzf', join(tarballs, file)])
    .split('\n')
    .filter(Boolean)
  for (const needed of ['package/README.md', 'package/LICENSE', 'package/package.json'])
    if (!listing.includes(needed)) fail(`${p.manifest.name}: the tarball has no ${needed.slice(8)}`)
  if (
    existsSync(join(p.dir, 'LICENSE')) &&
    readFileSync(join(p.dir, 'LICENSE'), 'utf8') !== readFileSync(join(root, 'LICENSE'), 'utf8')
  )
    fail(`${p.manifest.name}: LICENSE differs from the repository's`)
  for (const f of listing) if (f.endsWith('.tsbuildinfo')) fail(`${p.manifest.name}: the tarball ships ${f}`)
  packed.push({
    name: p.manifest.name,
    manifest: p.manifest,
    file,
    size: statSync(join(tarballs, file)).size,
    files: listing.length,
  })
}

// 2. a new project that depends on the tarballs (internal versions resolve to them)
writeFileSync(
  join(project, 'package.json'),
  JSON.stringify(
    {
      name: 'purenn-consumer',
      version: '1.0.0',
      private: true,
      type: 'module',
      dependencies: Object.fromEntries(packed.map((p) => [p.name, `file:../tarballs/${p.file}`])),
      overrides: Object.fromEntries(packed.map((p) => [p.name, `file:../tarballs/${p.file}`])),
    },
    null,
    2,
  ),
)
const install = spawnSync(
  'npm',
  ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn'],
  {
    cwd: project,
    encoding: 'utf8',
  },
)
if (install.status !== 0) throw new Error(`npm install failed:\n${install.stdout}\n${install.stderr}`)
if (/EBADENGINE/.test(install.stderr)) fail(`npm warned about engines:\n${install.stderr}`)

// installed third-party packages (everything in node_modules but ours) and their size
const ours = new Set(packed.map((p) => p.name))
const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'))
const thirdParty = Object.keys(lock.packages)
  .filter((k) => k.startsWith('node_modules/'))
  .map((k) => k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length))
  .filter((n) => !ours.has(n))
const duBytes = (dir) => {
  let total = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) total += duBytes(p)
    else if (e.isFile()) total += statSync(p).size
  }
  return total
}
const installed = duBytes(join(project, 'node_modules'))
const oursInstalled = packed.reduce(
  (t, p) => t + duBytes(join(project, 'node_modules', ...p.name.split('/'))),
  0,
)

// 3. import each package from plain ESM in a fresh process (cold import time), then require it
const timeImportOnce = (name) => {
  const code = `const t = performance.now(); const m = await import(${JSON.stringify(name)}); console.log(JSON.stringify({ ms: performance.now() - t, exports: Object.keys(m).length }))`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: project,
    encoding: 'utf8',
  })
  if (r.status !== 0) {
    fail(`import('${name}') failed:\n${r.stderr}`)
    return undefined
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1))
}
/** The median of 3 fresh processes (the machine is shared: one run is noisy). */
const timeImport = (name) => {
  const runs = []
  for (let i = 0; i < 3; i++) {
    const r = timeImportOnce(name)
    if (r === undefined) return undefined
    runs.push(r)
  }
  return runs.sort((a, b) => a.ms - b.ms)[1]
}
const tryRequire = (name) => {
  const code = `const m = require(${JSON.stringify(name)}); console.log(Object.keys(m).length)`
  const r = spawnSync(process.execPath, ['-e', code], { cwd: project, encoding: 'utf8' })
  if (r.status === 0) return 'ok'
  const reason = /ERR_REQUIRE_ASYNC_MODULE/.test(r.stderr)
    ? 'ERR_REQUIRE_ASYNC_MODULE'
    : /ERR_REQUIRE_ESM/.test(r.stderr)
      ? 'ERR_REQUIRE_ESM (ESM-only on this Node)'
      : (r.stderr.split('\n').find((l) => /Error/.test(l)) ?? 'failed')
  return reason
}
const [major, minor] = process.versions.node.split('.').map(Number)
const requireSupported = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19)
const rows = []
for (const p of packed) {
  const imported = timeImport(p.name)
  const required = tryRequire(p.name)
  if (requireSupported && required !== 'ok')
    fail(`require('${p.name}') failed on Node ${process.versions.node}: ${required}`)
  if (imported !== undefined && imported.exports === 0) fail(`import('${p.name}') has no exports`)
  rows.push({ ...p, importMs: imported?.ms, required })
}

// 4. a consumer type-checks under nodenext (ESM and CommonJS files), without @types/node
writeFileSync(
  join(project, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: [],
      lib: ['es2022', 'dom'], // a browser's globals (fetch, Blob); no @types/node
    },
    include: ['consumer.mts', 'consumer.cts'],
  }),
)
writeFileSync(
  join(project, 'consumer.mts'),
  `import * as pn from 'purenn'
import { add, tensor, key } from '@purenn/tensor'
import { dense, sequential } from '@purenn/layers'
import { adam } from '@purenn/optim'
import { batches } from '@purenn/data'
import { learningCurvesSvg, fit } from '@purenn/train'
const t = add(tensor([1, 2]), tensor([3, 4]))
const model = sequential([dense({ units: 2 })])
const svg: Promise<string> = learningCurvesSvg({ history: { loss: [1] }, epoch: [0] })
export const used = [pn, t, key, model, adam, batches, fit, svg]
`,
)
writeFileSync(
  join(project, 'consumer.cts'),
  `import pn = require('purenn')
export const version: unknown = pn
`,
)
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const typecheck = spawnSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8' })
if (typecheck.status !== 0)
  fail(`the consumer does not type-check under nodenext:\n${typecheck.stdout}${typecheck.stderr}`)

// 5. report
console.log('\npackage              tarball    files  cold import  require')
for (const r of rows)
  console.log(
    `${r.name.padEnd(20)} ${kb(r.size).padStart(9)}  ${String(r.files).padStart(5)}  ${r.importMs === undefined ? '   failed' : `${r.importMs.toFixed(0).padStart(6)} ms`}   ${r.required}`,
  )
console.log(
  `\nthird-party dependencies installed: ${thirdParty.length} (${[...new Set(thirdParty)].sort().join(', ')})`,
)
console.log(
  `node_modules of the consumer: ${(installed / 1024 / 1024).toFixed(1)} MB, of which third-party ${((installed - oursInstalled) / 1024 / 1024).toFixed(1)} MB`,
)
console.log(`consumer type-check (nodenext, no @types/node): ${typecheck.status === 0 ? 'ok' : 'failed'}`)
if (keep) console.log(`scratch project kept in ${scratch}`)
else rmSync(scratch, { recursive: true, force: true })
if (failures.length > 0) {
  console.error(`\npack test: ${failures.length} problem(s)`)
  process.exit(1)
}
console.log('\npack test: ok')
