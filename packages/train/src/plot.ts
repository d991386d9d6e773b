import { scaleLinear } from 'd3-scale'
import { line } from 'd3-shape'
import type { History } from './fit.js'

/**
 * Options of {@link learningCurvesSvg}.
 * @category Plots
 */
export interface PlotOptions {
  /** Title above the plot. */
  readonly title?: string
  /** Width and height in pixels. Default 640 × 400 (the chapter's `figsize=(8, 5)`). */
  readonly width?: number
  /** Height in pixels. */
  readonly height?: number
  /**
   * The y range. Default `[0, 1]`, as the chapter's `plt.gca().set_ylim(0, 1)`, widened to
   * round values when a finite value lies outside it (a loss above 1, say), so no curve is cut.
   */
  readonly yDomain?: readonly [number, number]
}

/** Vega's and matplotlib's default categorical colours (Tableau 10), one per series in order. */
const tableau10 = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
] as const

const escapeXml = (text: string): string =>
  text.replace(/[<>&"']/g, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`)

/** Numbers in the document: at most 3 decimals, no `-0`, so equal inputs give equal text. */
const num = (v: number): string => {
  const r = Math.round(v * 1000) / 1000
  return String(r === 0 ? 0 : r)
}

/**
 * Options of {@link lineChartSvg}: those of {@link PlotOptions} and the axes.
 * @category Plots
 */
export interface LineChartOptions extends Omit<PlotOptions, 'yDomain'> {
  /** The y range. Default: the data's, extended to nice round values. */
  readonly yDomain?: readonly [number, number]
  /** The x axis' title. Default none. */
  readonly xLabel?: string
  /** Ticks on whole numbers only (epochs, steps). Default false. */
  readonly integerXTicks?: boolean
  /** A dot on each point. Default false. */
  readonly points?: boolean
}

/**
 * One named line of {@link lineChartSvg}: its `[x, y]` points in order (a non-finite y
 * breaks the line there).
 * @category Plots
 */
export interface LineSeries {
  /** The legend's text. */
  readonly name: string
  /** The points, in the order they are joined. */
  readonly points: readonly (readonly [number, number])[]
}

/**
 * A line chart as an SVG document: one line per series, a grid, a legend; the plot
 * purenn's figures and {@link learningCurvesSvg} are drawn with.
 *
 * @remarks Scales and ticks by d3-scale, lines by d3-shape, the document written as text (no
 * DOM needed, so it runs in Node and in browsers alike); values outside `yDomain` are
 * clipped. The same series and options give the same text.
 * @example
 * ```ts
 * import { lineChartSvg } from '@purenn/train'
 * const xs = [-2, -1, 0, 1, 2]
 * const svg = lineChartSvg([{ name: 'relu', points: xs.map((x) => [x, Math.max(0, x)] as const) }], { xLabel: 'x' })
 * console.log(svg.includes('aria-label="series: relu"')) // true
 * ```
 * @category Plots
 */
export const lineChartSvg = (lines: readonly LineSeries[], opts: LineChartOptions = {}): string => {
  const width = opts.width ?? 640
  const height = opts.height ?? 400
  const series = lines.map((l, s) => ({
    name: l.name,
    colour: tableau10[s % tableau10.length]!,
    points: l.points,
  }))
  const xs = series.flatMap((s) => s.points.map(([e]) => e))
  const ys = series.flatMap((s) => s.points.map(([, v]) => v)).filter(Number.isFinite)
  const x = scaleLinear()
    .domain(xs.length === 0 ? [1, 2] : [Math.min(...xs), Math.max(...xs)])
    .range([0, width])
  const y = scaleLinear().range([height, 0])
  if (opts.yDomain !== undefined) y.domain([opts.yDomain[0], opts.yDomain[1]])
  else y.domain(ys.length === 0 ? [0, 1] : [Math.min(...ys), Math.max(...ys)]).nice()
  const allXTicks = x.ticks(Math.max(2, Math.round(width / 80)))
  const xTicks = opts.integerXTicks === true ? allXTicks.filter(Number.isInteger) : allXTicks
  const xFormat = x.tickFormat(Math.max(2, Math.round(width / 80)))
  const yTicks = y.ticks(Math.max(2, Math.round(height / 40)))
  const yFormat = y.tickFormat(Math.max(2, Math.round(height / 40)))
  const path = line<readonly [number, number]>()
    .defined(([, v]) => Number.isFinite(v))
    .x(([e]) => x(e))
    .y(([, v]) => y(v))
  const titleSpace = opts.title === undefined ? 0 : 24
  const longest = Math.max(0, ...series.map((s) => s.name.length))
  const margin = { top: 10 + titleSpace, right: 50 + Math.ceil(6.5 * longest), bottom: 40, left: 45 } // legend fits
  const totalWidth = margin.left + width + margin.right
  const totalHeight = margin.top + height + margin.bottom
  const clipId = `purenn-plot-clip-${num(width)}x${num(height)}` // same size, same clip: ids may repeat
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(totalWidth)}" height="${num(totalHeight)}" viewBox="0 0 ${num(totalWidth)} ${num(totalHeight)}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(opts.title ?? `Line chart: ${series.map((s) => s.name).join(', ')}`)}</title>`, // alternative text
    `<rect width="${num(totalWidth)}" height="${num(totalHeight)}" fill="white"/>`,
  )
  if (opts.title !== undefined)
    out.push(
      `<text x="${num(margin.left + width / 2)}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(opts.title)}</text>`,
    )
  out.push(
    `<defs><clipPath id="${clipId}"><rect width="${num(width)}" height="${num(height)}"/></clipPath></defs>`,
    `<g transform="translate(${num(margin.left)},${num(margin.top)})">`,
  )
  // grid, axes and tick labels
  for (const t of xTicks)
    out.push(
      `<line x1="${num(x(t))}" x2="${num(x(t))}" y1="0" y2="${num(height)}" stroke="#ddd"/>`,
      `<text x="${num(x(t))}" y="${num(height + 15)}" text-anchor="middle">${escapeXml(xFormat(t))}</text>`,
    )
  for (const t of yTicks)
    out.push(
      `<line x1="0" x2="${num(width)}" y1="${num(y(t))}" y2="${num(y(t))}" stroke="#ddd"/>`,
      `<text x="-6" y="${num(y(t) + 4)}" text-anchor="end">${escapeXml(yFormat(t))}</text>`,
    )
  out.push(`<rect width="${num(width)}" height="${num(height)}" fill="none" stroke="#888"/>`)
  if (opts.xLabel !== undefined)
    out.push(
      `<text x="${num(width / 2)}" y="${num(height + 32)}" text-anchor="middle" font-weight="bold">${escapeXml(opts.xLabel)}</text>`,
    )
  // one line (with a point per epoch) per series, clipped to the plot area
  out.push(`<g clip-path="url(#${clipId})">`)
  for (const s of series) {
    const name = escapeXml(s.name)
    out.push(
      `<path aria-label="series: ${name}" aria-roledescription="line mark" fill="none" stroke="${s.colour}" stroke-width="2" d="${path(s.points) ?? ''}"/>`,
    )
    if (opts.points === true)
      for (const [e, v] of s.points)
        if (Number.isFinite(v))
          out.push(`<circle cx="${num(x(e))}" cy="${num(y(v))}" r="2.5" fill="${s.colour}"/>`)
  }
  out.push('</g>')
  // the legend, in the order of the series
  series.forEach((s, i) => {
    const ly = 10 + i * 18
    out.push(
      `<line x1="${num(width + 15)}" x2="${num(width + 35)}" y1="${ly}" y2="${ly}" stroke="${s.colour}" stroke-width="2"/>`,
      `<text x="${num(width + 40)}" y="${ly + 4}">${escapeXml(s.name)}</text>`,
    )
  })
  out.push('</g>', '</svg>')
  return out.join('\n')
}

