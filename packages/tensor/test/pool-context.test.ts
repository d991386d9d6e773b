import { afterAll, describe, expect, it } from 'vitest'
import { __poolForTests, type PoolKernel, runChunks } from '../src/internal/pool.js'
import { setThreads } from '../src/threads.js'

// A kernel's context reaches the workers once, with its code, and every chunk receives it
// (on the calling thread, `entry` gets none: it has its own). The chunk writes
// `context[0] + 10·chunk` into the op's output, so a worker that ran without the context
// (or with another op's) leaves a wrong value.
const withContext: PoolKernel<readonly [Float32Array]> = {
  name: 'test:withContext',
  parts: [
    [
      'contextChunk',
      (args: readonly [Float32Array], chunk: number, context: readonly [Float32Array]) => {
        args[0][chunk] = context[0][0]! + 10 * chunk
      },
    ],
  ],
  entry: (args, chunk) => {
    args[0][chunk] = 7 + 10 * chunk
  },
  context: () => [new Float32Array(new SharedArrayBuffer(4)).fill(7)],
}

afterAll(() => setThreads(1))

describe('pool kernel context', () => {
  it('is passed to every chunk a worker runs, across ops', async () => {
    setThreads(2)
    const chunks = 64
    const before = __poolForTests.chunksByWorkers()
    const deadline = performance.now() + 20_000
    let ops = 0
    while (performance.now() < deadline && (ops < 3 || __poolForTests.chunksByWorkers() === before)) {
      const out = new Float32Array(new SharedArrayBuffer(4 * chunks))
      runChunks('contextTest', withContext, [out], chunks)
      expect(Array.from(out)).toEqual(Array.from({ length: chunks }, (_, c) => 7 + 10 * c))
      ops++
      await new Promise((r) => setTimeout(r, 2))
    }
    expect(__poolForTests.chunksByWorkers()).toBeGreaterThan(before)
  })
})

// A worker that lags (here: sleeps 50 ms in each chunk it runs, while the calling thread's
// chunks take no time) makes the next ops run on the calling thread alone, with the same
// results: on a shared machine a descheduled worker would otherwise hold up every op.
const lagging: PoolKernel<readonly [Float32Array]> = {
  name: 'test:lagging',
  parts: [
    [
      'laggingChunk',
      (args: readonly [Float32Array], chunk: number) => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
        args[0][chunk] = chunk + 1
      },
    ],
  ],
  entry: (args, chunk) => {
    args[0][chunk] = chunk + 1
  },
}

describe('the pool after a lagging worker', () => {
  it('runs the next ops on the calling thread alone, with the same result', async () => {
    setThreads(2)
    const chunks = 8
    const want = Array.from({ length: chunks }, (_, c) => c + 1)
    const op = () => {
      const out = new Float32Array(new SharedArrayBuffer(4 * chunks))
      runChunks('lagTest', lagging, [out], chunks)
      expect(Array.from(out)).toEqual(want)
    }
    const deadline = performance.now() + 20_000
    while (performance.now() < deadline && !__poolForTests.inline()) {
      op()
      await new Promise((r) => setTimeout(r, 2))
    }
    expect(__poolForTests.inline()).toBe(true)
    const before = __poolForTests.chunksByWorkers()
    op()
    expect(__poolForTests.chunksByWorkers()).toBe(before)
  })
})
