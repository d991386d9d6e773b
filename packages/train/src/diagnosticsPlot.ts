import type { DiagnosticsState, LayerDiagnostics } from './diagnostics.js'

/**
 * Options of {@link gradientNormsSvg} and {@link activationHistogramsSvg}.
 * @category Diagnostics
 */
export interface DiagnosticsPlotOptions {
  /** Title above the plot. */
  readonly title?: string
  /** Width in pixels (of the whole plot; of one panel for histograms). Default 640 / 200. */
  readonly width?: number
  /** Height in pixels (of the whole plot; of one panel for histograms). Default 400 / 140. */
  readonly height?: number
  /** Histograms only: panels per row. Default 4. */
  readonly columns?: number
}

const palette = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6']

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** The smallest of 1, 2, 5, 10, 20, 50, … that is at least `v`. */
const niceStep = (v: number): number => {
  for (let p = 1; ; p *= 10) for (const f of [1, 2, 5]) if (f * p >= v) return f * p
}

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(2))

/**
 * The gradient norm of each layer against its depth, on a log scale, one line per recorded
 * epoch: the picture of vanishing (lines falling towards the input) and exploding (rising)
 * gradients. Layers without params are left out.
 *
 * @remarks Hand-written SVG: the x axis is the layer's position among the layers with params
 * (1 = nearest the input), the y axis `log₁₀ ‖∂L/∂θ‖` with a tick per power of ten (every 2nd,
 * 5th, 10th, … when there are more than 12, and a layer number every 1, 2, 5, 10, … layers so
 * that at most 20 are written). A zero
 * norm is drawn at the bottom of the axis. Save it with `writeFile('gradient-norms.svg', svg)`.
 * @param records - what {@link recordDiagnostics} recorded, or one {@link diagnose} result
 * @param opts - title and size
 * @returns an SVG document
 * @example
 * ```ts
 * import { gradientNormsSvg } from '@purenn/train'
 * const layer = (name: string, gradientNorm: number) => ({ name, kind: 'Dense', gradientNorm, mean: 0, std: 1, histogram: { edges: [0, 1], counts: [1] } })
 * const svg = gradientNormsSvg([layer('dense', 1e-6), layer('dense_1', 1e-3), layer('dense_2', 1)])
 * console.log(svg.startsWith('<svg'), svg.includes('1e-6')) // true true
 * ```
 * @category Diagnostics
 */
export const gradientNormsSvg = (
  records: DiagnosticsState | readonly LayerDiagnostics[],
  opts: DiagnosticsPlotOptions = {},
): string => {
  const series: { label: string; layers: readonly LayerDiagnostics[] }[] = Array.isArray(records)
    ? [{ label: 'gradient norm', layers: records as readonly LayerDiagnostics[] }]
    : (records as DiagnosticsState).layers.map((layers, i) => ({
        label: `epoch ${(records as DiagnosticsState).epoch[i]! + 1}`,
        layers,
      }))
  const width = opts.width ?? 640
  const height = opts.height ?? 400
  const m = { left: 60, right: 110, top: opts.title === undefined ? 20 : 40, bottom: 45 }
  const lines = series.map((s) => s.layers.filter((l) => l.gradientNorm !== undefined))
  const positive = lines.flat().flatMap((l) => (l.gradientNorm! > 0 ? [Math.log10(l.gradientNorm!)] : []))
  const lo = positive.length === 0 ? -1 : Math.floor(Math.min(...positive))
  const hi = positive.length === 0 ? 0 : Math.max(lo + 1, Math.ceil(Math.max(...positive)))
  const n = Math.max(1, ...lines.map((l) => l.length))
  const pw = width - m.left - m.right
  const ph = height - m.top - m.bottom
  const px = (i: number) => m.left + (n === 1 ? pw / 2 : (i / (n - 1)) * pw)
  const py = (v: number) => m.top + ph - ((Math.max(lo, v) - lo) / (hi - lo)) * ph
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(opts.title ?? 'Gradient norm per layer')}</title>`, // alternative text
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ]
  if (opts.title !== undefined)
    out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`)
  // a grid line per decade, every 2nd/5th/10th/... when there are many; at most ~20 layer labels
  const yStep = niceStep((hi - lo) / 12)
  for (let d = Math.ceil(lo / yStep) * yStep; d <= hi; d += yStep) {
    const y = py(d).toFixed(1)
    out.push(
      `<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">1e${d}</text>`,
    )
  }
  const xStep = niceStep(n / 20)
  for (let i = 0; i < n; i++)
    if (i === 0 || (i + 1) % xStep === 0)
      out.push(`<text x="${px(i).toFixed(1)}" y="${m.top + ph + 16}" text-anchor="middle">${i + 1}</text>`)
  out.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}" stroke="black"/>`,
    `<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="black"/>`,
    `<text x="${m.left + pw / 2}" y="${height - 8}" text-anchor="middle">layer (1 = input side)</text>`,
    `<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">gradient norm</text>`,
  )
  lines.forEach((layers, s) => {
    const color = palette[s % palette.length]!
    const pts = layers
      .map(
        (l, i) =>
          `${px(i).toFixed(1)},${py(l.gradientNorm! > 0 ? Math.log10(l.gradientNorm!) : lo).toFixed(1)}`,
      )
      .join(' ')
    out.push(
      `<polyline class="series" data-label="${esc(series[s]!.label)}" points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>`,
      `<text x="${m.left + pw + 10}" y="${m.top + 14 * s + 6}" fill="${color}">${esc(series[s]!.label)}</text>`,
    )
  })
  out.push('</svg>')
  return out.join('\n')
}

