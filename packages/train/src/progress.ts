/**
 * Progress output in the tf.keras 2.x form. The text is made by pure functions of the
 * numbers; a live terminal bar is drawn by `cli-progress` with these functions as its format.
 */

/**
 * The running values shown on a progress line, in order: `loss`, `accuracy`, then the
 * validation values at the end of an epoch.
 * @category Progress
 */
export type Logs = Readonly<Record<string, number>>

/**
 * Python's `'%.4f' % v`. `toFixed` rounds exact ties away from zero and Python to even; at 4
 * decimals the only doubles that are exact ties are the odd multiples of 1/32 (0.90625 is
 * Python's 0.9062, toFixed's 0.9063), common in accuracies over batches of 32. `toFixed` also
 * switches to exponents from 1e21, where every double is an integer.
 */
const fixed4 = (v: number): string => {
  const a = Math.abs(v)
  if (a >= 1e21) return `${v < 0 ? '-' : ''}${BigInt(a).toString()}.0000`
  const scaled = a * 1e4 // exact for the multiples of 1/32 below 2^38
  if (Number.isInteger(v * 32) && !Number.isInteger(v * 16) && Math.floor(scaled) % 2 === 0)
    return `${v < 0 ? '-' : ''}${(Math.floor(scaled) / 1e4).toFixed(4)}`
  return v.toFixed(4)
}

/**
 * A value as Keras prints it: `%.4f`, or `%.4e` when its magnitude is 1e-3 or less.
 *
 * @example
 * ```ts
 * import { formatValue } from '@purenn/train'
 * console.log(formatValue(0.55594), formatValue(0.0001234)) // 0.5559 1.2340e-04
 * ```
 * @category Progress
 */
export const formatValue = (v: number): string => {
  if (Number.isNaN(v)) return 'nan'
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf'
  if (Math.abs(v) > 1e-3) return fixed4(v)
  const [mantissa, exponent] = v.toExponential(4).split('e') as [string, string]
  const sign = exponent.startsWith('-') ? '-' : '+'
  return `${mantissa}e${sign}${exponent.replace(/^[-+]/, '').padStart(2, '0')}`
}

const formatLogs = (logs: Logs): string =>
  Object.entries(logs)
    .map(([k, v]) => ` - ${k}: ${formatValue(v)}`)
    .join('')

/**
 * Keras' ETA: `42s`, `1:05`, or `1:02:03` past an hour.
 *
 * @example
 * ```ts
 * import { formatEta } from '@purenn/train'
 * console.log(formatEta(42.7), formatEta(65), formatEta(3723)) // 42s 1:05 1:02:03
 * ```
 * @category Progress
 */
export const formatEta = (seconds: number): string => {
  const s = Math.floor(seconds)
  if (seconds > 3600)
    return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
  if (seconds > 60) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
  return `${s}s`
}

/**
 * Time per step as Keras prints it: `2s/step`, `2ms/step` or `850us/step`.
 *
 * @example
 * ```ts
 * import { formatPerStep } from '@purenn/train'
 * console.log(formatPerStep(0.0021), formatPerStep(0.00085)) // 2ms/step 850us/step
 * ```
 * @category Progress
 */
export const formatPerStep = (seconds: number): string => formatTime(seconds, 'step')

/** Keras' `Progbar._format_time`: `3s/epoch`, `250ms/epoch`, `850us/step`. */
const formatTime = (seconds: number, unit: string): string => {
  if (seconds >= 1 || seconds === 0) return `${Math.round(seconds)}s/${unit}`
  if (seconds >= 1e-3) return `${Math.round(seconds * 1e3)}ms/${unit}`
  return `${Math.round(seconds * 1e6)}us/${unit}`
}

/**
 * The 30-character bar: `[=====>........................]`, all `=` when done.
 *
 * @example
 * ```ts
 * import { formatBar } from '@purenn/train'
 * console.log(formatBar(859, 1719)) // [=============>................]
 * ```
 * @category Progress
 */
export const formatBar = (current: number, target: number, width = 30): string => {
  const filled = Math.floor(width * (current / target))
  if (filled <= 0) return `[${'.'.repeat(width)}]`
  const head = current < target ? '>' : '='
  return `[${'='.repeat(filled - 1)}${head}${'.'.repeat(width - filled)}]`
}

/**
 * The line shown while an epoch runs (verbose 1): step count, bar, ETA and running values.
 *
 * @example
 * ```ts
 * import { formatLiveLine } from '@purenn/train'
 * console.log(formatLiveLine(859, 1719, 1.6, { loss: 0.71234, accuracy: 0.7512 }))
 * //  859/1719 [=============>................] - ETA: 1s - loss: 0.7123 - accuracy: 0.7512
 * ```
 * @category Progress
 */
export const formatLiveLine = (current: number, target: number, etaSeconds: number, logs: Logs): string => {
  const digits = String(target).length
  return `${String(current).padStart(digits)}/${target} ${formatBar(current, target)} - ETA: ${formatEta(etaSeconds)}${formatLogs(logs)}`
}

/**
 * The line that ends an epoch at verbose 1, as tf.keras 2.x prints it:
 * `1719/1719 [==============================] - 3s 2ms/step - loss: 0.5559 - accuracy: 0.8094 - val_loss: 0.4016 - val_accuracy: 0.8558`.
 *
 * @param steps - number of steps in the epoch
 * @param seconds - wall time of the epoch
 * @param logs - the epoch's values, training then validation
 * @example
 * ```ts
 * import { formatEpochLine } from '@purenn/train'
 * const logs = { loss: 0.55594, accuracy: 0.80941, val_loss: 0.40163, val_accuracy: 0.8558 }
 * console.log(formatEpochLine(1719, 3.4, logs))
 * // 1719/1719 [==============================] - 3s 2ms/step - loss: 0.5559 - accuracy: 0.8094 - val_loss: 0.4016 - val_accuracy: 0.8558
 * ```
 * @category Progress
 */
export const formatEpochLine = (steps: number, seconds: number, logs: Logs): string =>
  `${steps}/${steps} ${formatBar(steps, steps)} - ${Math.round(seconds)}s ${formatPerStep(seconds / steps)}${formatLogs(logs)}`

/**
 * The one line per epoch of verbose 2 (tf.keras 2.x):
 * `1719/1719 - 3s - loss: 0.5559 - accuracy: 0.8094 - 3s/epoch - 2ms/step`.
 *
 * @example
 * ```ts
 * import { formatEpochLineVerbose2 } from '@purenn/train'
 * console.log(formatEpochLineVerbose2(1719, 3.4, { loss: 0.55594 })) // 1719/1719 - 3s - loss: 0.5559 - 3s/epoch - 2ms/step
 * ```
 * @category Progress
 */
export const formatEpochLineVerbose2 = (steps: number, seconds: number, logs: Logs): string =>
  `${steps}/${steps} - ${Math.round(seconds)}s${formatLogs(logs)} - ${formatTime(seconds, 'epoch')} - ${formatPerStep(seconds / steps)}`
