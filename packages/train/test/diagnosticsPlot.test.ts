import { describe, expect, it } from 'vitest'
import { activationHistogramsSvg, gradientNormsSvg, type LayerDiagnostics } from '../src/index.js'

const layer = (name: string, gradientNorm: number | undefined, counts: number[] = [1]): LayerDiagnostics => ({
  name,
  kind: gradientNorm === undefined ? 'Activation' : 'Dense',
  ...(gradientNorm === undefined ? {} : { gradientNorm }),
  mean: 0,
  std: 1,
  histogram: { edges: counts.map((_, i) => i).concat(counts.length), counts },
})

const polylines = (svg: string) =>
  [...svg.matchAll(/<polyline class="series" data-label="([^"]+)" points="([^"]+)"/g)].map((m) => ({
    label: m[1]!,
    points: m[2]!.split(' ').map((p) => p.split(',').map(Number)),
  }))

describe('gradientNormsSvg', () => {
  it('puts each layer at its depth and log10 of its norm (default 640 × 400: plot 470 × 335 at (60, 20))', () => {
    const svg = gradientNormsSvg([layer('a', 1e-6), layer('act', undefined), layer('b', 1e-3), layer('c', 1)])
    const [line] = polylines(svg)
    // decades −6..0 over 335 px: 1 at y = 20, 1e-3 at 20 + 335/2, 1e-6 at 355; x = 60, 295, 530
    expect(line!.points).toEqual([
      [60, 355],
      [295, 187.5],
      [530, 20],
    ])
    expect(svg).toContain('>1e-6<')
    expect(svg).toContain('>1e0<')
  })

  it('thins its labels on deep nets: at most 20 layer numbers and about 12 decades', () => {
    // 100 layers, norms from 1e-43 to 1: decades −43..0 are 43 > 12, so every 5th (44/12 → 5)
    // is labelled; layers 1..100 are 100 > 20, so 1 and every 5th
    const deep = Array.from({ length: 100 }, (_, i) => layer(`d${i}`, 10 ** (-43 + (43 * i) / 99)))
    const svg = gradientNormsSvg(deep)
    const texts = [...svg.matchAll(/>([^<>]+)<\/text>/g)].map((m) => m[1]!)
    expect(texts.filter((t) => t.startsWith('1e'))).toEqual([
      '1e-40',
      '1e-35',
      '1e-30',
      '1e-25',
      '1e-20',
      '1e-15',
      '1e-10',
      '1e-5',
      '1e0',
    ])
    const numbers = texts.filter((t) => /^\d+$/.test(t)).map(Number)
    expect(numbers).toEqual([1, ...Array.from({ length: 20 }, (_, k) => 5 * (k + 1))])
    // a short net keeps a label per layer and per decade
    const short = gradientNormsSvg([layer('a', 1e-3), layer('b', 1)])
    expect(short).toContain('>1e-2<')
    expect(short).toContain('>2</text>')
  })

  it('draws one line per recorded epoch, labelled from 1', () => {
    const svg = gradientNormsSvg({
      kind: 'diagnostics',
      epoch: [0, 1],
      layers: [
        [layer('a', 0.1), layer('b', 1)],
        [layer('a', 1), layer('b', 10)],
      ],
    })
    const lines = polylines(svg)
    expect(lines.map((l) => l.label)).toEqual(['epoch 1', 'epoch 2'])
    // decades −1..1: 0.1 at the bottom (y = 355), 10 at the top (y = 20)
    expect(lines[0]!.points[0]![1]).toBe(355)
    expect(lines[1]!.points[1]![1]).toBe(20)
  })

  it('escapes a title', () => {
    expect(gradientNormsSvg([layer('a', 1)], { title: 'a < b & c' })).toContain('a &lt; b &amp; c')
  })
})

describe('activationHistogramsSvg', () => {
  it('draws one bar per bin, the tallest bin filling the panel (140 px − 48 px of margins)', () => {
    const svg = activationHistogramsSvg([layer('a', 1, [4, 2, 0]), layer('b', 1, [1])], { columns: 1 })
    const heights = [...svg.matchAll(/class="bar"[^>]*height="([^"]+)"/g)].map((m) => Number(m[1]))
    expect(heights).toEqual([92, 46, 0, 92])
    expect(svg).toMatch(/height="280"/) // two rows of 140
  })
})
