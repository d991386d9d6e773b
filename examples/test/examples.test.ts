/**
 * Every script in `examples/` runs end to end with `--epochs 1 --subset N` (small N), and
 * `pnpm example` lists each one with a one-line description. The scripts run as a learner runs
 * them (tsx on the built `purenn`, which CI builds before the tests), two at a time, one kernel
 * thread each. Those that read Fashion-MNIST are skipped, with a notice, without its files.
 */
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))
const tsx = join(root, 'node_modules', '.bin', 'tsx')
const names = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort()
const out = mkdtempSync(join(tmpdir(), 'purenn-examples-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

// where examples/lib/chapter.ts looks for Fashion-MNIST when PURENN_DATA is not set
const fashion = join(root, '..', 'shared', 'data', 'fashion-mnist')
const haveFashion = process.env.PURENN_DATA !== undefined || existsSync(fashion)
if (!haveFashion)
  console.warn(
    `examples.test.ts: the Fashion-MNIST examples are SKIPPED (no files in ${fashion}, no PURENN_DATA)`,
  )

/** The flags of each example's quick run; those not listed read Fashion-MNIST and take `--subset 64`. */
const quick: Record<string, { readonly args: readonly string[]; readonly fashion: boolean }> = {
  'tensors-and-grad': { args: ['--subset', '8'], fashion: false },
  'vanishing-gradients': { args: ['--subset', '256', '--out', join(out, 'vg')], fashion: false },
  'cifar10-deep': { args: ['--subset', '64'], fashion: false },
  'transfer-learning': { args: ['--subset', '200'], fashion: true },
  train: { args: ['--subset', '64', '--out', join(out, 'train')], fashion: true },
}
const flagsOf = (name: string) => quick[name] ?? { args: ['--subset', '64'], fashion: true }

/** Runs one example; at most two at a time. */
let running = 0
const waiting: (() => void)[] = []
const runExample = async (name: string, args: readonly string[]) => {
  if (running >= 2) await new Promise<void>((r) => waiting.push(r))
  running++
  try {
    return await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        tsx,
        [join('examples', `${name}.ts`), ...args],
        { cwd: root, env: { ...process.env, PURENN_THREADS: '1' }, maxBuffer: 16 << 20 },
        (error, stdout, stderr) =>
          resolve({
            code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
            stdout,
            stderr,
          }),
      )
    })
  } finally {
    running--
    waiting.shift()?.()
  }
}

describe('pnpm example', () => {
  it('lists every example with a one-line description', () => {
    const r = spawnSync(process.execPath, ['scripts/example.mjs'], { cwd: root, encoding: 'utf8' })
    expect(r.status).toBe(0)
    for (const name of names) {
      const line = r.stdout.split('\n').find((l) => l.trimStart().startsWith(`${name} `))
      expect(line, name).toBeDefined()
      const description = line!.trim().slice(name.length).trim()
      expect(description.length, name).toBeGreaterThan(20)
      expect(description.length, name).toBeLessThan(120)
    }
  })

  it('refuses an unknown name with status 2', () => {
    const r = spawnSync(process.execPath, ['scripts/example.mjs', 'no-such-example'], {
      cwd: root,
      encoding: 'utf8',
    })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('unknown example "no-such-example"')
  })
})

describe.concurrent('every example runs with --epochs 1 and a small --subset', () => {
  for (const name of names) {
    const { args, fashion } = flagsOf(name)
    it.skipIf(fashion && !haveFashion)(name, async () => {
      const r = await runExample(name, ['--epochs', '1', ...args])
      expect(r.stderr.replace(/\(node:\d+\)[^\n]*\n?/g, ''), `${name} stderr`).not.toMatch(/Error/)
      expect(r.code, `${name}: ${r.stderr}`).toBe(0)
    })
  }

  // a bad flag is refused in one line, with status 2, before any data is read
  for (const [name, flag, value] of [
    ['dropout', '--epochs', '0'],
    ['cifar10-deep', '--subset', '1e3'],
  ] as const)
    it(`${name} refuses ${flag} ${value}`, async () => {
      const r = await runExample(name, [flag, value])
      expect(r.code).toBe(2)
      expect(r.stderr.trim()).toMatch(
        new RegExp(
          `^pnpm example ${name}: ${flag} must be a decimal integer from \\d+ to \\d+, got "${value}" \\(see --help\\)$`,
        ),
      )
    })
})
