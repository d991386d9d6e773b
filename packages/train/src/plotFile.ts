import { writeFile } from 'node:fs/promises'
import type { History } from './fit.js'
import { learningCurvesSvg, type PlotOptions } from './plot.js'

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
