import type { Tensor } from '@purenn/tensor'

/**
 * Options of {@link confusionMatrixSvg}.
 * @category Plots
 */
export interface ConfusionMatrixPlotOptions {
  /** Names of the classes, by index (default the indices). */
  readonly classNames?: readonly string[]
  /**
   * `'true'` divides each row by its sum (the recall of each class on the diagonal, as
   * scikit-learn's `normalize='true'`); `'none'` (default) shows the counts.
   */
  readonly normalize?: 'true' | 'none'
  /** Side of one cell in pixels. Default 40. */
  readonly cellSize?: number
  /** Title above the plot. */
  readonly title?: string
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/**
 * A confusion matrix (from `confusionMatrix` of `@purenn/layers`) as an SVG heat map: true
 * classes down the rows, predicted classes across the columns, each cell shaded by its value
 * and labelled with it, as scikit-learn's `ConfusionMatrixDisplay`.
 *
 * @remarks Hand-written SVG. A cell's shade is `value / max` over the matrix (white 0 to dark
 * blue 1); with `normalize: 'true'` the values are `m[i, j] / Σⱼ m[i, j]` (a row of zeros stays
 * zero) and are printed with two decimals.
 * @param matrix - a `[k, k]` tensor of counts
 * @param opts - class names, normalization, cell size, title
 * @returns an SVG document
 * @throws Error when `matrix` is not square or `classNames` has not `k` names
 * @example
 * ```ts
 * import { tensor } from '@purenn/tensor'
 * import { confusionMatrixSvg } from '@purenn/train'
 * const svg = confusionMatrixSvg(tensor([[5, 1], [2, 8]]), { classNames: ['cat', 'dog'], normalize: 'true' })
 * console.log(svg.includes('>0.83<'), svg.includes('>dog<')) // true true
 * ```
 * @category Plots
 */
export const confusionMatrixSvg = (matrix: Tensor, opts: ConfusionMatrixPlotOptions = {}): string => {
  const [k, k2] = matrix.shape
  if (matrix.shape.length !== 2 || k !== k2)
    throw new Error(
      `confusionMatrixSvg: the matrix must be square [k, k], got shape [${matrix.shape.join(', ')}]`,
    )
  const n = k!
  const names = opts.classNames ?? Array.from({ length: n }, (_, i) => String(i))
  if (names.length !== n)
    throw new Error(`confusionMatrixSvg: ${names.length} class names for a ${n}-class matrix`)
  const normalize = opts.normalize ?? 'none'
  const d = matrix.data
  const values = Array.from({ length: n }, (_, i) => {
    const row = Array.from({ length: n }, (_, j) => d[i * n + j]!)
    const sum = row.reduce((a, b) => a + b, 0)
    return normalize === 'true' ? row.map((v) => (sum === 0 ? 0 : v / sum)) : row
  })
  const max = Math.max(0, ...values.flat())
  const c = opts.cellSize ?? 40
  const left = 20 + 7 * Math.max(...names.map((s) => s.length), 1)
  const top = (opts.title === undefined ? 10 : 36) + 20
  const width = left + n * c + 10
  const height = top + n * c + 36
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ]
  if (opts.title !== undefined)
    out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`)
  out.push(`<text x="${left + (n * c) / 2}" y="${top - 8}" text-anchor="middle">predicted</text>`)
  for (let i = 0; i < n; i++) {
    out.push(
      `<text x="${left - 6}" y="${top + i * c + c / 2}" text-anchor="end" dominant-baseline="middle">${esc(names[i]!)}</text>`,
      `<text x="${left + i * c + c / 2}" y="${top + n * c + 14}" text-anchor="middle">${esc(names[i]!)}</text>`,
    )
    for (let j = 0; j < n; j++) {
      const v = values[i]![j]!
      const shade = max === 0 ? 0 : v / max
      const fill = `rgb(${Math.round(255 - 224 * shade)},${Math.round(255 - 136 * shade)},${Math.round(255 - 75 * shade)})`
      const label = normalize === 'true' ? v.toFixed(2) : String(v)
      out.push(
        `<rect class="cell" data-row="${i}" data-col="${j}" x="${left + j * c}" y="${top + i * c}" width="${c}" height="${c}" fill="${fill}" stroke="white"/>`,
        `<text x="${left + j * c + c / 2}" y="${top + i * c + c / 2}" text-anchor="middle" dominant-baseline="middle" fill="${shade > 0.5 ? 'white' : 'black'}">${label}</text>`,
      )
    }
  }
  out.push(
    `<text x="${left + (n * c) / 2}" y="${height - 6}" text-anchor="middle">true class by row</text>`,
    '</svg>',
  )
  return out.join('\n')
}
