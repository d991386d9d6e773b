// Opening a file only when it is a regular file, without ever blocking on a FIFO or a device:
// the file is opened with O_NONBLOCK (opening a FIFO for reading then returns at once instead
// of waiting for a writer) and the open descriptor is fstat'ed (so no rename between a stat and
// the open can swap the file). Shared by the model loaders of @purenn/layers and the data
// readers of @purenn/data, in its asynchronous and its synchronous form. Node's fs is taken at
// run time (process.getBuiltinModule), never imported, so this file bundles for a browser.

type NodeFs = typeof import('node:fs')
type FileHandle = import('node:fs/promises').FileHandle

/** Why a file was not opened: missing, not a regular file, or any other failure. */
export type OpenProblem = 'not found' | 'not a regular file' | 'cannot be opened'

/** An opened regular file and its size in bytes, or the problem. */
export type OpenedRegular<F> =
  | {
      readonly ok: true
      readonly file: F
      readonly size: number
      /** The file's identity (device and inode): two names of one file have the same. */
      readonly id: string
    }
  | { readonly ok: false; readonly problem: OpenProblem }

const nodeFs = (): NodeFs => {
  const fs = (
    globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
  ).process?.getBuiltinModule?.('node:fs') as NodeFs | undefined
  if (fs === undefined) throw new Error('reading files needs Node (20.16 or later)')
  return fs
}

const flags = (fs: NodeFs, noFollow: boolean): number =>
  fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (noFollow ? (fs.constants.O_NOFOLLOW ?? 0) : 0)

const problemOf = (e: unknown): OpenProblem =>
  (e as { code?: string }).code === 'ENOENT' ? 'not found' : 'cannot be opened'

/**
 * Opens `path` for reading if it is a regular file (a FIFO, a device or a folder is refused at
 * once, without blocking). `noFollow` refuses a symbolic link as the last component.
 */
export const openRegularFile = async (
  path: string,
  opts: { readonly noFollow?: boolean } = {},
): Promise<OpenedRegular<FileHandle>> => {
  const fs = nodeFs()
  let fh: FileHandle
  try {
    fh = await fs.promises.open(path, flags(fs, opts.noFollow === true))
  } catch (e) {
    return { ok: false, problem: problemOf(e) }
  }
  try {
    const st = await fh.stat()
    if (st.isFile()) return { ok: true, file: fh, size: st.size, id: `${st.dev}:${st.ino}` }
  } catch {
    // fall through: closed below
  }
  await fh.close()
  return { ok: false, problem: 'not a regular file' }
}

/**
 * Reads the whole of `path` synchronously if it is a regular file of at most `maxBytes`
 * (default: any size): the bytes, or a message starting with `path`.
 */
export const readRegularFileSync = (
  path: string,
  maxBytes = Number.POSITIVE_INFINITY,
): { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly message: string } => {
  const fs = nodeFs()
  let fd: number
  try {
    fd = fs.openSync(path, flags(fs, false))
  } catch (e) {
    return { ok: false, message: `${path}: cannot read the file (${(e as Error).message})` }
  }
  try {
    const st = fs.fstatSync(fd)
    if (!st.isFile())
      return { ok: false, message: `${path}: not a regular file (a FIFO, a device or a folder), refused` }
    if (st.size > maxBytes)
      return { ok: false, message: `${path}: ${st.size} bytes, more than the limit of ${maxBytes}` }
    const bytes = new Uint8Array(st.size)
    let done = 0
    while (done < bytes.length) {
      // one read call returns at most ~2 GiB
      const n = fs.readSync(fd, bytes, done, Math.min(bytes.length - done, 2 ** 30), done)
      if (n === 0) return { ok: false, message: `${path}: changed while it was read (ended early)` }
      done += n
    }
    return { ok: true, bytes }
  } catch (e) {
    return { ok: false, message: `${path}: cannot read the file (${(e as Error).message})` }
  } finally {
    fs.closeSync(fd)
  }
}
