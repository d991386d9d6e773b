// Issue 10's layer kinds in .keras files. kinds.keras was written by Keras 3.15
// (scripts/fixtures/keras-fixtures.py write-kinds) with its predictions in kinds.json; purenn must
// predict the same within 1e-6. purenn-written files with these kinds were loaded by Keras by hand
// (`keras-fixtures.py check`, see the models-that-travel guide).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  alphaDropout,
  applyModel,
  dense,
  gaussianDropout,
  gaussianNoise,
  initModel,
  type Model,
  normalization,
  prelu,
  rrelu,
  sequential,
} from '@purenn/layers'
import { key, type Tree, tensor, uniform } from '@purenn/tensor'
import { maxAbsDiff } from '@purenn/testing'
import { unzipSync, zipSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import { writeH5 } from '../src/h5.js'
import { kerasArchive, kerasModelFromBytes, loadKerasModel } from '../src/index.js'

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url))

describe('issue 10 kinds in .keras files', () => {
  it('Keras 3.15 kinds.keras (Normalization, PReLU, noise layers, mish, relu6, hard_silu): predictions within 1e-6', async () => {
    const want = JSON.parse(readFileSync(fixture('kinds.json'), 'utf8')) as {
      inputs: number[][]
      outputs: number[][]
    }
    const model = await loadKerasModel(fixture('kinds.keras'))
    expect(model.layer.layers.map((l) => l.kind)).toEqual([
      'Normalization',
      'Dense',
      'PReLU',
      'AlphaDropout',
      'GaussianNoise',
      'Dense',
      'GaussianDropout',
      'Dense',
      'PReLU',
      'Dense',
    ])
    const x = tensor(want.inputs.flat(), [want.inputs.length, 6])
    const diff = maxAbsDiff(applyModel(model, x).y.data, want.outputs.flat())
    console.log(`kinds.keras: Keras 3.15 vs purenn max |Δp| ${diff}`)
    expect(diff).toBeLessThanOrEqual(1e-6)
  })

  it('purenn -> .keras -> purenn: same predictions; RReLU as LeakyReLU, hardSigmoid as hard_sigmoid', async () => {
    const arch = sequential(
      [
        normalization({ mean: [1, -2, 0.5], variance: [4, 0.25, 9] }),
        dense({ units: 6, activation: 'hardSwish' }),
        prelu({ sharedAxes: [] }),
        rrelu({ lower: 0.1, upper: 0.2 }),
        alphaDropout({ rate: 0.1 }),
        gaussianDropout({ rate: 0.1 }),
        gaussianNoise({ stddev: 0.1 }),
        dense({ units: 4, activation: 'hardSigmoid' }),
        dense({ units: 2, activation: 'softmax' }),
      ],
      { inputShape: [3] },
    )
    const init = initModel(arch, { key: key(2) })
    const model: Model = {
      ...init,
      params: {
        ...(init.params as Record<string, Tree>),
        p_re_lu: { alpha: uniform(key(3), [6], { minval: -0.5, maxval: 0.5 }) },
      },
    }
    const bytes = await kerasArchive(model)
    const config = JSON.parse(new TextDecoder().decode(unzipSync(bytes)['config.json']!)) as {
      config: { layers: { class_name: string; config: { activation?: string; negative_slope?: number } }[] }
    }
    const layers = config.config.layers
    expect(layers.map((l) => l.class_name)).toEqual([
      'InputLayer',
      'Normalization',
      'Dense',
      'PReLU',
      'LeakyReLU',
      'AlphaDropout',
      'GaussianDropout',
      'GaussianNoise',
      'Dense',
      'Dense',
    ])
    expect(layers[2]!.config.activation).toBe('hard_silu')
    expect(layers[4]!.config.negative_slope).toBeCloseTo(0.15, 12)
    expect(layers[8]!.config.activation).toBe('hard_sigmoid')
    // read back as purenn's hardSigmoid (Keras 3's relu6(x + 3)/6: metadata.json says Keras 3)
    const back = await kerasModelFromBytes(bytes)
    expect(back.layer.layers.map((l) => l.config.activation ?? null)[7]).toBe('hardSigmoid')
    const x = uniform(key(7), [64, 3], { minval: -8, maxval: 8 })
    expect(maxAbsDiff(applyModel(back, x).y.data, applyModel(model, x).y.data)).toBeLessThanOrEqual(1e-7)
  })

  it('hard_sigmoid in a .keras file not written by Keras 3 (tf.keras 2.x meant clip(0.2x + 0.5)) is refused, naming the layer', async () => {
    const model = initModel(
      sequential([dense({ units: 2, activation: 'hardSigmoid' })], { inputShape: [3] }),
      {
        key: key(8),
      },
    )
    const files = unzipSync(await kerasArchive(model))
    files['metadata.json'] = new TextEncoder().encode(JSON.stringify({ keras_version: '2.15.0' }))
    await expect(kerasModelFromBytes(zipSync(files))).rejects.toThrow(
      /config\.json: .*layers\[1\]\.config\.activation: "hard_sigmoid" in a TF\.js or Keras 2 file is clip\(0\.2x \+ 0\.5, 0, 1\), which purenn does not have/,
    )
  })

  it('purenn -> .keras -> purenn without hardSigmoid: predictions equal within 1e-7', async () => {
    const arch = sequential(
      [
        normalization({ mean: [1, -2, 0.5], variance: [4, 0.25, 9] }),
        dense({ units: 6, activation: 'mish' }),
        prelu(),
        rrelu({ lower: 0.1, upper: 0.2 }),
        dense({ units: 4, activation: 'relu6' }),
        dense({ units: 2, activation: 'hardSwish' }),
      ],
      { inputShape: [3] },
    )
    const init = initModel(arch, { key: key(4) })
    const model: Model = {
      ...init,
      params: {
        ...(init.params as Record<string, Tree>),
        p_re_lu: { alpha: uniform(key(5), [6], { minval: -0.5, maxval: 0.5 }) },
      },
    }
    const back = await kerasModelFromBytes(await kerasArchive(model))
    const x = uniform(key(6), [32, 3], { minval: -4, maxval: 4 })
    expect(maxAbsDiff(applyModel(back, x).y.data, applyModel(model, x).y.data)).toBeLessThanOrEqual(1e-7)
  })
})

