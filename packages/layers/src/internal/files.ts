// Opening the files a manifest names without trusting it: the path stays inside the model
// folder, only regular files are opened (a FIFO or a device never blocks the loader), sizes are
// known before anything is allocated, and no message says anything about files outside the
// folder or quotes their bytes. Not exported from the package.
import * as fs from 'node:fs/promises'
import { isAbsolute, join, sep } from 'node:path'
import { openRegularFile } from '@purenn/tensor/internal'
import * as E from 'fp-ts/lib/Either.js'

/** An opened regular file inside the model folder, and its size in bytes. */
export interface Opened {
  readonly fh: fs.FileHandle
  readonly size: number
  /** Device and inode: two names (a link, `./x` and `x`) of one file have the same id. */
  readonly id: string
}

/** Whether `rel` is a plain relative path with no `..`, no absolute part and no odd characters. */
export const isContainedPath = (rel: string): boolean =>
  rel.length > 0 &&
  rel.length <= 1024 &&
  !isAbsolute(rel) &&
  !/^[a-zA-Z]:/.test(rel) &&
  !rel.includes('\0') &&
  !rel.includes('\\') &&
  rel.split('/').every((part) => part !== '..' && part !== '')

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code

/**
 * Opens `rel` inside `base` for reading. The Left is a message that starts with `rel` (the name
 * as the manifest gives it) and never depends on anything outside `base`.
 */
export const openInside = async (base: string, rel: string): Promise<E.Either<string, Opened>> => {
  if (!isContainedPath(rel))
    return E.left(
      `${JSON.stringify(rel)}: not a relative path inside the model folder (no "..", no absolute path)`,
    )
  let realBase: string
  let real: string
  try {
    realBase = await fs.realpath(base)
  } catch {
    return E.left(`${rel}: the model folder cannot be read`)
  }
  // component by component: a name that does not exist is reported only once every folder
  // above it is known to be inside, so nothing is learnt about files elsewhere
  const outside = E.left(
    `${rel}: a symbolic link that does not resolve to a file inside the model folder, refused`,
  )
  real = realBase
  for (const part of rel.split('/')) {
    const next = join(real, part)
    let l: Awaited<ReturnType<typeof fs.lstat>>
    try {
      l = await fs.lstat(next)
    } catch (e) {
      return E.left(
        code(e) === 'ENOENT' ? `${rel}: not found in the model folder` : `${rel}: cannot be opened`,
      )
    }
    if (!l.isSymbolicLink()) real = next
    else {
      const r = await fs.realpath(next).catch(() => undefined)
      if (r === undefined || !r.startsWith(realBase + sep)) return outside
      real = r
    }
  }
  // only a regular file, opened without blocking (shared with @purenn/data's readers)
  const opened = await openRegularFile(real, { noFollow: true })
  if (!opened.ok)
    return E.left(
      opened.problem === 'not found' ? `${rel}: not found in the model folder` : `${rel}: ${opened.problem}`,
    )
  return E.right({ fh: opened.file, size: opened.size, id: opened.id })
}

/** Fills `into` from `position` of the file; false if the file ended first. */
export const readExact = async (fh: fs.FileHandle, into: Uint8Array, position: number): Promise<boolean> => {
  const piece = 1 << 30 // one read call returns at most ~2 GiB
  let done = 0
  while (done < into.length) {
    const want = Math.min(piece, into.length - done)
    const { bytesRead } = await fh.read(into, done, want, position + done)
    if (bytesRead === 0) return false
    done += bytesRead
  }
  return true
}

/** Reads a whole small text file inside `base` (at most `maxBytes`), or a Left naming `rel`. */
export const readTextInside = async (
  base: string,
  rel: string,
  maxBytes: number,
): Promise<E.Either<string, string>> => {
  const opened = await openInside(base, rel)
  if (E.isLeft(opened)) return opened
  const { fh, size } = opened.right
  try {
    if (size > maxBytes) return E.left(`${rel}: ${size} bytes, more than the limit of ${maxBytes}`)
    const bytes = new Uint8Array(size)
    if (!(await readExact(fh, bytes, 0))) return E.left(`${rel}: changed while it was read`)
    return E.right(new TextDecoder().decode(bytes))
  } catch {
    return E.left(`${rel}: cannot be read`)
  } finally {
    await fh.close()
  }
}
