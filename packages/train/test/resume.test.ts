import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dense, dropout, initModel, sequential } from '@purenn/layers'
import { sgd } from '@purenn/optim'
import { getThreads, type Key, key, normal, setThreads, tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { __poolForTests } from '../../tensor/src/internal/pool.js'
import { fit, readCheckpoint } from '../src/index.js'
import { blobs, linearModel, modelBits } from './helpers/problems.js'

// Bit-exact resume: a run killed at random moments (also inside checkpoint writes) and resumed
// from its last checkpoint ends with the same weights and history, bit for bit, as a run that
// was never interrupted. The child processes run on the built packages.

const child = fileURLToPath(new URL('./helpers/resume-child.mjs', import.meta.url))
let root = ''
beforeAll(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'purenn-resume-'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

const current = (dir: string) => fs.readFile(join(dir, 'CURRENT'), 'utf8').catch(() => '')

/**
 * Runs the child to its end, or, with `killAfter`, kills it (SIGKILL) `killAfter` ms after it
 * has published a new checkpoint; resolves with its exit code (null when killed).
 */
const runChild = (args: string[], killAfter?: { dir: string; ms: number }): Promise<number | null> =>
  new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    let done = false
    p.stderr.on('data', (d) => (err += d))
    p.on('exit', (code, signal) => {
      done = true
      if (code !== 0 && signal === null) reject(new Error(`child exited with ${code}: ${err}`))
      else resolve(code)
    })
    if (killAfter !== undefined)
      void (async () => {
        const before = await current(killAfter.dir)
        while (!done && (await current(killAfter.dir)) === before) await new Promise((r) => setTimeout(r, 5))
        await new Promise((r) => setTimeout(r, killAfter.ms))
        if (!done) p.kill('SIGKILL')
      })()
  })

describe('fit: resume after SIGKILL', () => {
  it('Adam, shuffle, dropout, validation, early stopping: killed at random moments, resumed, bitwise equal', async () => {
    const reference = join(root, 'reference.json')
    await runChild(['plain', reference])
    const result = join(root, 'resumed.json')
    const dir = join(root, 'ckpt')
    // each run is killed a random 0-40 ms after it published a checkpoint: before, inside or
    // between the next steps and checkpoint writes
    const delays = fc.sample(fc.integer({ min: 0, max: 40 }), { numRuns: 4, seed: 12 })
    let kills = 0
    for (const ms of delays) {
      if (existsSync(result)) break
      if ((await runChild(['resume', result, dir], { dir, ms })) === null) kills++
    }
    if (!existsSync(result)) await runChild(['resume', result, dir])
    expect(kills).toBeGreaterThan(1)
    const [a, b] = await Promise.all([fs.readFile(reference, 'utf8'), fs.readFile(result, 'utf8')])
    expect(JSON.parse(b)).toEqual(JSON.parse(a))
  }, 60_000)
})

