import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkOutDir } from '../lib/out.js'

let root = ''
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'purenn-out-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('pnpm train --out, checked before training', () => {
  it('creates a missing folder and accepts it', async () => {
    const out = join(root, 'a', 'b')
    expect(await checkOutDir(out)).toBeUndefined()
    expect((await stat(out)).isDirectory()).toBe(true)
  })

  it('accepts a model/ holding the pointer lock a crashed save left', async () => {
    const out = join(root, 'locked')
    await mkdir(join(out, 'model', 'v000001'), { recursive: true })
    await writeFile(join(out, 'model', '.CURRENT.lock'), '')
    expect(await checkOutDir(out)).toBeUndefined()
  })

  it("refuses a folder that cannot be created at once (Node's recursive mkdir loops forever under /proc)", async () => {
    if (process.platform !== 'linux') return
    expect(await checkOutDir('/proc/purenn-out/run')).toMatch(
      /^--out \/proc\/purenn-out\/run cannot be written: ENOENT/,
    )
  })

  it('refuses a file, a folder under a file, and a model/ holding other files', async () => {
    const file = join(root, 'file')
    await writeFile(file, 'x')
    expect(await checkOutDir(file)).toBe(`--out ${file} exists and is not a directory`)
    expect(await checkOutDir(join(file, 'sub'))).toMatch(/^--out .*file\/sub cannot be written: /)
    const out = join(root, 'busy')
    await mkdir(join(out, 'model'), { recursive: true })
    await writeFile(join(out, 'model', 'notes.txt'), 'mine')
    expect(await checkOutDir(out)).toBe(
      `--out ${out}: ${join(out, 'model')} holds notes.txt, which is not part of a saved model`,
    )
  })
})
