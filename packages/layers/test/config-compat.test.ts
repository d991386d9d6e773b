import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fromConfig, summary, toSpec } from '../src/index.js'
import { configCases, summaryCases } from './helpers/config-cases.js'

// The fixture holds the specs and summaries made by the factories before they were rewritten
// on defineLayer / defineContainer (scripts/fixtures/layer-configs.ts): the rewrite must not
// change a byte of a saved config, and old saved configs must load back to the same layer.
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/layer-configs.json', import.meta.url), 'utf8'),
) as {
  readonly specs: { readonly [name: string]: string }
  readonly summaries: { readonly [name: string]: string }
}
const { specs, summaries } = fixture

describe('saved configs of the rewritten factories are byte-identical to the old ones', () => {
  it('covers every case of the fixture', () => {
    expect(configCases().map(([name]) => name)).toEqual(Object.keys(specs))
    expect(summaryCases().map(([name]) => name)).toEqual(Object.keys(summaries))
  })
  for (const [name, layer] of configCases())
    it(`${name}: toSpec is the old JSON, and the old JSON rebuilds to it`, () => {
      expect(JSON.stringify(toSpec(layer))).toBe(specs[name])
      const back = fromConfig(JSON.parse(specs[name]!))
      if (E.isLeft(back)) throw new Error(back.left)
      expect(back.right.kind).toBe(layer.kind)
      expect(JSON.stringify(toSpec(back.right))).toBe(specs[name])
    })
  for (const [name, model] of summaryCases())
    it(`${name}: summary is the old text`, () => expect(summary(model)).toBe(summaries[name]))
})
