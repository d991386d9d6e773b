import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sgd } from '@purenn/optim'
import { key } from '@purenn/tensor'
import { afterAll, describe, expect, it } from 'vitest'
import { type Callback, fit, fitWithBackup } from '../src/index.js'
import { blobs, linearModel, modelBits } from './helpers/problems.js'

const roots: string[] = []
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true })
})

/** A callback that throws at the end of epoch `at` (a crash), or never. */
const crashAt = (at: number | undefined): Callback<null> => ({
  name: 'crash',
  init: () => null,
  onEpochEnd: (s, e) => {
    if (e.epoch === at) throw new Error(`crash after epoch ${at}`)
    return { state: s }
  },
})

describe('fitWithBackup', () => {
  it('continues after a crash from the last epoch backed up, ending bitwise as an uninterrupted run', async () => {
    const root = await mkdtemp(join(tmpdir(), 'purenn-backup-'))
    roots.push(root)
    const backupDir = join(root, 'backup')
    const data = blobs(key(3), 64)
    const model = linearModel(key(4))
    const opts = {
      loss: 'sparseCategoricalCrossentropy',
      optimizer: sgd({ learningRate: 0.1, momentum: 0.9 }),
      epochs: 4,
      batchSize: 16,
      verbose: 0,
    } as const
    const full = await fit(model, data.x, data.y, { ...opts, callbacks: [crashAt(undefined)] })
    await expect(
      fitWithBackup(model, data.x, data.y, { ...opts, callbacks: [crashAt(2)] }, { backupDir }),
    ).rejects.toThrow(/crash after epoch 2/)
    expect(existsSync(join(backupDir, 'CURRENT'))).toBe(true) // the backup stays after an error
    const resumed = await fitWithBackup(
      model,
      data.x,
      data.y,
      { ...opts, callbacks: [crashAt(undefined)] },
      { backupDir },
    )
    expect(modelBits(resumed.model)).toEqual(modelBits(full.model))
    expect(resumed.history).toEqual(full.history)
    expect(existsSync(backupDir)).toBe(false) // deleted after success
  })

  it('keeps the backup with deleteCheckpoint: false, and refuses checkpoint/resumeFrom', async () => {
    const root = await mkdtemp(join(tmpdir(), 'purenn-backup-'))
    roots.push(root)
    const backupDir = join(root, 'backup')
    const data = blobs(key(5), 32)
    const opts = { loss: 'sparseCategoricalCrossentropy', optimizer: 'sgd', epochs: 1, verbose: 0 } as const
    await fitWithBackup(linearModel(key(6)), data.x, data.y, opts, { backupDir, deleteCheckpoint: false })
    expect(existsSync(join(backupDir, 'CURRENT'))).toBe(true)
    await expect(
      fitWithBackup(linearModel(key(6)), data.x, data.y, { ...opts, resumeFrom: root } as never, {
        backupDir,
      }),
    ).rejects.toThrow(/do not pass checkpoint or resumeFrom/)
  })
})
