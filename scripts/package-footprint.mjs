#!/usr/bin/env node
// What installing purenn costs a user: packs every package as it would be published, installs
// the chosen ones (default `purenn`) from the tarballs into a new project with npm (third-party
// dependencies from the registry), and prints the installed size, the number of packages, and
// the cold import time (a fresh `node` process per run, the median of --runs, default 7) of
// `purenn` and `@purenn/tensor`. It measures and checks nothing: `pnpm pack-test` checks.
// The table in docs/contributing/package-footprint.md comes from it.
// Usage: pnpm footprint [--runs N] [package ...]   (after `tsc -b`)
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const runsAt = args.indexOf('--runs')
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 7
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs: expected a positive integer, got ${args[runsAt + 1]}`)
const wanted = args.filter((_, i) => runsAt < 0 || (i !== runsAt && i !== runsAt + 1))
const install = wanted.length > 0 ? wanted : ['purenn']

const scratch = mkdtempSync(join(tmpdir(), 'purenn-footprint-'))
const tarballs = join(scratch, 'tarballs')
const project = join(scratch, 'project')
mkdirSync(tarballs)
mkdirSync(project)
try {
  // every publishable package packed (pnpm pack turns workspace:* into versions)
  const packed = {}
  for (const dir of readdirSync(join(root, 'packages'))) {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'))
    if (manifest.private === true) continue
    const before = new Set(readdirSync(tarballs))
    execFileSync('pnpm', ['pack', '--pack-destination', tarballs], {
      cwd: join(root, 'packages', dir),
      stdio: 'ignore',
    })
    packed[manifest.name] = `file:../tarballs/${readdirSync(tarballs).find((f) => !before.has(f))}`
  }
  for (const name of install)
    if (packed[name] === undefined) throw new Error(`no publishable package ${name}`)
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'footprint',
      private: true,
      type: 'module',
      dependencies: Object.fromEntries(install.map((n) => [n, packed[n]])),
      overrides: packed, // our packages' dependencies on each other resolve to the tarballs too
    }),
  )
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: project,
    stdio: 'ignore',
  })

  const duBytes = (dir) =>
    readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
      const p = join(dir, e.name)
      return t + (e.isDirectory() ? duBytes(p) : e.isFile() ? statSync(p).size : 0)
    }, 0)
  const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'))
  const names = Object.keys(lock.packages)
    .filter((k) => k.startsWith('node_modules/'))
    .map((k) => k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length))
  const thirdParty = names.filter((n) => packed[n] === undefined)
  const ours = names.filter((n) => packed[n] !== undefined)
  const total = duBytes(join(project, 'node_modules'))
  const oursBytes = ours.reduce((t, n) => t + duBytes(join(project, 'node_modules', ...n.split('/'))), 0)

  // cold import: a fresh process per run; the import alone, and the whole process
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const coldImport = (name) => {
    const code =
      name === undefined
        ? ''
        : `const t = performance.now(); await import(${JSON.stringify(name)}); console.log(performance.now() - t)`
    const importMs = []
    const processMs = []
    for (let i = 0; i < runs; i++) {
      const t = performance.now()
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
        cwd: project,
        encoding: 'utf8',
      })
      processMs.push(performance.now() - t)
      if (r.status !== 0) throw new Error(`import('${name}') failed:\n${r.stderr}`)
      if (name !== undefined) importMs.push(Number(r.stdout.trim()))
    }
    return { importMs: name === undefined ? 0 : median(importMs), processMs: median(processMs) }
  }
  const mb = (b) => `${(b / 1024 / 1024).toFixed(1)} MB`
  console.log(`installed: ${install.join(', ')}`)
  console.log(
    `node_modules: ${mb(total)}, ${names.length} packages (${ours.length} purenn, ${thirdParty.length} third-party: ${mb(total - oursBytes)})`,
  )
  console.log(`third-party: ${[...new Set(thirdParty)].sort().join(', ')}`)
  const empty = coldImport(undefined)
  console.log(`\ncold start, median of ${runs} fresh processes   import   whole process`)
  console.log(
    `${'node -e "" (no import)'.padEnd(40)} ${'-'.padStart(6)}    ${empty.processMs.toFixed(0).padStart(6)} ms`,
  )
  for (const name of new Set([...install, 'purenn', '@purenn/tensor'])) {
    if (!names.includes(name)) continue
    const r = coldImport(name)
    console.log(
      `${`import('${name}')`.padEnd(40)} ${r.importMs.toFixed(0).padStart(6)} ms ${r.processMs.toFixed(0).padStart(6)} ms`,
    )
  }
  console.log(
    `\nmachine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}; Node ${process.versions.node}, ${process.platform}`,
  )
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
