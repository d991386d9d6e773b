import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { makeFolders, makeFoldersSync } from '../src/internal/folders.js'

const root = mkdtempSync(join(tmpdir(), 'purenn-folders-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('makeFolders', () => {
  it('creates a folder and its missing parents, and accepts one that exists', async () => {
    const a = join(root, 'a', 'b', 'c')
    makeFoldersSync(a)
    expect(statSync(a).isDirectory()).toBe(true)
    makeFoldersSync(a)
    const b = join(root, 'x', 'y')
    await makeFolders(b)
    await makeFolders(b)
    expect(statSync(b).isDirectory()).toBe(true)
  })

  it('refuses a path through or onto a file, naming it', async () => {
    const file = join(root, 'file')
    writeFileSync(file, '')
    expect(() => makeFoldersSync(join(file, 'sub'))).toThrow(`cannot create the folder ${join(file, 'sub')}`)
    await expect(makeFolders(file)).rejects.toThrow(
      `cannot create the folder ${file}: a file of that name exists`,
    )
  })

  // Node's recursive mkdir never returns for a folder under /proc (ENOENT although the parent
  // exists). The call runs in a child process with a time limit, so a hang fails the test.
  it.skipIf(!existsSync('/proc/self'))('fails at once, naming the folder, under /proc (no hang)', () => {
    const helper = fileURLToPath(new URL('../src/internal/folders.ts', import.meta.url))
    const script = `import { makeFolders, makeFoldersSync } from ${JSON.stringify(helper)}
const problems = []
try { makeFoldersSync('/proc/purenn-no/cache') } catch (e) { problems.push(e.message) }
await makeFolders('/proc/purenn-no/cache').catch((e) => problems.push(e.message))
console.log(JSON.stringify(problems))`
    const repo = fileURLToPath(new URL('../../..', import.meta.url))
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repo,
      timeout: 20_000,
      encoding: 'utf8',
    })
    expect(run.signal).toBe(null) // null: it ended by itself, not killed at the time limit
    const problems = JSON.parse(run.stdout) as string[]
    expect(problems).toHaveLength(2)
    for (const p of problems)
      expect(p).toMatch(
        /^cannot create the folder \/proc\/purenn-no\/cache: creating \/proc\/purenn-no failed: /,
      )
  })
})
