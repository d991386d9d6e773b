import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadCifar10 } from '../src/cifar10.js'
import { loadFashionMnist } from '../src/fashionMnist.js'
import { readIdxFile } from '../src/idxFile.js'
import { loadMnist } from '../src/mnist.js'

// A FIFO in place of a data file must be refused at once. Before the fix, reading one blocked
// until a writer came: the writer started here comes after 3 s and writes one byte, so a
// blocking reader does not hang the run but ends with a decode error, and the test fails.
const hasMkfifo = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v mkfifo'], { stdio: 'ignore' })
    return process.platform !== 'win32'
  } catch {
    return false
  }
})()

const root = mkdtempSync(join(tmpdir(), 'purenn-fifo-'))
const writers: ChildProcess[] = []
afterAll(() => {
  for (const w of writers) w.kill('SIGKILL')
  rmSync(root, { recursive: true, force: true })
})

/** A FIFO at `path`, and a late writer that unblocks a blocking reader after 3 s. */
const fifo = (path: string): void => {
  execFileSync('mkfifo', [path])
  const w = spawn('sh', ['-c', 'sleep 3; printf x > "$0"', path], { stdio: 'ignore' })
  w.unref()
  writers.push(w)
}

describe.skipIf(!hasMkfifo)('data files that are FIFOs', () => {
  it('readIdxFile refuses a FIFO at once, naming it', () => {
    const path = join(root, 'labels-idx1-ubyte')
    fifo(path)
    expect(() => readIdxFile(path)).toThrow(
      `${path}: not a regular file (a FIFO, a device or a folder), refused`,
    )
  }, 10_000)

  it('the MNIST, Fashion-MNIST and CIFAR-10 loaders never block on one', async () => {
    const dir = join(root, 'loaders')
    mkdirSync(dir)
    for (const f of ['train-images-idx3-ubyte.gz', 'cifar-10-binary.tar.gz']) fifo(join(dir, f))
    // a FIFO is not one of the files a loader looks for: each says what is missing, at once
    const opts = { dir, download: false } as const
    await expect(loadMnist(opts)).rejects.toThrow(/MNIST/)
    await expect(loadFashionMnist(opts)).rejects.toThrow(/train-images-idx3-ubyte/)
    await expect(loadCifar10(opts)).rejects.toThrow(/cifar-10-binary\.tar\.gz/)
  }, 10_000)
})
