// Issue 10's layer kinds and activations in the TF.js format, checked with TF.js 4.22 (cpu):
// what TF.js has is written as TF.js's own layer (PReLU, AlphaDropout, GaussianDropout,
// GaussianNoise; relu6, mish), RReLU as its inference form (LeakyReLU with the mean slope); what
// TF.js lacks (Normalization, hardSigmoid as Keras 3 defines it, hardSwish, and the tanh GELU,
// whose TF.js name 'gelu_new' TF.js's own loader cannot find) is refused naming the layer and the
// format.
import { key, split, type Tensor, type Tree, uniform } from '@purenn/tensor'
import { maxAbsDiff } from '@purenn/testing'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  activations,
  alphaDropout,
  applyModel,
  dense,
  gaussianDropout,
  gaussianNoise,
  initModel,
  type Model,
  mcAlphaDropout,
  normalization,
  prelu,
  rrelu,
  sequential,
  tfjsArtifacts,
  tfjsModelFromArtifacts,
} from '../src/index.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

/** The new kinds in one model, PReLU slopes drawn away from their zero start. */
const kindsModel = (): Model => {
  const arch = sequential(
    [
      dense({ units: 8, activation: 'mish' }),
      prelu(),
      alphaDropout({ rate: 0.1 }),
      gaussianNoise({ stddev: 0.1 }),
      dense({ units: 8, activation: 'relu6' }),
      rrelu({ lower: 0.1, upper: 0.3 }),
      gaussianDropout({ rate: 0.2 }),
      dense({ units: 6, activation: 'gelu' }),
      mcAlphaDropout({ rate: 0.1 }),
      dense({ units: 3, activation: 'softmax' }),
    ],
    { inputShape: [6] },
  )
  const model = initModel(arch, { key: key(3) })
  const params = { ...(model.params as Record<string, Tree>) }
  params.p_re_lu = { alpha: uniform(split(key(4), 1)[0]!, [8], { minval: -0.5, maxval: 0.5 }) }
  return { ...model, params }
}

