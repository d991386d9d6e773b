import { isTensor, key, type Tree, tree, zeros } from '@purenn/tensor'
import { childTree, isContainer } from './container.js'
import { isSequentialLayer } from './internal/walk.js'
import type { AnyBlock, Flow, FlowShape } from './layer.js'
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
  /**
   * Whether the layers inside nested containers (`residual`, `serial`, a nested
   * `sequential`, ...) get their own rows, framed as Keras' `expand_nested=True` draws them.
   * Default true (Keras' default is false: one row per top-level layer).
   */
  readonly expandNested?: boolean
}

/** Python's `str` of an output shape with its batch axis: `(None, 784)`, `(None,)`; a list of them. */
const pyShape = (shape: FlowShape | undefined): string =>
  shape === undefined
    ? '?'
    : shape.length > 0 && Array.isArray(shape[0])
      ? `[${(shape as readonly FlowShape[]).map(pyShape).join(', ')}]`
      : shape.length === 0
        ? '(None,)'
        : `(None, ${shape.join(', ')})`

/** One row of the table: a layer, its name, its output shape, its params and state. */
interface Row {
  readonly layer: AnyBlock
  readonly name: string
  readonly shape: FlowShape | undefined
  readonly params: unknown
  readonly state: unknown
}

const flowShape = (y: Flow): FlowShape => (isTensor(y) ? y.shape.slice(1) : y.map(flowShape))

/** The container's children as rows (looking through a residual), given its input flow. */
const childRows = (layer: AnyBlock, params: unknown, state: unknown, x: Flow | undefined): Row[] => {
  if (!isContainer(layer)) return []
  const opts = { training: false, key: key(0) }
  if (layer.wiring === 'residual') {
    const block = layer.layers[0]!
    if (isContainer(block)) return childRows(block, params, state, x)
    const shape = x === undefined ? undefined : flowShape(block.apply(params, state, x, opts).y)
    return [{ layer: block, name: ownName(block), shape, params, state }]
  }
  let y = x
  return layer.layers.map((l, i) => {
    const n = layer.names[i]!
    const p = childTree(params, n)
    const st = childTree(state, n)
    let out: Flow | undefined
    if (layer.wiring === 'serial' && y !== undefined) out = y = l.apply(p, st, y, opts).y
    else if (layer.wiring === 'parallel' && Array.isArray(x))
      out = l.apply(p, st, (x as readonly Flow[])[i]!, opts).y
    return { layer: l, name: n, shape: out === undefined ? undefined : flowShape(out), params: p, state: st }
  })
}

/** The input flow of each child, to expand nested containers (serial: the previous output). */
const childInputs = (
  layer: AnyBlock,
  params: unknown,
  state: unknown,
  x: Flow | undefined,
): (Flow | undefined)[] => {
  if (!isContainer(layer) || x === undefined)
    return isContainer(layer) ? layer.layers.map(() => undefined) : []
  const opts = { training: false, key: key(0) }
  if (layer.wiring === 'residual') {
    const block = layer.layers[0]!
    return isContainer(block) ? childInputs(block, params, state, x) : [x]
  }
  if (layer.wiring === 'parallel')
    return layer.layers.map((_, i) => (Array.isArray(x) ? (x as readonly Flow[])[i] : undefined))
  if (layer.wiring !== 'serial') return layer.layers.map(() => undefined)
  let y = x
  return layer.layers.map((l, i) => {
    const n = layer.names[i]!
    const input = y
    y = l.apply(childTree(params, n), childTree(state, n), y, opts).y
    return input
  })
}

const ownName = (layer: AnyBlock): string =>
  typeof layer.config.name === 'string' ? layer.config.name : snakeCase(layer.kind)

const countOf = (params: unknown, state: unknown): number =>
  tree.count((params ?? {}) as Tree) + tree.count((state ?? {}) as Tree)

/** Python's `'{:,}'.format(n)`: thousands separated by commas. */
const withCommas = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')

/**
 * Keras' `print_row` (Keras 2.9–2.12): each field is cut to its column (less two spaces
 * between columns), preferably after a `),`-like break, and what does not fit goes on the
 * next line; every line starts with a space and is padded to the column edges.
 */
const printRow = (fields: readonly string[], positions: readonly number[], level = 0): string[] => {
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
      if (col === 0) line += `${'|'.repeat(level)} `
      line += fit + ' '.repeat(space)
      left[col] = field.slice(cutoff)
      const last = col === positions.length - 1
      line += ' '.repeat(Math.max(0, end - (level > 0 && last ? level : 0) - line.length))
    })
    lines.push(line + '|'.repeat(level))
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
  const x = zeros([1, ...model.inputShape])
  const expand = opts.expandNested ?? true
  const top = isContainer(layer) && layer.wiring === 'serial'
  const rows: Row[] = top
    ? childRows(layer, model.params, model.state, x)
    : [
        {
          layer,
          name: ownName(layer),
          shape: flowShape(layer.apply(model.params, model.state, x, { training: false, key: key(0) }).y),
          params: model.params,
          state: model.state,
        },
      ]
  const inputs: (Flow | undefined)[] = top ? childInputs(layer, model.params, model.state, x) : [x]
  const name = isSequentialLayer(layer) ? layer.name : ownName(layer)
  const counts = countParams(model)
  // Keras' print_layer with expand_nested: a nested container's rows sit between ¯ rules,
  // framed by one | per level
  const printLayer = (row: Row, input: Flow | undefined, level: number, nestedLast: boolean): string[] => {
    const out = printRow(
      [`${row.name} (${row.layer.kind})`, pyShape(row.shape), String(countOf(row.params, row.state))],
      positions,
      level,
    )
    if (expand && isContainer(row.layer)) {
      const kids = childRows(row.layer, row.params, row.state, input)
      const kidInputs = childInputs(row.layer, row.params, row.state, input)
      if (kids.length > 0) {
        out.push(`${'|'.repeat(level + 1)}${'¯'.repeat(lineLength - 2 * level - 2)}${'|'.repeat(level + 1)}`)
        kids.forEach((k, i) => {
          out.push(...printLayer(k, kidInputs[i], level + 1, i === kids.length - 1))
        })
        out.push(`${'|'.repeat(level)}${'¯'.repeat(lineLength - 2 * level)}${'|'.repeat(level)}`)
      }
    }
    if (!nestedLast) out.push(`${'|'.repeat(level)}${' '.repeat(lineLength - 2 * level)}${'|'.repeat(level)}`)
    return out
  }
  return [
    `Model: "${name}"`,
    '_'.repeat(lineLength),
    ...printRow(['Layer (type)', 'Output Shape', 'Param #'], positions),
    '='.repeat(lineLength),
    ...rows.flatMap((row, i) => printLayer(row, inputs[i], 0, false)),
    '='.repeat(lineLength),
    `Total params: ${withCommas(counts.total)}`,
    `Trainable params: ${withCommas(counts.trainable)}`,
    `Non-trainable params: ${withCommas(counts.nonTrainable)}`,
    '_'.repeat(lineLength),
  ].join('\n')
}
