// Creating a folder and its missing parents (`mkdir -p`), one folder at a time. Node's
// `mkdir(path, { recursive: true })` loops forever when creating a folder fails with ENOENT
// although its parent exists, as anywhere under /proc (`mkdirSync('/proc/x/y', { recursive:
// true })` never returns, in Node 20 and 22), so a cache or output folder in such a place hung
// the caller instead of failing. Here each missing folder is created on its own with a plain
// `mkdir`, which fails at once, and the error names the folder asked for and the one that
// could not be made. Node's fs is taken at run time, as in files.ts.

type NodeFs = typeof import('node:fs')
type NodePath = typeof import('node:path')

const builtin = <M>(id: string): M => {
  const m = (
    globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
  ).process?.getBuiltinModule?.(id) as M | undefined
  if (m === undefined) throw new Error('creating folders needs Node (20.16 or later)')
  return m
}

/** The folders to create, outermost first: `dir` and its parents up to the first that exists. */
const missingFolders = (fs: NodeFs, path: NodePath, dir: string): string[] => {
  const missing: string[] = []
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    let exists: boolean
    try {
      exists = fs.statSync(d, { throwIfNoEntry: false }) !== undefined
    } catch {
      exists = true // cannot be looked at (EACCES): let mkdir of its child say why
    }
    if (exists || path.dirname(d) === d) break
    missing.unshift(d)
  }
  return missing
}

const failure = (dir: string, made: string, e: unknown): Error =>
  new Error(
    `cannot create the folder ${dir}: ${made === dir ? '' : `creating ${made} failed: `}${(e as Error).message}`,
  )

/**
 * Creates the folder `dir` and its missing parents, like `mkdir -p`, synchronously; throws an
 * Error naming `dir` and the folder that could not be made. Never hangs (see above).
 */
export const makeFoldersSync = (dir: string): void => {
  const fs = builtin<NodeFs>('node:fs')
  const path = builtin<NodePath>('node:path')
  for (const d of missingFolders(fs, path, dir)) {
    try {
      fs.mkdirSync(d)
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw failure(path.resolve(dir), d, e)
    }
  }
  let st: import('node:fs').Stats
  try {
    st = fs.statSync(dir)
  } catch (e) {
    throw failure(path.resolve(dir), path.resolve(dir), e)
  }
  if (!st.isDirectory())
    throw new Error(`cannot create the folder ${path.resolve(dir)}: a file of that name exists`)
}

/** {@link makeFoldersSync}, asynchronous. */
export const makeFolders = async (dir: string): Promise<void> => {
  const fs = builtin<NodeFs>('node:fs')
  const path = builtin<NodePath>('node:path')
  for (const d of missingFolders(fs, path, dir)) {
    await fs.promises.mkdir(d).catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'EEXIST') throw failure(path.resolve(dir), d, e)
    })
  }
  const st = await fs.promises.stat(dir).catch((e: unknown) => {
    throw failure(path.resolve(dir), path.resolve(dir), e)
  })
  if (!st.isDirectory())
    throw new Error(`cannot create the folder ${path.resolve(dir)}: a file of that name exists`)
}
