// Versioned, atomically published folders: the storage under saveModel and training
// checkpoints. Not exported from the package.
//
// Layout of a published folder `dir`:
//   dir/CURRENT          one line, the name of the published version ("v000007")
//   dir/v000007/         a complete save, never written again once renamed into place
//   dir/v000006/         the previous one, kept for readers that read CURRENT a moment ago
//   dir/.tmp-<pid>-<r>/  a save being written (removed by the next save once <pid> is gone)
//
// A save writes and fsyncs its files in a fresh .tmp- folder, renames it to the next free
// vNNNNNN (rename of a folder onto a taken name fails, so concurrent savers each get their
// own number), fsyncs dir, then replaces CURRENT by renaming a synced temporary file onto it,
// holding dir/.CURRENT.lock (O_EXCL) so that CURRENT only ever moves to a newer version.
// A reader reads CURRENT, then the version it names: it sees one complete save or the other.
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import { join } from 'node:path'

/** The pointer file's name. */
export const CURRENT = 'CURRENT'
const VERSION = /^v(\d{6,})$/
const TMP = /^\.tmp-(\d+)-[0-9a-f]+$/
const POINTER_TMP = /^\.CURRENT-(\d+)-[0-9a-f]+$/

/** `v000007` for 7. */
export const versionName = (n: number): string => `v${String(n).padStart(6, '0')}`

/** The numbers of the published-or-publishable version folders in `dir`, ascending. */
const versions = (names: readonly string[]): number[] =>
  names
    .map((n) => VERSION.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b)

