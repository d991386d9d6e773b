// A CNN written by real Keras 3 (scripts/fixtures/keras_cnn.py): Conv2D, MaxPooling2D,
// AveragePooling2D, GlobalAveragePooling2D and Dense load with their weights and predict
// what Keras predicted.
import { readFileSync } from 'node:fs'
import { applyModel, countParams } from '@purenn/layers'
import { tensor } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import { kerasModelFromBytes } from '../src/index.js'

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url))
const expected = JSON.parse(fixture('cnn.expected.json').toString('utf8')) as {
  x: number[][][][]
  y: number[][]
  params: number
}

describe('a Keras 3 CNN (.keras)', () => {
  it("loads and predicts Keras' outputs within 1e-5", async () => {
    const model = await kerasModelFromBytes(new Uint8Array(fixture('cnn.keras')))
    expect(model.layer.layers.map((l) => l.kind)).toEqual([
      'Conv2D',
      'MaxPooling2D',
      'Conv2D',
      'AveragePooling2D',
      'GlobalAveragePooling2D',
      'Dense',
    ])
    expect(countParams(model).total).toBe(expected.params)
    const y = applyModel(model, tensor(expected.x)).y
    const want = expected.y.flat()
    expect(y.shape).toEqual([2, 2])
    y.data.forEach((v, i) => {
      expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[i]!)))
    })
  })
})