describe('fit: checkpoints and initialEpoch', () => {
  const p = blobs(key(80), 40)
  const base = {
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
    batchSize: 8,
    verbose: 0,
    key: key(81),
  } as const

  it('a checkpoint holds the model, optimizer state, key, epoch, position and history', async () => {
    const dir = join(root, 'holds')
    const optimizer = sgd({ learningRate: 0.1, momentum: 0.9 })
    const { model, history } = await fit(linearModel(key(82)), p.x, p.y, {
      ...base,
      optimizer,
      epochs: 2,
      checkpoint: { dir, everySteps: 2 },
    })
    const c = await readCheckpoint(dir)
    expect([c.epoch, c.stepInEpoch, c.step]).toEqual([2, 0, 10])
    expect(c.key.words).toEqual(key(81).words)
    expect(c.history).toEqual(history)
    expect(c.data).toEqual({ rows: 40, batchSize: 8, shuffle: true })
    expect(modelBits(c.model)).toEqual(modelBits(model))
    expect(c.callbacks.map((cb) => cb.name)).toEqual(['terminateOnNaN'])
  })

  it('resuming from a mid-epoch checkpoint equals the uninterrupted run (momentum, dropout), bit for bit', async () => {
    const dir = join(root, 'mid')
    const o = { ...base, optimizer: sgd({ learningRate: 0.05, momentum: 0.9 }) } as const
    const dropoutModel = (k: Key) =>
      initModel(
        sequential(
          [
            dense({ units: 16, activation: 'relu' }),
            dropout({ rate: 0.3 }),
            dense({ units: 2, activation: 'softmax' }),
          ],
          { inputShape: [2] },
        ),
        { key: k },
      )
    const full = await fit(dropoutModel(key(83)), p.x, p.y, { ...o, metrics: [], epochs: 3 })
    // a first run stopped after epoch 1, step 3 of 5, by a callback that keeps no state
    let steps = 0
    const stopper = {
      name: 'stopper',
      init: () => null,
      onBatchEnd: (s: null) => (++steps === 9 ? { state: s, stop: true } : { state: s }),
    }
    await fit(dropoutModel(key(83)), p.x, p.y, {
      ...o,
      metrics: [],
      epochs: 3,
      callbacks: [stopper],
      checkpoint: { dir, everySteps: 2 },
    })
    const c = await readCheckpoint(dir)
    expect([c.epoch, c.stepInEpoch]).toEqual([1, 2])
    const resumed = await fit(dropoutModel(key(0)), p.x, p.y, {
      ...o,
      metrics: [],
      epochs: 3,
      callbacks: [{ name: 'stopper', init: () => null }],
      resumeFrom: dir,
    })
    expect(modelBits(resumed.model)).toEqual(modelBits(full.model))
    expect(resumed.history).toEqual(full.history)
  })

  it('initialEpoch: epochs initialEpoch..epochs-1 with the shuffle order and keys of a run from 0', async () => {
    const o = { ...base, optimizer: sgd({ learningRate: 0.1 }) } // plain SGD: no optimizer state
    const full = await fit(linearModel(key(84)), p.x, p.y, { ...o, epochs: 4 })
    const first = await fit(linearModel(key(84)), p.x, p.y, { ...o, epochs: 2 })
    const rest = await fit(first.model, p.x, p.y, { ...o, epochs: 4, initialEpoch: 2 })
    expect(modelBits(rest.model)).toEqual(modelBits(full.model))
    expect(rest.history.epoch).toEqual([2, 3])
    expect(rest.history.history.loss).toEqual(full.history.history.loss!.slice(2))
  })

  it('a resume with other data, batch size or callbacks is refused', async () => {
    const dir = join(root, 'refuse')
    const o = { ...base, optimizer: sgd() }
    await fit(linearModel(key(85)), p.x, p.y, { ...o, epochs: 1, checkpoint: { dir } })
    await expect(
      fit(linearModel(key(85)), p.x, p.y, { ...o, batchSize: 4, epochs: 2, resumeFrom: dir }),
    ).rejects.toThrow(
      `fit: resumeFrom ${dir}: the checkpoint was written for 40 rows, batch size 8, shuffle true; this call has 40 rows, batch size 4, shuffle true`,
    )
    await expect(
      fit(linearModel(key(85)), p.x, p.y, { ...o, epochs: 2, resumeFrom: dir, terminateOnNaN: false }),
    ).rejects.toThrow(`the checkpoint holds the states of the callbacks [terminateOnNaN]; this call has []`)
    await expect(fit(linearModel(key(85)), p.x, p.y, { ...o, epochs: 2, initialEpoch: -1 })).rejects.toThrow(
      'fit: initialEpoch must be a non-negative integer, got -1',
    )
  })
})

describe('fit: a worker that dies mid-fit', () => {
  it('the pool is rebuilt and the pure step run again: the same result, bit for bit', async () => {
    const x = normal(key(90), [64, 128])
    const y = tensor(Array.from({ length: 64 }, (_, i) => i % 2))
    // a 128 -> 256 layer on batches of 32: matmuls large enough to run on the pool
    const model = () =>
      initModel(
        sequential([dense({ units: 256, activation: 'relu' }), dense({ units: 2, activation: 'softmax' })], {
          inputShape: [128],
        }),
        {
          key: key(91),
        },
      )
    const o = {
      loss: 'sparseCategoricalCrossentropy',
      optimizer: sgd({ learningRate: 0.01 }),
      epochs: 1,
      batchSize: 32,
      verbose: 0,
    } as const
    const before = getThreads()
    setThreads(2)
    try {
      const clean = await fit(model(), x, y, o)
      const ids = __poolForTests.threadIds()
      __poolForTests.crashOnNextOp(1)
      const crashed = await fit(model(), x, y, o)
      expect(__poolForTests.threadIds()).not.toEqual(ids) // a worker died and was replaced
      expect(modelBits(crashed.model)).toEqual(modelBits(clean.model))
      expect(crashed.history).toEqual(clean.history)
    } finally {
      setThreads(before)
    }
  })
})
