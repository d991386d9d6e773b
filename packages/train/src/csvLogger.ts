import { appendFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { makeFolders } from '@purenn/tensor/internal'
import type { Callback } from './callbacks.js'

/**
 * Options of {@link csvLogger}, as Keras' `CSVLogger`.
 * @category Callbacks
 */
export interface CsvLoggerOptions {
  /** The column separator. Default `','`. */
  readonly separator?: string
  /** Append to an existing file (no second header) instead of overwriting it. Default false. */
  readonly append?: boolean
}

/**
 * Writes the history to a CSV file, one row per epoch (Keras' `CSVLogger`).
 *
 * @remarks
 * The header is `epoch` followed by the epoch's values in sorted order (`accuracy`,
 * `learning_rate`, `loss`, `val_accuracy`, `val_loss`, ...), as Keras writes it; the epoch
 * counts from 0, as Keras'. `learning_rate` is the learning rate of the epoch's last step,
 * when the optimizer says it. Missing parent folders are created. Each row is appended as the
 * epoch ends, so a crash loses at most the running epoch.
 *
 * @param path - the file to write
 * @param opts - `separator`, `append`
 * @returns the callback
 * @example
 * ```ts
 * import { csvLogger } from '@purenn/train'
 * console.log(csvLogger('out/training.csv').name) // csvLogger(out/training.csv)
 * ```
 * @category Callbacks
 */
export const csvLogger = (
  path: string,
  opts: CsvLoggerOptions = {},
): Callback<{ readonly keys?: readonly string[] }> => {
  const sep = opts.separator ?? ','
  const field = (v: string) =>
    v.includes(sep) || v.includes('"') || v.includes('\n') ? `"${v.replaceAll('"', '""')}"` : v
  return {
    name: `csvLogger(${path})`,
    init: () => ({}),
    onEpochEnd: async (s, e) => {
      const values: Record<string, number> = { ...e.logs }
      if (e.learningRate !== undefined) values.learning_rate = e.learningRate
      const keys = s.keys ?? Object.keys(values).sort()
      const row = [String(e.epoch), ...keys.map((k) => (values[k] === undefined ? '' : String(values[k])))]
      if (s.keys === undefined) {
        await makeFolders(dirname(path))
        const header = `${['epoch', ...keys].map(field).join(sep)}\n`
        if (opts.append === true) await appendFile(path, header)
        else await writeFile(path, header)
      }
      await appendFile(path, `${row.map(field).join(sep)}\n`)
      return { state: { keys } }
    },
  }
}
