import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { decodeModel, encodeModel, layerFromConfig, toSpec } from '../src/index.js'
import { savedConfigCases, savedConfigModel } from './helpers/savedConfigCases.js'

// Written by scripts/fixtures/saved-layer-configs.ts with the factories as they were before
// pooling, the noise layers, prelu and rrelu were defined with defineLayer.
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/saved-layer-configs.json', import.meta.url), 'utf8'),
) as { specs: { label: string; spec: string }[]; modelJson: string; weightsBin: string }

describe('saved configs stay byte-identical across the move onto defineLayer', () => {
  const cases = savedConfigCases()
  it('covers the same cases as the fixture', () => {
    expect(cases.map(([label]) => label)).toEqual(fixture.specs.map((s) => s.label))
  })
  it.each(cases.map(([label, layer], i) => [label, layer, fixture.specs[i]!.spec] as const))(
    '%s: toSpec is the saved JSON, and the saved JSON rebuilds to itself',
    (_label, layer, saved) => {
      expect(JSON.stringify(toSpec(layer))).toBe(saved)
      expect(JSON.stringify(toSpec(layerFromConfig(JSON.parse(saved))))).toBe(saved)
    },
  )
  it('a model saved before loads, and saves to the same bytes; the same model built today too', () => {
    const weightsBin = new Uint8Array(Buffer.from(fixture.weightsBin, 'base64'))
    const loaded = decodeModel({ modelJson: fixture.modelJson, weightsBin })
    const again = encodeModel(loaded)
    expect(again.modelJson).toBe(fixture.modelJson)
    expect(Buffer.from(again.weightsBin).equals(Buffer.from(weightsBin))).toBe(true)
    const today = encodeModel(savedConfigModel())
    expect(today.modelJson).toBe(fixture.modelJson)
    expect(Buffer.from(today.weightsBin).equals(Buffer.from(weightsBin))).toBe(true)
  })
})