// adapted.keras: Keras 3.15 (keras-fixtures.py write-adapted) adapted a Normalization on data, so
// its statistics are weights (vars mean, variance, count), not config; a Dense uses hard_sigmoid.
describe('a Normalization adapted in Keras (statistics in weights)', () => {
  it("reads the mean and variance from model.weights.h5 bitwise; predictions within 1e-6 of Keras'", async () => {
    const want = JSON.parse(readFileSync(fixture('adapted.json'), 'utf8')) as {
      weights: string[]
      mean: number[]
      variance: number[]
      inputs: number[][]
      outputs: number[][]
    }
    expect(want.weights).toEqual(['normalization/mean', 'normalization/variance', 'normalization/count'])
    const model = await loadKerasModel(fixture('adapted.keras'))
    const norm = model.layer.layers[0]!
    expect(norm.kind).toBe('Normalization')
    expect(norm.config.mean).toEqual(want.mean.map(Math.fround))
    expect(norm.config.variance).toEqual(want.variance.map(Math.fround))
    // the statistics are those of the adapted data, far from 0 and 1
    expect(Math.max(...want.mean.map(Math.abs))).toBeGreaterThan(10)
    const x = tensor(want.inputs.flat(), [want.inputs.length, 5])
    const diff = maxAbsDiff(applyModel(model, x).y.data, want.outputs.flat())
    console.log(`adapted.keras: Keras 3.15 vs purenn max |Δp| ${diff}`)
    expect(diff).toBeLessThanOrEqual(1e-6)
  })

  it('adapted statistics of different lengths are refused, naming the file and the group', async () => {
    const files: Record<string, Uint8Array> = unzipSync(
      new Uint8Array(readFileSync(fixture('adapted.keras'))),
    )
    files['model.weights.h5'] = await writeH5((f) => {
      const vars = f.create_group('layers').create_group('normalization').create_group('vars')
      vars.create_attribute('name', 'normalization')
      vars.create_dataset({ name: '0', data: new Float32Array(5), shape: [5], dtype: '<f4' })
      vars.create_dataset({ name: '1', data: new Float32Array(4), shape: [4], dtype: '<f4' })
    })
    await expect(kerasModelFromBytes(zipSync(files))).rejects.toThrow(
      /loadKerasModel: model\.weights\.h5: layers\/normalization: the mean has 5 values and the variance 4/,
    )
  })
})
