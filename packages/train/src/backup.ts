import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Model } from '@purenn/layers'
import type { Tensor } from '@purenn/tensor'
import type { FitOptions, History } from './fit.js'
import { fit } from './fitNode.js'

/**
 * Options of {@link fitWithBackup}, as Keras' `BackupAndRestore`.
 * @category Checkpoints
 */
export interface BackupAndRestoreOptions {
  /** The folder of the backup: a training checkpoint, written after every epoch. */
  readonly backupDir: string
  /** Also back up every this many steps inside an epoch. Default: only at the end of each epoch. */
  readonly everySteps?: number
  /** Delete the backup when training ends without an error (default true, as Keras). */
  readonly deleteCheckpoint?: boolean
}

/**
 * `fit` that survives being interrupted (Keras' `BackupAndRestore` callback): it backs the run
 * up into `backupDir` after every epoch, and a later call with the same arguments continues
 * from the backup instead of starting over.
 *
 * @remarks Built on `fit`'s `checkpoint` and `resumeFrom`: when `backupDir` holds a published
 * checkpoint the run resumes from it (bit for bit the run that was never interrupted; the
 * data, batch size, shuffle and callbacks must be the same), else it starts from `model`.
 * When training ends without an error (including an early stop or a fault, which are results)
 * the backup is deleted unless `deleteCheckpoint: false`; after an error or a killed process
 * it stays for the next call. A corrupt backup is an error, never silently ignored.
 * @param model - the model to train when there is no backup
 * @param x - inputs
 * @param y - targets
 * @param opts - `fit`'s options (without `checkpoint` and `resumeFrom`, which this sets)
 * @param backup - the backup folder and policy
 * @returns what `fit` returns
 * @example
 * ```ts
 * import { mkdtemp } from 'node:fs/promises'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import { dense, initModel, sequential } from '@purenn/layers'
 * import { key, tensor } from '@purenn/tensor'
 * import { fitWithBackup } from '@purenn/train'
 * const model = initModel(sequential([dense({ units: 1 })], { inputShape: [1] }), { key: key(0) })
 * const backupDir = join(await mkdtemp(join(tmpdir(), 'purenn-')), 'backup')
 * const { history } = await fitWithBackup(model, tensor([[0], [1]]), tensor([[1], [3]]), { loss: 'meanSquaredError', optimizer: 'sgd', epochs: 2, verbose: 0 }, { backupDir })
 * console.log(history.epoch) // [ 0, 1 ]
 * ```
 * @category Checkpoints
 */
export const fitWithBackup = async (
  model: Model,
  x: Tensor,
  y: Tensor,
  opts: Omit<FitOptions, 'checkpoint' | 'resumeFrom'>,
  backup: BackupAndRestoreOptions,
): Promise<{ model: Model; history: History }> => {
  const given = opts as FitOptions
  if (given.checkpoint !== undefined || given.resumeFrom !== undefined)
    throw new Error('fitWithBackup: do not pass checkpoint or resumeFrom; backupDir sets both')
  const hasBackup = existsSync(join(backup.backupDir, 'CURRENT'))
  const result = await fit(model, x, y, {
    ...opts,
    checkpoint: {
      dir: backup.backupDir,
      ...(backup.everySteps === undefined ? {} : { everySteps: backup.everySteps }),
    },
    ...(hasBackup ? { resumeFrom: backup.backupDir } : {}),
  })
  if (backup.deleteCheckpoint ?? true) await rm(backup.backupDir, { recursive: true, force: true })
  return result
}
