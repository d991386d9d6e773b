import { key } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import {
  batchNormalization,
  dense,
  fanInSum,
  fanOut,
  flatten,
  identity,
  initModel,
  named,
  parallel,
  residual,
  sequential,
  serial,
  summary,
  toSpec,
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
  it('serial({ name }, ...) and parallel({ name }, ...) name the container, typed through nesting', () => {
    const model = sequential(
      [
        serial({ name: 'block1' }, dense({ units: 2 }), batchNormalization()),
        serial(fanOut(2), parallel({ name: 'towers' }, dense({ units: 2 }), identity()), fanInSum()),
        dense({ units: 1 }),
      ],
      { inputShape: [3] },
    )
    const { params } = initModel(model, { key: key(0) })
    expect(model.names).toEqual(['block1', 'serial', 'dense'])
    expect(params.block1.dense.kernel.shape).toEqual([3, 2])
    expect(params.block1.batch_normalization.gamma?.shape).toEqual([2])
    expect(params.serial.towers.dense.kernel.shape).toEqual([2, 2])
    expect(params.dense.kernel.shape).toEqual([2, 1])
    // @ts-expect-error: the second serial holds fan_out, towers and fan_in_sum, no dense
    expect(params.serial.dense).toBeUndefined()
    // @ts-expect-error: a misspelt child of a named serial does not compile
    expect(params.block1.dense_1).toBeUndefined()
    // @ts-expect-error: the parallel is named towers
    expect(params.serial.parallel).toBeUndefined()
  })
  it('a named serial saves as named(...) of a serial does, and is the model name in summary', () => {
    const a = serial({ name: 'net' }, dense({ units: 2 }), identity())
    const b = named('net', serial(dense({ units: 2 }), identity()))
    expect(JSON.stringify(toSpec(a))).toBe(JSON.stringify(toSpec(b)))
    expect(JSON.stringify(toSpec(a))).toBe(
      '{"kind":"Serial","config":{"layers":[{"kind":"Dense","config":{"units":2,"activation":"linear","useBias":true,"kernelInitializer":"glorotUniform","biasInitializer":"zeros","kernelRegularizer":null,"biasRegularizer":null}},{"kind":"Identity","config":{}}],"name":"net"}}',
    )
    expect(summary(initModel(a, { key: key(0), inputShape: [3] })).split('\n')[0]).toBe('Model: "net"')
    // @ts-expect-error: the options hold only a name
    expect(() => serial({ name: 'n', units: 2 }, dense({ units: 1 }))).toThrow(
      "serial: unknown option 'units'; serial takes name",
    )
  })
})
