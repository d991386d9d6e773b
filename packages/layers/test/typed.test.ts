import { key } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import {
  batchNormalization,
  dense,
  flatten,
  initModel,
  named,
  residual,
  sequential,
  serial,
} from '../src/index.js'

describe('typed params', () => {
  it('sequential params are keyed by the Keras names, checked by the compiler', () => {
    const arch = sequential(
      [flatten(), dense({ units: 3 }), batchNormalization(), dense({ units: 2, name: 'out' })],
      {
        inputShape: [2, 2],
      },
    )
    const model = initModel(arch, { key: key(0) })
    expect(model.params.dense.kernel.shape).toEqual([4, 3])
    expect(model.params.out.kernel.shape).toEqual([3, 2])
    expect(model.state.batch_normalization.movingMean.shape).toEqual([3])
    // @ts-expect-error: there is no second auto-named dense layer (it is named 'out')
    expect(model.params.dense_1).toBeUndefined()
    // @ts-expect-error: a misspelt layer name does not compile
    expect(model.params.dens).toBeUndefined()
  })
  it('serial and residual params are typed through nesting', () => {
    const s = serial(
      named('block1', residual(serial(dense({ units: 2 }), batchNormalization()))),
      dense({ units: 1 }),
    )
    const { params } = s.init(key(0), [2])
    expect(params.block1.dense.kernel.shape).toEqual([2, 2])
    expect(params.block1.batch_normalization.gamma?.shape).toEqual([2])
    expect(params.dense.kernel.shape).toEqual([2, 1])
    // @ts-expect-error: no layer named block2
    expect(params.block2).toBeUndefined()
  })
})
