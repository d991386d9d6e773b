import { dirname } from 'node:path'
import { saveModel } from '@purenn/layers'
import { makeFolders } from '@purenn/tensor/internal'
import type { Callback } from './callbacks.js'

/**
 * Options of {@link modelCheckpoint}, as Keras' `ModelCheckpoint`.
 * @category Callbacks
 */
export interface ModelCheckpointOptions {
  /** Save only when the monitored value improves. Default false. */
  readonly saveBestOnly?: boolean
  /** The value watched with `saveBestOnly`. Default `'val_loss'`. */
  readonly monitor?: string
}

/**
 * Saves the model (with `saveModel`) after each epoch, or only after improving ones
 * (Keras' `ModelCheckpoint`). `{epoch}` in `dir` is replaced by the epoch number (from 1).
 *
 * @example
 * ```ts
 * import { modelCheckpoint } from '@purenn/train'
 * console.log(modelCheckpoint('out/best-model', { saveBestOnly: true }).name) // modelCheckpoint(out/best-model)
 * ```
 * @category Callbacks
 */
export const modelCheckpoint = (
  dir: string,
  opts: ModelCheckpointOptions = {},
): Callback<{ best: number }> => {
  const monitor = opts.monitor ?? 'val_loss'
  const max = monitor.includes('acc')
  return {
    name: `modelCheckpoint(${dir})`,
    init: () => ({ best: max ? -Infinity : Infinity }),
    onEpochEnd: async (s, e) => {
      const v = e.logs[monitor]
      if (opts.saveBestOnly) {
        if (v === undefined)
          throw new Error(
            `modelCheckpoint: "${monitor}" is not among the epoch's values (${Object.keys(e.logs).join(', ')})`,
          )
        if (max ? !(v > s.best) : !(v < s.best)) return { state: s }
      }
      const target = dir.replace('{epoch}', String(e.epoch + 1))
      await makeFolders(dirname(target)) // as Keras, create missing parent folders
      await saveModel(e.model, target)
      return { state: { best: v ?? s.best } }
    },
  }
}