/** Whether a process with this id runs on this machine (so its temporary folder is in use). */
const alive = (pid: number): boolean => {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** fsync of a folder, so the renames inside it survive a power cut (best effort off Linux). */
const syncDir = async (dir: string): Promise<void> => {
  let fh: fs.FileHandle | undefined
  try {
    fh = await fs.open(dir, 'r')
    await fh.sync()
  } catch {
    // some platforms cannot open or fsync a folder; the renames are still atomic there
  } finally {
    await fh?.close()
  }
}

/** Writes a new file (failing if it exists) and fsyncs it. */
export const writeFileSynced = async (path: string, data: Uint8Array | string): Promise<void> => {
  const fh = await fs.open(path, 'wx', 0o666)
  try {
    if (typeof data === 'string') await fh.writeFile(data)
    else {
      // in pieces: one write call cannot take more than 2 GiB
      const piece = 1 << 30
      for (let at = 0; at < data.length; at += piece) {
        const part = data.subarray(at, Math.min(data.length, at + piece))
        let done = 0
        while (done < part.length) done += (await fh.write(part, done, part.length - done)).bytesWritten
      }
    }
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** The version CURRENT names, or undefined when there is no (readable, well-formed) CURRENT. */
export const readCurrent = async (dir: string): Promise<string | undefined> => {
  let text: string
  try {
    const fh = await fs.open(join(dir, CURRENT), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
    try {
      const st = await fh.stat()
      if (!st.isFile() || st.size > 64) return undefined
      text = await fh.readFile('utf8')
    } finally {
      await fh.close()
    }
  } catch {
    return undefined
  }
  const name = text.trim()
  return VERSION.test(name) ? name : undefined
}

/** The lock file held while CURRENT is compared and replaced. */
export const POINTER_LOCK = '.CURRENT.lock'
/** A lock older than this is stale whoever holds it: publishing takes milliseconds. */
const LOCK_STALE_MS = 30_000
/** How long a saver waits for a lock held by a live process before it gives up. */
const LOCK_WAIT_MS = 60_000

/** The lock's text ("<pid> <token>") and age, or undefined when there is no lock. */
const readLock = async (path: string): Promise<{ text: string; ageMs: number } | undefined> => {
  try {
    const [text, st] = await Promise.all([fs.readFile(path, 'utf8'), fs.stat(path)])
    return { text, ageMs: Date.now() - st.mtimeMs }
  } catch {
    return undefined
  }
}

/**
 * Removes a stale lock whose text was `stale`. The lock is first renamed to a name of this
 * process (so of two processes breaking it, one does), then checked: if it turns out to be a
 * fresh lock taken meanwhile, it is put back (a hard link, which fails rather than replace).
 */
const breakLock = async (dir: string, path: string, stale: string): Promise<void> => {
  const moved = join(dir, `.CURRENT-${process.pid}-${randomBytes(6).toString('hex')}`)
  try {
    await fs.rename(path, moved)
  } catch {
    return // gone already: another process broke or released it
  }
  if ((await fs.readFile(moved, 'utf8').catch(() => stale)) !== stale)
    await fs.link(moved, path).catch(() => undefined)
  await fs.rm(moved, { force: true })
}

/**
 * Runs `f` holding the pointer lock of `dir`: a file holding this process's id and a random
 * token, written in full under a private name and then hard-linked into place (a link fails
 * rather than replace, and a process killed at any moment leaves either no lock or a complete
 * one). A lock whose process is gone, or older than 30 s, is stale and broken; a live one is
 * waited for (at most 60 s, then an error).
 */
const withPointerLock = async <A>(dir: string, f: () => Promise<A>): Promise<A> => {
  const path = join(dir, POINTER_LOCK)
  const token = `${process.pid} ${randomBytes(8).toString('hex')}\n`
  const mine = join(dir, `.CURRENT-${process.pid}-${randomBytes(6).toString('hex')}`)
  await fs.writeFile(mine, token, { flag: 'wx', mode: 0o666 })
  try {
    const since = Date.now()
    for (let wait = 1; ; wait = Math.min(2 * wait, 50)) {
      try {
        await fs.link(mine, path)
        break
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      }
      const held = await readLock(path)
      if (held === undefined) continue // released meanwhile
      // a lock written by another program may be incomplete: only "<pid> <token>" names a process
      const m = /^(\d+) [0-9a-f]+\n$/.exec(held.text)
      if ((m !== null && !alive(Number(m[1]))) || held.ageMs > LOCK_STALE_MS) {
        await breakLock(dir, path, held.text)
        continue
      }
      if (Date.now() - since > LOCK_WAIT_MS)
        throw new Error(
          `saveModel: ${path} is held by process ${m?.[1] ?? '(unknown)'} for more than ${LOCK_WAIT_MS / 1000} s`,
        )
      await new Promise((r) => setTimeout(r, wait))
    }
  } finally {
    await fs.rm(mine, { force: true })
  }
  try {
    return await f()
  } finally {
    // released only if still ours (a lock held past LOCK_STALE_MS may have been broken)
    if ((await readLock(path))?.text === token) await fs.rm(path, { force: true })
  }
}

/** Options of {@link publish}. */
export interface PublishOptions {
  /** Published versions to keep besides the new one (older ones are removed). Default 1. */
  readonly keepPrevious?: number
}

/**
 * Writes a new version of `dir` with `write(tmpFolder)` and publishes it atomically; returns
 * the version's folder. `dir` is created if missing (its parent must exist).
 */
export const publish = async (
  dir: string,
  write: (folder: string) => Promise<void>,
  opts: PublishOptions = {},
): Promise<string> => {
  const created = await fs.mkdir(dir, { mode: 0o777 }).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e
      return false
    },
  )
  const tmp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`)
  let name: string
  try {
    await fs.mkdir(tmp, { mode: 0o777 }) // the umask applies, as for any new folder
    await write(tmp)
    await syncDir(tmp)
    // the next free number: a rename onto an existing (non-empty) folder fails, so two savers
    // never share one
    let n = (versions(await fs.readdir(dir)).at(-1) ?? 0) + 1
    for (;;) {
      name = versionName(n)
      try {
        await fs.mkdir(join(dir, name), { mode: 0o777 })
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
          n++
          continue
        }
        throw e
      }
      // the empty folder reserves the number; the rename replaces it by the complete save
      await fs.rename(tmp, join(dir, name))
      break
    }
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true })
    if (created) await fs.rmdir(dir).catch(() => undefined) // a first save that failed leaves nothing
    throw e
  }
  await syncDir(dir)
  // publish: CURRENT replaced in one rename, unless a concurrent saver published a newer one;
  // the comparison and the rename are one step under the pointer lock, so CURRENT only moves
  // forward (without it, two savers could both read v4, and the one with v5 rename last)
  const pointerTmp = join(dir, `.CURRENT-${process.pid}-${randomBytes(6).toString('hex')}`)
  await writeFileSynced(pointerTmp, `${name}\n`)
  await withPointerLock(dir, async () => {
    const current = await readCurrent(dir)
    if (current !== undefined && Number(current.slice(1)) > Number(name.slice(1))) await fs.rm(pointerTmp)
    else await fs.rename(pointerTmp, join(dir, CURRENT))
    await syncDir(dir)
  })
  await clean(dir, opts.keepPrevious ?? 1)
  return join(dir, name)
}

/**
 * Removes what no reader can need: leftovers of crashed saves (temporary folders and pointer
 * files of processes that are gone, empty reserved version folders older than the published
 * one), and published versions older than the `keepPrevious` before CURRENT.
 */
export const clean = async (dir: string, keepPrevious: number): Promise<void> => {
  const names = await fs.readdir(dir)
  const current = await readCurrent(dir)
  const cur = current === undefined ? undefined : Number(current.slice(1))
  const all = versions(names)
  const older = cur === undefined ? [] : all.filter((v) => v < cur)
  const drop = older.slice(0, Math.max(0, older.length - keepPrevious))
  const doomed = [
    ...names.filter((n) => {
      const m = TMP.exec(n) ?? POINTER_TMP.exec(n)
      return m !== null && !alive(Number(m[1]))
    }),
    ...drop.map(versionName),
  ]
  for (const n of doomed) await fs.rm(join(dir, n), { recursive: true, force: true }).catch(() => undefined)
}