/**
 * The learning curves of a history as an SVG document: one line per series (`loss`,
 * `accuracy`, `val_loss`, `val_accuracy`, ...) against the epoch, with a grid, the
 * counterpart of the chapter's `pd.DataFrame(history.history).plot()`.
 *
 * @remarks Drawn by {@link lineChartSvg} (d3-scale and d3-shape, text output: Node and
 * browsers alike). The y axis is `[0, 1]` as the chapter's `ylim(0, 1)`, widened when a value
 * lies outside it (a first-epoch loss of 2.3 draws on `[0, 2.5]`); values outside a `yDomain`
 * given in the options are clipped, as matplotlib's `ylim` does. The same history and options
 * give the same text.
 * @example
 * ```ts
 * import { learningCurvesSvg } from '@purenn/train'
 * const svg = await learningCurvesSvg({ history: { loss: [0.7, 0.5], val_loss: [0.6, 0.55] }, epoch: [0, 1] })
 * console.log(svg.startsWith('<svg')) // true
 * ```
 * @category Plots
 */
export const learningCurvesSvg = async (history: History, opts: PlotOptions = {}): Promise<string> =>
  lineChartSvg(
    Object.keys(history.history).map((name) => ({
      name,
      points: (history.history[name] ?? []).map((value, i): [number, number] => [
        (history.epoch[i] ?? i) + 1,
        value,
      ]),
    })),
    {
      ...opts,
      yDomain: opts.yDomain ?? learningCurvesDomain(history),
      xLabel: 'epoch',
      integerXTicks: true,
      points: true,
    },
  )

/**
 * `[0, 1]`, the chapter's `ylim(0, 1)`, or, when a finite value of the history lies outside
 * it, the smallest range holding `[0, 1]` and every value, extended to round values by
 * d3-scale's `nice(5)` (a loss of 2.3 gives `[0, 2.5]`).
 */
const learningCurvesDomain = (history: History): readonly [number, number] => {
  let lo = 0
  let hi = 1
  for (const series of Object.values(history.history))
    for (const v of series)
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v)
        hi = Math.max(hi, v)
      }
  if (lo === 0 && hi === 1) return [0, 1]
  const [a, b] = scaleLinear().domain([lo, hi]).nice(5).domain() as [number, number]
  return [a, b]
}
