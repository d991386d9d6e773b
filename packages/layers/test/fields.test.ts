import { mul, ones } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { defaultFrom, defineLayer, field, jsonField, layerFromConfig, toSpec } from '../src/index.js'

// a window of `size` moved by `step`, whose step defaults to its size (Keras' pooling strides)
const window = defineLayer({
  kind: 'Window',
  config: {
    size: jsonField('integer', { default: 2 }),
    step: defaultFrom(jsonField('integer'), (c: { size: number }) => c.size),
  },
  // the output is x·step, so a test sees the value `build` received
  build: ({ step }) => ({ apply: (_p, _s, x) => mul(x, step) }),
})
const custom = { Window: window }

describe('defaultFrom: a default derived from earlier fields', () => {
  it('fills the left-out field from the earlier ones, saves it, and build receives it', () => {
    expect(window().config).toEqual({ size: 2, step: 2 })
    expect(window({ size: 3, name: 'w' }).config).toEqual({ size: 3, step: 3, name: 'w' })
    expect(window({ size: 3, step: 1 }).config).toEqual({ size: 3, step: 1 })
    const l = window({ size: 5 })
    expect([...l.apply({}, {}, ones([1, 2]), { training: false }).y.data]).toEqual([5, 5])
  })

  it('derives it when a saved config leaves it out, and keeps a saved one', () => {
    expect(layerFromConfig({ kind: 'Window', config: { size: 4 } }, custom).config).toEqual({
      size: 4,
      step: 4,
    })
    expect(layerFromConfig({ kind: 'Window', config: { size: 4, step: 1 } }, custom).config).toEqual({
      size: 4,
      step: 1,
    })
  })

  it('a given value is still checked by the field, naming it', () => {
    expect(() => window({ step: 'x' as never })).toThrow('Window config: step: expected an integer, got "x"')
    expect(() => layerFromConfig({ kind: 'Window', config: { size: 2, step: 1.5 } }, custom)).toThrow(
      'Window config: step: expected an integer, got 1.5',
    )
  })

  it("derive gets the earlier fields' values (after their own reading), and only them", () => {
    // `size` given as a string or a number, read as a number: derive sees the number
    const size = field({
      optional: false,
      fromOption: (v: string | number) => Number(v),
      fromJson: (j) => j as number,
      toJson: (v: number) => v,
    })
    const seen: unknown[] = []
    const probe = defineLayer({
      kind: 'Probe',
      config: {
        before: defaultFrom(jsonField('json'), (c: { size?: number }) => {
          seen.push(Object.keys(c))
          return c.size ?? null
        }),
        size,
        after: defaultFrom(jsonField('integer'), (c: { size: number }) => c.size * 10),
      },
      build: () => ({ apply: (_p, _s, x) => x }),
    })
    expect(probe({ size: '3' }).config).toEqual({ before: null, size: 3, after: 30 })
    expect(seen).toEqual([[]])
  })

  it('property: left out, the step is the size; the config round-trips byte for byte', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.option(fc.integer({ min: 1, max: 1000 })),
        (s, st) => {
          const l = st === null ? window({ size: s }) : window({ size: s, step: st })
          expect(l.config.step).toBe(st ?? s)
          const saved = JSON.stringify(toSpec(l))
          expect(JSON.stringify(toSpec(layerFromConfig(JSON.parse(saved), custom)))).toBe(saved)
        },
      ),
      { seed: 901, numRuns: 50 },
    )
  })
})