/**
 * One histogram of outputs per layer, in a grid: the picture of saturation (mass piled at 0
 * and 1 for sigmoid, ±1 for tanh), dead ReLU units (a spike at 0) and shrinking spread.
 *
 * @remarks Hand-written SVG; each panel's title gives the layer, its activation, mean ± std
 * and, where measured, the saturated or dead fraction. Bars are scaled to each panel's
 * largest bin.
 * @param layers - one {@link diagnose} result (or one epoch of {@link recordDiagnostics})
 * @param opts - panel size, columns, title
 * @returns an SVG document
 * @example
 * ```ts
 * import { activationHistogramsSvg } from '@purenn/train'
 * const svg = activationHistogramsSvg([{ name: 'dense', kind: 'Dense', activation: 'sigmoid', mean: 0.5, std: 0.4, saturated: 0.6, histogram: { edges: [0, 0.5, 1], counts: [3, 2] } }])
 * console.log(svg.includes('dense (sigmoid)'), (svg.match(/class="bar"/g) ?? []).length) // true 2
 * ```
 * @category Diagnostics
 */
export const activationHistogramsSvg = (
  layers: readonly LayerDiagnostics[],
  opts: DiagnosticsPlotOptions = {},
): string => {
  const cw = opts.width ?? 200
  const ch = opts.height ?? 140
  const cols = Math.max(1, Math.min(opts.columns ?? 4, layers.length))
  const rows = Math.ceil(layers.length / cols)
  const top = opts.title === undefined ? 0 : 30
  const width = cols * cw
  const height = top + rows * ch
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<title>${esc(opts.title ?? 'Histograms of the outputs of each layer')}</title>`, // alternative text
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ]
  if (opts.title !== undefined)
    out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`)
  layers.forEach((l, k) => {
    const x0 = (k % cols) * cw
    const y0 = top + Math.floor(k / cols) * ch
    const pad = { left: 8, right: 8, top: 30, bottom: 18 }
    const pw = cw - pad.left - pad.right
    const ph = ch - pad.top - pad.bottom
    const extra =
      l.saturated !== undefined
        ? `, ${(l.saturated * 100).toFixed(0)}% saturated`
        : l.dead !== undefined
          ? `, ${(l.dead * 100).toFixed(0)}% dead`
          : ''
    out.push(
      `<g transform="translate(${x0} ${y0})">`,
      `<text x="${cw / 2}" y="12" text-anchor="middle">${esc(l.name)}${l.activation === undefined ? '' : ` (${esc(l.activation)})`}</text>`,
      `<text x="${cw / 2}" y="24" text-anchor="middle" fill="#555">${l.mean.toFixed(2)} ± ${l.std.toFixed(2)}${extra}</text>`,
    )
    const counts = l.histogram.counts
    const most = Math.max(1, ...counts)
    const bw = counts.length === 0 ? 0 : pw / counts.length
    counts.forEach((c, i) => {
      const h = (c / most) * ph
      out.push(
        `<rect class="bar" x="${(pad.left + i * bw).toFixed(1)}" y="${(pad.top + ph - h).toFixed(1)}" width="${Math.max(0, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#4c78a8"/>`,
      )
    })
    const edges = l.histogram.edges
    if (edges.length > 0)
      out.push(
        `<text x="${pad.left}" y="${ch - 5}">${fmt(edges[0]!)}</text>`,
        `<text x="${cw - pad.right}" y="${ch - 5}" text-anchor="end">${fmt(edges.at(-1)!)}</text>`,
      )
    out.push('</g>')
  })
  out.push('</svg>')
  return out.join('\n')
}
