import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sgd } from '@purenn/optim'
import { key } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import { fit, type History, learningCurvesSvg, lineChartSvg, saveLearningCurves } from '../src/index.js'
import { blobs, linearModel } from './helpers/problems.js'

const history: History = {
  history: {
    loss: [0.72, 0.51, 0.43],
    accuracy: [0.74, 0.82, 0.85],
    val_loss: [0.55, 0.47, 0.45],
    val_accuracy: [0.8, 0.83, 0.84],
  },
  epoch: [0, 1, 2],
}

/** The `d` attribute of each drawn line, by series (the aria-label names the series). */
const lines = (svg: string): Map<string, string> =>
  new Map(
    [
      ...svg.matchAll(
        /<path aria-label="[^"]*series: ([^"]+)"[^>]*aria-roledescription="line mark"[^>]*\sd="([^"]+)"/g,
      ),
    ].map((m) => [m[1]!, m[2]!]),
  )

describe('learningCurvesSvg', () => {
  it('is an SVG document with one line per series, each through every epoch', async () => {
    const svg = await learningCurvesSvg(history)
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(4)
    const drawn = lines(svg)
    expect([...drawn.keys()]).toEqual(['loss', 'accuracy', 'val_loss', 'val_accuracy'])
    for (const d of drawn.values()) expect(d.match(/[ML]/g)).toHaveLength(3) // a point per epoch
    for (const name of Object.keys(history.history)) expect(svg).toContain(`>${name}</text>`) // the legend
  })

  it('is a function of the history: the same history gives the same text', async () => {
    const a = await learningCurvesSvg(history)
    await learningCurvesSvg({ history: { loss: [1] }, epoch: [0] })
    expect(await learningCurvesSvg(history)).toBe(a)
  })

  it('maps values to heights on the [0, 1] axis of the chapter (ylim(0, 1)), with the given size and title', async () => {
    const svg = await learningCurvesSvg(
      { history: { loss: [1, 0.5, 0] }, epoch: [0, 1, 2] },
      {
        width: 300,
        height: 200,
        title: 'Learning curves',
      },
    )
    expect(lines(svg).get('loss')).toBe('M0,0L150,100L300,200')
    expect(svg).toContain('Learning curves')
  })

  it('widens the y axis when a loss exceeds 1 (no curve cut at 1), to round values', async () => {
    // values in [0, 2.3]: the axis is [0, 2.5] (steps of 0.5 by d3's nice(5)); height 200 px,
    // so y(v) = 200 − 200·v/2.5: 2.3 → 16, 1 → 120, 0 → 200
    const svg = await learningCurvesSvg(
      { history: { loss: [2.3, 1, 0] }, epoch: [0, 1, 2] },
      { width: 300, height: 200 },
    )
    expect(lines(svg).get('loss')).toBe('M0,16L150,120L300,200')
    expect(svg).toContain('>2.5</text>') // the top tick
    // a negative value widens the bottom: [-0.5, 1] made nice with steps of 0.5 is [-1, 1],
    // so y(v) = 200 − 200·(v + 1)/2: −0.5 → 150, 1 → 0
    const neg = await learningCurvesSvg(
      { history: { m: [-0.5, 1] }, epoch: [0, 1] },
      { width: 300, height: 200 },
    )
    expect(lines(neg).get('m')).toBe('M0,150L300,0')
    // a NaN is not a value: the axis stays [0, 1]
    const nan = await learningCurvesSvg(
      { history: { loss: [Number.NaN, 0.5] }, epoch: [0, 1] },
      { width: 300, height: 200 },
    )
    expect(lines(nan).get('loss')).toMatch(/^M300,100/) // 0.5 at mid-height of [0, 1]
    // a yDomain given still clips
    const clipped = await learningCurvesSvg(
      { history: { loss: [2, 0] }, epoch: [0, 1] },
      { width: 300, height: 200, yDomain: [0, 1] },
    )
    expect(lines(clipped).get('loss')).toBe('M0,-200L300,200')
  })

  it('draws the history of a fit', async () => {
    const p = blobs(key(1), 32)
    const { history: h } = await fit(linearModel(key(2)), p.x, p.y, {
      loss: 'sparseCategoricalCrossentropy',
      optimizer: sgd({ learningRate: 0.1 }),
      metrics: ['accuracy'],
      epochs: 2,
      batchSize: 8,
      validationSplit: 0.25,
      verbose: 0,
    })
    expect([...lines(await learningCurvesSvg(h)).keys()]).toEqual([
      'loss',
      'accuracy',
      'val_loss',
      'val_accuracy',
    ])
  })
})

describe('saveLearningCurves', () => {
  it('writes the SVG to a file', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'purenn-plot-')), 'learning-curves.svg')
    await saveLearningCurves(history, path)
    const text = await readFile(path, 'utf8')
    expect(text).toBe(await learningCurvesSvg(history))
  })
})

describe('lineChartSvg', () => {
  it("maps x over the data's range and y over its nice range, with the given size", () => {
    const svg = lineChartSvg(
      [
        {
          name: 'line',
          points: [
            [0, 0],
            [5, 2.5],
            [10, 4.6],
          ],
        },
      ],
      { width: 100, height: 50 },
    )
    // y: [0, 4.6] made nice is [0, 5]: 4.6 sits at 50 − 50·4.6/5 = 4
    expect(lines(svg).get('line')).toBe('M0,50L50,25L100,4')
  })

  it('breaks a line at a non-finite value and draws no dots unless asked', () => {
    const svg = lineChartSvg(
      [
        {
          name: 'gap',
          points: [
            [0, 1],
            [1, Number.NaN],
            [2, 1],
          ],
        },
      ],
      { yDomain: [0, 2] },
    )
    expect(lines(svg).get('gap')?.match(/M/g)).toHaveLength(2)
    expect(svg).not.toContain('<circle')
  })

  it('writes the axis title and escapes text', () => {
    const svg = lineChartSvg(
      [
        {
          name: 'a<b',
          points: [
            [0, 0],
            [1, 1],
          ],
        },
      ],
      { xLabel: 'step & epoch' },
    )
    expect(svg).toContain('>step &amp; epoch</text>')
    expect(svg).toContain('>a&lt;b</text>')
  })
})
