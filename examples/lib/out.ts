/**
 * `pnpm train --out DIR` is checked before any training: a run must not spend an hour and then
 * fail to write its results.
 */
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/** The names a saved model folder holds (see `saveModel`). */
const savedModelEntry =
  /^(CURRENT|model\.json|weights\.bin|v\d{6,}|\.tmp-\d+-[0-9a-f]+|\.CURRENT-\d+-[0-9a-f]+|\.CURRENT\.lock)$/

/**
 * `mkdir -p` one folder at a time. (Node's `mkdir(path, { recursive: true })` loops forever
 * when a folder's creation fails with ENOENT although its parent exists, as under /proc.)
 */
const mkdirs = async (dir: string): Promise<void> => {
  const missing: string[] = []
  for (let d = dir; (await stat(d).catch(() => undefined)) === undefined; d = dirname(d)) {
    if (dirname(d) === d) break
    missing.unshift(d)
  }
  for (const d of missing)
    await mkdir(d).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e
    })
}

/**
 * Creates `out` if needed and proves it writable by writing and removing a probe file; its
 * `model` (and `checkpoint`) entries, if present, must be saved-model folders. Resolves to a
 * reason when it cannot be used.
 */
export const checkOutDir = async (out: string): Promise<string | undefined> => {
  const st = await stat(out).catch(() => undefined)
  if (st !== undefined && !st.isDirectory()) return `--out ${out} exists and is not a directory`
  try {
    await mkdirs(out)
    const probe = join(out, `.purenn-probe-${process.pid}`)
    await writeFile(probe, '')
    await rm(probe)
  } catch (e) {
    return `--out ${out} cannot be written: ${(e as Error).message}`
  }
  for (const sub of ['model', 'checkpoint']) {
    const p = join(out, sub)
    const s = await stat(p).catch(() => undefined)
    if (s === undefined) continue
    if (!s.isDirectory()) return `--out ${out}: ${p} exists and is not a saved-model folder`
    const other = (await readdir(p)).find((n) => !savedModelEntry.test(n))
    if (other !== undefined) return `--out ${out}: ${p} holds ${other}, which is not part of a saved model`
  }
  return undefined
}