describe('issue 10 kinds -> TF.js (tf.loadLayersModel)', () => {
  it('TF.js predicts what purenn predicts at inference within 1e-6; RReLU reads back as LeakyReLU', async () => {
    const model = kindsModel()
    expect(Object.keys(model.params as object)).toContain('p_re_lu')
    const a = tfjsArtifacts(model)
    const classes = (a.modelTopology.config as { layers: { class_name: string }[] }).layers.map(
      (l) => l.class_name,
    )
    expect(classes).toEqual([
      'Dense',
      'PReLU',
      'AlphaDropout',
      'GaussianNoise',
      'Dense',
      'LeakyReLU',
      'GaussianDropout',
      'Dense',
      'AlphaDropout',
      'Dense',
    ])
    const m = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: a.modelTopology as unknown as tf.io.ModelJSON['modelTopology'],
        weightSpecs: a.weightSpecs as tf.io.WeightsManifestEntry[],
        weightData: a.weightData,
      }),
    )
    const x = uniform(key(5), [64, 6], { minval: -3, maxval: 3 })
    // purenn's inference: MC alpha dropout is always on, so the reference runs the same model
    // with it removed (TF.js's AlphaDropout is off at inference)
    const inference = (t: Tensor) => {
      const arch = model.layer as unknown as { layers: readonly unknown[]; names: readonly string[] }
      expect(arch.names[8]).toBe('mc_alpha_dropout')
      const withoutMc = sequential(arch.layers.filter((_, i) => i !== 8) as never, { inputShape: [6] })
      return applyModel({ ...model, layer: withoutMc } as Model, t).y
    }
    const expected = inference(x).data
    const got = (m.predict(tf.tensor(Float32Array.from(x.data), [64, 6])) as tf.Tensor).dataSync()
    const diff = maxAbsDiff(got, expected)
    console.log(`issue 10 kinds, purenn -> TF.js: max |Δp| ${diff}`)
    expect(diff).toBeLessThanOrEqual(1e-6)
    // and back: the same predictions; RReLU is now a LeakyReLU (its inference form)
    const back = tfjsModelFromArtifacts(a)
    expect(back.layer.layers.map((l) => l.kind)[5]).toBe('LeakyReLU')
    const backDiff = maxAbsDiff(applyModel(back, x).y.data, expected)
    expect(backDiff).toBeLessThanOrEqual(1e-7)
  })

  it('refuses what TF.js 4.22 lacks, naming the layer and the format', () => {
    const one = (layer: Parameters<typeof sequential>[0][number]) =>
      initModel(sequential([layer], { inputShape: [2] }), { key: key(0) })
    expect(() => tfjsArtifacts(one(normalization({ mean: [0, 1], variance: [1, 4] })))).toThrow(
      /layer 'normalization' \(Normalization\): TF.js 4.22 has no Normalization layer/,
    )
    expect(() => tfjsArtifacts(one(dense({ units: 2, activation: 'hardSigmoid' })))).toThrow(
      /layer 'dense' \(Dense\): hardSigmoid has no TF.js 4.22 equivalent/,
    )
    expect(() => tfjsArtifacts(one(dense({ units: 2, activation: 'hardSwish' })))).toThrow(
      /layer 'dense' \(Dense\): hardSwish has no TF.js 4.22 equivalent/,
    )
    expect(() => tfjsArtifacts(one(dense({ units: 2, activation: activations.geluApproximate })))).toThrow(
      /layer 'dense' \(Dense\): gelu with approximate: true: TF.js 4.22's tanh form 'gelu_new' cannot be loaded/,
    )
    // optimizer states .keras files keep but TF.js 4.22 cannot, each with its reason
    const model = one(dense({ units: 2 }))
    for (const [className, why] of [
      ['RMSprop', /TF\.js's RMSProp always keeps a momentum accumulator/],
      ['Nadam', /TF\.js 4\.22 has no Nadam/],
      ['Adamax', /TF\.js 4\.22's Adamax does not implement getWeights/],
    ] as const)
      expect(() => tfjsArtifacts(model, { optimizer: { className, iterations: 1, slots: {} } })).toThrow(
        new RegExp(
          `tfjsArtifacts: optimizer weights of ${className}: TF\\.js export writes those of Adam, SGD \\(${why.source}`,
        ),
      )
  })

  it('files TF.js writes with these layers load in purenn with the same predictions (≤ 1e-6)', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.dense({ units: 8, inputShape: [6], activation: 'mish' }),
        tf.layers.prelu({
          alphaInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 1 }),
        }),
        tf.layers.alphaDropout({ rate: 0.1 }),
        tf.layers.gaussianNoise({ stddev: 0.2 }),
        tf.layers.dense({ units: 5, activation: 'relu6' }),
        tf.layers.gaussianDropout({ rate: 0.3 }),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    })
    let saved: tf.io.ModelArtifacts | undefined
    await m.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
      }),
    )
    const model = tfjsModelFromArtifacts({
      modelTopology: saved!.modelTopology,
      weightSpecs: saved!.weightSpecs ?? [],
      weightData: saved!.weightData as ArrayBuffer,
    })
    expect(model.layer.layers.map((l) => l.kind)).toEqual([
      'Dense',
      'PReLU',
      'AlphaDropout',
      'GaussianNoise',
      'Dense',
      'GaussianDropout',
      'Dense',
    ])
    const x = uniform(key(6), [64, 6], { minval: -3, maxval: 3 })
    const want = (m.predict(tf.tensor(Float32Array.from(x.data), [64, 6])) as tf.Tensor).dataSync()
    const diff = maxAbsDiff(applyModel(model, x).y.data, want)
    console.log(`issue 10 kinds, TF.js -> purenn: max |Δp| ${diff}`)
    expect(diff).toBeLessThanOrEqual(1e-6)
  })
})
