import { type Tree, tree } from '@purenn/tensor'
import { isSequentialLayer, outputShapes } from './internal/walk.js'
import type { Shape } from './layer.js'
import { countParams, type Model } from './model.js'
import { snakeCase } from './sequential.js'

/**
 * Options of {@link summary}, as the arguments of Keras' `print_summary`.
 *
 * @example
 * ```ts
 * import { dense, initModel, summary, type SummaryOptions } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const wide: SummaryOptions = { lineLength: 80 }
 * console.log(summary(initModel(dense({ units: 1 }), { key: key(0), inputShape: [2] }), wide).split('\n')[1]!.length) // 80
 * ```
 * @category Models
 */
export interface SummaryOptions {
  /** Total width of the table. Default 65, as Keras for sequential models. */
  readonly lineLength?: number
  /**
   * Right edge of each of the three columns, relative (≤ 1, times `lineLength`) or absolute.
   * Default `[0.45, 0.85, 1]`, i.e. columns ending at 29, 55 and 65.
   */
  readonly positions?: readonly [number, number, number]
}

/** Python's `str` of an output shape with its batch axis: `(None, 784)`, `(None,)`. */
const pyShape = (shape: Shape): string => (shape.length === 0 ? '(None,)' : `(None, ${shape.join(', ')})`)

/** Python's `'{:,}'.format(n)`: thousands separated by commas. */
const withCommas = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')

/**
 * Keras' `print_row` (Keras 2.9–2.12): each field is cut to its column (less two spaces
 * between columns), preferably after a `),`-like break, and what does not fit goes on the
 * next line; every line starts with a space and is padded to the column edges.
 */
const printRow = (fields: readonly string[], positions: readonly number[]): string[] => {
  const left = [...fields]
  const lines: string[] = []
  while (left.some((f) => f !== '')) {
    let line = ''
    left.forEach((field, col) => {
      const start = col > 0 ? positions[col - 1]! : 0
      const end = positions[col]!
      const space = col !== positions.length - 1 ? 2 : 0
      let cutoff = end - start - space
      let fit = field.slice(0, cutoff)
      const breaks = ['),', '},', '],', "',"].flatMap((b) =>
        fit.includes(b) ? [fit.indexOf(b) + b.length] : [],
      )
      if (breaks.length > 0) {
        cutoff = Math.min(...breaks)
        fit = fit.slice(0, cutoff)
      }
      if (col === 0) line += ' '
      line += fit + ' '.repeat(space)
      left[col] = field.slice(cutoff)
      line += ' '.repeat(Math.max(0, end - line.length))
    })
    lines.push(line)
  }
  return lines
}

/**
 * The table Keras' `model.summary()` prints (tf.keras 2.9–2.12, the format of the chapter's
 * notebooks), character for character.
 *
 * @remarks
 * One row per layer: `name (Kind)`, the output shape with `None` for the batch axis, and the
 * layer's parameter count (params plus state); then the totals. A name longer than its
 * column wraps onto the next line as in Keras (`batch_normalization (BatchN` /
 * `ormalization)`); every table line is padded with spaces to the full width and each row
 * is followed by a blank line. Frozen params count as non-trainable, as in Keras.
 *
 * Differences with other Keras versions: tf.keras ≤ 2.8 cut long names without wrapping
 * and separated rows with `_` rules; Keras ≥ 2.13 prints the totals without commas and
 * with their size in bytes; Keras 3 draws a box table.
 *
 * Output shapes are found by running one zero input through the model in inference mode.
 *
 * @param model - the model
 * @param opts - `{ lineLength?, positions? }` as in Keras
 * @returns the table, lines joined with `\n` (no final newline)
 * @example
 * ```ts
 * import { dense, flatten, initModel, sequential, summary } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const model = initModel(sequential([flatten(), dense({ units: 10 })], { inputShape: [28, 28] }), { key: key(0) })
 * const lines = summary(model).split('\n')
 * console.log(lines[0]) // Model: "sequential"
 * console.log(lines[6]!.trimEnd()) // dense (Dense)               (None, 10)                7850
 * console.log(lines.at(-4)) // Total params: 7,850
 * ```
 * @category Models
 */
export const summary = (model: Model, opts: SummaryOptions = {}): string => {
  const lineLength = opts.lineLength ?? 65
  const rel = opts.positions ?? [0.45, 0.85, 1]
  const positions = rel[2] <= 1 ? rel.map((p) => Math.trunc(lineLength * p)) : [...rel]
  const layer = model.layer
  const shapes = outputShapes(layer, model.params, model.state, model.inputShape)
  const ownName = typeof layer.config.name === 'string' ? layer.config.name : snakeCase(layer.kind)
  const at = (t: Tree, n: string): Tree => (t as { readonly [k: string]: Tree })[n]!
  const rows: [string, Tree, Tree][] = isSequentialLayer(layer)
    ? layer.layers.map((l, i) => {
        const n = layer.names[i]!
        return [`${n} (${l.kind})`, at(model.params, n), at(model.state, n)]
      })
    : [[`${ownName} (${layer.kind})`, model.params, model.state]]
  const name = isSequentialLayer(layer) ? layer.name : ownName
  const counts = countParams(model)
  return [
    `Model: "${name}"`,
    '_'.repeat(lineLength),
    ...printRow(['Layer (type)', 'Output Shape', 'Param #'], positions),
    '='.repeat(lineLength),
    ...rows.flatMap(([label, p, s], i) => [
      ...printRow([label, pyShape(shapes[i]!), String(tree.count(p) + tree.count(s))], positions),
      ' '.repeat(lineLength),
    ]),
    '='.repeat(lineLength),
    `Total params: ${withCommas(counts.total)}`,
    `Trainable params: ${withCommas(counts.trainable)}`,
    `Non-trainable params: ${withCommas(counts.nonTrainable)}`,
    '_'.repeat(lineLength),
  ].join('\n')
}
