import { confusionMatrix } from '@purenn/layers'
import { tensor } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import { confusionMatrixSvg } from '../src/index.js'

const cells = (svg: string) =>
  [...svg.matchAll(/<rect class="cell" data-row="(\d+)" data-col="(\d+)"[^>]*fill="([^"]+)"/g)].map((m) => ({
    row: Number(m[1]),
    col: Number(m[2]),
    fill: m[3]!,
  }))

describe('confusionMatrixSvg', () => {
  it('draws k² cells, the largest value darkest and 0 white, with the counts as labels', () => {
    // true [0, 0, 1, 1, 1], predicted [0, 1, 1, 1, 1] → [[1, 1], [0, 3]]
    const m = confusionMatrix(tensor([0, 0, 1, 1, 1]), tensor([0, 1, 1, 1, 1]))
    const svg = confusionMatrixSvg(m)
    const c = cells(svg)
    expect(c).toHaveLength(4)
    expect(c.find((x) => x.row === 1 && x.col === 1)!.fill).toBe('rgb(31,119,180)') // 3/3
    expect(c.find((x) => x.row === 1 && x.col === 0)!.fill).toBe('rgb(255,255,255)') // 0
    // 1/3 of the way: 255 − 224/3 = 180.33, 255 − 136/3 = 209.67, 255 − 75/3 = 230
    expect(c.find((x) => x.row === 0 && x.col === 0)!.fill).toBe('rgb(180,210,230)')
    expect(svg).toContain('>3<')
  })

  it("normalizes rows to recalls with normalize: 'true'", () => {
    const svg = confusionMatrixSvg(
      tensor([
        [1, 3],
        [0, 0],
      ]),
      { normalize: 'true', classNames: ['a<b', 'c'] },
    )
    expect(svg).toContain('>0.25<')
    expect(svg).toContain('>0.75<')
    expect(svg).toContain('>0.00<') // a row of zeros stays zero
    expect(svg).toContain('a&lt;b')
  })

  it('rejects a matrix that is not square and a wrong number of names', () => {
    expect(() => confusionMatrixSvg(tensor([[1, 2, 3]]))).toThrow(/square.*\[1, 3\]/)
    expect(() =>
      confusionMatrixSvg(
        tensor([
          [1, 0],
          [0, 1],
        ]),
        { classNames: ['a'] },
      ),
    ).toThrow(/1 class names for a 2-class/)
  })
})
