import { writeFile } from 'node:fs/promises'
import * as vega from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'
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
  /** The y range. Default `[0, 1]`, as the chapter's `plt.gca().set_ylim(0, 1)`. */
  readonly yDomain?: readonly [number, number]
}

/**
 * The learning curves of a history as an SVG document: one line per series (`loss`,
 * `accuracy`, `val_loss`, `val_accuracy`, ...) against the epoch, with a grid, the
 * counterpart of the chapter's `pd.DataFrame(history.history).plot()`.
 *
 * @remarks Drawn by Vega-Lite (compiled to Vega, rendered headless to SVG); values outside
 * `yDomain` are clipped, as matplotlib's `ylim` does.
 * @example
 * ```ts
 * import { learningCurvesSvg } from '@purenn/train'
 * const svg = await learningCurvesSvg({ history: { loss: [0.7, 0.5], val_loss: [0.6, 0.55] }, epoch: [0, 1] })
 * console.log(svg.startsWith('<svg')) // true
 * ```
 * @category Plots
 */
export const learningCurvesSvg = async (history: History, opts: PlotOptions = {}): Promise<string> => {
  const values = Object.entries(history.history).flatMap(([series, ys]) =>
    ys.map((value, i) => ({ epoch: (history.epoch[i] ?? i) + 1, series, value })),
  )
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    ...(opts.title === undefined ? {} : { title: opts.title }),
    width: opts.width ?? 640,
    height: opts.height ?? 400,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: true, clip: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, grid: true } },
      y: {
        field: 'value',
        type: 'quantitative',
        title: null,
        scale: { domain: [...(opts.yDomain ?? [0, 1])] },
        axis: { grid: true },
      },
      color: { field: 'series', type: 'nominal', title: null, sort: Object.keys(history.history) },
    },
  }
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' })
  try {
    await view.runAsync()
    vega.resetSVGDefIds() // clip-path ids count from 1 in every document: same history, same SVG
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

/**
 * Writes {@link learningCurvesSvg} of a history to `path`.
 *
 * @example
 * ```ts
 * import { saveLearningCurves } from '@purenn/train'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * const path = join(mkdtempSync(join(tmpdir(), 'purenn-')), 'curves.svg')
 * await saveLearningCurves({ history: { loss: [0.7, 0.5] }, epoch: [0, 1] }, path)
 * console.log(path.endsWith('curves.svg')) // true
 * ```
 * @category Plots
 */
export const saveLearningCurves = async (
  history: History,
  path: string,
  opts: PlotOptions = {},
): Promise<void> => writeFile(path, await learningCurvesSvg(history, opts))
