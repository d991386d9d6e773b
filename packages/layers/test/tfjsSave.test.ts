// The TF.js Layers format both ways, checked with TF.js itself (@tensorflow/tfjs 4.22, cpu
// backend): purenn -> TF.js (tf.loadLayersModel reads what saveTfjsModel writes), TF.js ->
// purenn (files written by TF.js's model.save), and purenn -> TF.js files -> purenn.

import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { add, key, mul, type Tensor, type Tree, tensor, uniform } from '@purenn/tensor'
import { maxAbsDiff } from '@purenn/testing'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  activation,
  activations,
  applyModel,
  averagePooling2d,
  batchNormalization,
  conv2d,
  dense,
  dropout,
  freeze,
  globalAveragePooling2d,
  initModel,
  type Layer,
  l2,
  leakyRelu,
  loadTfjsModel,
  type Model,
  maxNorm,
  maxPooling2d,
  mcDropout,
  minMaxNorm,
  saveTfjsModel,
  sequential,
  tfjsArtifacts,
  tfjsModelFromArtifacts,
} from '../src/index.js'
import { jitteredChapterModel } from './helpers/chapter.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const argmaxRows = (data: ArrayLike<number>, cols: number): number[] =>
  Array.from({ length: data.length / cols }, (_, r) => {
    let best = 0
    for (let c = 1; c < cols; c++) if (data[r * cols + c]! > data[r * cols + best]!) best = c
    return best
  })

/** TF.js's prediction for purenn's input. */
const tfPredict = (m: tf.LayersModel, x: Tensor): Float32Array => {
  const out = m.predict(tf.tensor(Float32Array.from(x.data), [...x.shape])) as tf.Tensor
  return out.dataSync() as Float32Array
}

const loadInTfjs = async (model: Model): Promise<tf.LayersModel> => {
  const a = tfjsArtifacts(model)
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: a.modelTopology as unknown as tf.io.ModelJSON['modelTopology'],
      weightSpecs: a.weightSpecs as tf.io.WeightsManifestEntry[],
      weightData: a.weightData,
    }),
  )
}

const fashionFile = fileURLToPath(
  new URL('../../../../shared/data/fashion-mnist/t10k-images-idx3-ubyte.gz', import.meta.url),
)
/** The first n Fashion-MNIST test images, scaled to [0, 1], or random images without the files. */
const images = (n: number): Tensor => {
  if (!existsSync(fashionFile)) return uniform(key(3), [n, 28, 28])
  const bytes = gunzipSync(readFileSync(fashionFile)).subarray(16, 16 + n * 784)
  return tensor(
    Float32Array.from(bytes, (v) => v / 255),
    [n, 28, 28],
  )
}

describe('purenn -> TF.js (tf.loadLayersModel)', () => {
  it('the chapter model: probabilities within 1e-6 and identical argmax on 1,000 test images', async () => {
    const model = jitteredChapterModel()
    const x = images(1000)
    const expected = applyModel(model, x).y.data
    const got = tfPredict(await loadInTfjs(model), x)
    const diff = maxAbsDiff(got, expected)
    console.log(`chapter model, 1,000 images, purenn -> TF.js (cpu): max |Δp| ${diff}`)
    expect(diff).toBeLessThanOrEqual(1e-6)
    expect(argmaxRows(got, 10)).toEqual(argmaxRows(expected, 10))
  })

  it('activations TF.js lacks become layers; MC dropout becomes Dropout; outputs within 2e-6', async () => {
    const arch = sequential(
      [
        dense({ units: 6, activation: activations.leakyRelu(0.1), kernelRegularizer: l2(0.01) }),
        dense({ units: 6, activation: 'elu' }),
        activation(activations.elu(1)),
        leakyRelu({ alpha: 0.25 }),
        dense({ units: 5, activation: 'selu', kernelInitializer: 'lecunNormal' }),
        dense({ units: 5, activation: 'gelu' }),
        mcDropout({ rate: 0.2 }),
        dense({ units: 5, activation: 'swish' }),
        dropout({ rate: 0.5 }),
        dense({ units: 4, activation: 'softplus' }),
        activation('tanh'),
      ],
      { inputShape: [5] },
    )
    const model = initModel(arch, { key: key(4) })
    const classes = (
      tfjsArtifacts(model).modelTopology.config as { layers: { class_name: string }[] }
    ).layers.map((l) => l.class_name)
    expect(classes).toEqual([
      'Dense',
      'LeakyReLU',
      'Dense',
      'Activation',
      'LeakyReLU',
      'Dense',
      'Dense',
      'Dropout',
      'Dense',
      'Dropout',
      'Dense',
      'Activation',
    ])
    const x = mul(add(uniform(key(5), [7, 5]), -0.5), 6)
    // purenn's inference with MC dropout off: what the Dropout layer of TF.js does in predict
    const plain = initModel(
      sequential(
        arch.layers.map((l) => (l.kind === 'MCDropout' ? dropout({ rate: 0.2 }) : l)),
        { inputShape: [5] },
      ),
      { key: key(4) },
    )
    const expected = applyModel({ ...plain, params: model.params, state: model.state }, x).y.data
    expect(maxAbsDiff(tfPredict(await loadInTfjs(model), x), expected)).toBeLessThanOrEqual(2e-6)
  })

  it('frozen layers are written trainable: false', () => {
    const model = freeze(
      initModel(sequential([dense({ units: 3 }), dense({ units: 2 })], { inputShape: [4] }), { key: key(6) }),
      ['dense'],
    )
    const layers = (
      tfjsArtifacts(model).modelTopology.config as { layers: { config: { trainable: boolean } }[] }
    ).layers
    expect(layers.map((l) => l.config.trainable)).toEqual([false, true])
  })

  it('refuses ELU with alpha other than 1 (TF.js refuses it), naming the layer', () => {
    const model = initModel(
      sequential([dense({ units: 2, activation: activations.elu(0.5) })], { inputShape: [2] }),
      {
        key: key(0),
      },
    )
    expect(() => tfjsArtifacts(model)).toThrow(/layer 'dense' \(Dense\): ELU with alpha 0.5/)
  })

  it('refuses a layer kind it cannot write, naming the layer', () => {
    const custom: Layer = {
      kind: 'Square',
      config: {},
      init: (_k, s) => ({ params: {}, state: {}, outputShape: s }),
      apply: (_p, state, x) => ({ y: mul(x, x), state }),
    }
    const model = initModel(sequential([custom], { inputShape: [2] }), { key: key(0) })
    expect(() => tfjsArtifacts(model)).toThrow(
      /layer 'square' is a Square, which TF.js export does not handle/,
    )
  })
})

describe('purenn CNN -> TF.js', () => {
  it('conv (same/valid, strides, dilation), pooling, global pooling: TF.js predicts within 1e-5', async () => {
    const arch = sequential(
      [
        conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
        batchNormalization(),
        maxPooling2d({ poolSize: 2, padding: 'same' }),
        conv2d({ filters: 5, kernelSize: [2, 3], strides: [2, 1], activation: activations.leakyRelu(0.1) }),
        averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
        conv2d({ filters: 3, kernelSize: 2, dilationRate: 2, padding: 'same' }),
        globalAveragePooling2d(),
        dense({ units: 4, activation: 'softmax' }),
      ],
      { inputShape: [11, 9, 2] },
    )
    const model = initModel(arch, { key: key(21) })
    const x = uniform(key(22), [3, 11, 9, 2])
    const got = tfPredict(await loadInTfjs(model), x)
    expect(maxAbsDiff(got, applyModel(model, x).y.data)).toBeLessThanOrEqual(1e-5)
    // and back into purenn through the TF.js reader, bit for bit
    const back = tfjsModelFromArtifacts(tfjsArtifacts(model))
    expect(Array.from(applyModel(back, x).y.data)).toEqual(Array.from(applyModel(model, x).y.data))
  })
})

describe('TF.js -> purenn (files written by TF.js model.save)', () => {
  it('a tf.sequential with batch norm and dropout loads and predicts within 1e-6', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28] }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 50, activation: 'relu', kernelInitializer: 'heNormal' }),
        tf.layers.dropout({ rate: 0.3 }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    })
    // moving statistics away from 0 and 1, as after training
    for (const layer of m.layers.filter((l) => l.getClassName() === 'BatchNormalization'))
      layer.setWeights(
        layer
          .getWeights()
          .map((w, i) => tf.randomUniform(w.shape, i === 3 ? 0.2 : -0.5, 1.5, 'float32', 7 + i)),
      )
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-written-'))
    await m.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const shard = 'group1-shard1of1.bin'
        await mkdir(dir, { recursive: true })
        await writeFile(join(dir, shard), new Uint8Array(artifacts.weightData as ArrayBuffer))
        await writeFile(
          join(dir, 'model.json'),
          JSON.stringify({
            modelTopology: artifacts.modelTopology,
            format: artifacts.format,
            generatedBy: artifacts.generatedBy,
            convertedBy: artifacts.convertedBy,
            weightsManifest: [{ paths: [shard], weights: artifacts.weightSpecs }],
          }),
        )
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
      }),
    )
    const model = await loadTfjsModel(dir)
    const x = images(200)
    const got = applyModel(model, x).y.data
    const expected = tfPredict(m, x)
    const diff = maxAbsDiff(got, expected)
    console.log(`tf.sequential written by TF.js, 200 images, TF.js -> purenn: max |Δp| ${diff}`)
    expect(diff).toBeLessThanOrEqual(1e-6)
    expect(argmaxRows(got, 10)).toEqual(argmaxRows(expected, 10))
  })
})

describe('purenn -> TF.js files -> purenn (saveTfjsModel, loadTfjsModel)', () => {
  it('round-trips the chapter model: same weights bit for bit, same predictions', async () => {
    const model = jitteredChapterModel()
    const dir = join(mkdtempSync(join(tmpdir(), 'tfjs-save-')), 'model')
    await saveTfjsModel(model, dir)
    const back = await loadTfjsModel(dir)
    const flat = (t: Tree, path = ''): [string, number[]][] =>
      t !== null && typeof t === 'object' && 'data' in t && 'shape' in t
        ? [[path, Array.from((t as Tensor).data)]]
        : Object.entries(t as Record<string, Tree>).flatMap(([k, v]) => flat(v, `${path}/${k}`))
    expect(flat(back.params)).toEqual(flat(model.params))
    expect(flat(back.state)).toEqual(flat(model.state))
    const x = images(100)
    expect(Array.from(applyModel(back, x).y.data)).toEqual(Array.from(applyModel(model, x).y.data))
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
      weightsManifest: { paths: string[] }[]
    }
    expect(json.weightsManifest[0]!.paths).toEqual(['group1-shard1of1.bin'])
  })

  it("writes each shard's SHA-256 (purennSha256), which TF.js 4.22 ignores and loadTfjsModel checks", async () => {
    const model = initModel(
      sequential([dense({ units: 300, activation: 'relu' }), dense({ units: 3 })], { inputShape: [4] }),
      { key: key(0) },
    )
    const dir = join(mkdtempSync(join(tmpdir(), 'tfjs-save-')), 'model')
    await saveTfjsModel(model, dir)
    const shard = readFileSync(join(dir, 'group1-shard1of1.bin'))
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
      weightsManifest: { paths: string[]; purennSha256: string[] }[]
    }
    expect(json.weightsManifest[0]!.purennSha256).toEqual([createHash('sha256').update(shard).digest('hex')])
    // TF.js reads the folder as from a web server (its HTTP loader parses model.json itself)
    const fetchFunc = async (url: string | URL | Request) =>
      new Response(readFileSync(join(dir, String(url).replace(/^.*\//, ''))))
    const m = await tf.loadLayersModel(`http://localhost/model/model.json`, { fetchFunc })
    const x = uniform(key(1), [5, 4], { minval: -1, maxval: 1 })
    expect(maxAbsDiff(tfPredict(m, x), applyModel(model, x).y.data)).toBeLessThan(1e-6)
    // a flipped bit in the shard: TF.js loads it silently, purenn refuses it
    shard[100]! ^= 0x04
    writeFileSync(join(dir, 'group1-shard1of1.bin'), shard)
    await expect(loadTfjsModel(dir)).rejects.toThrow(
      'group1-shard1of1.bin: checksum mismatch (SHA-256 differs from model.json weightsManifest[0].purennSha256[0])',
    )
  })
})

describe('weight constraints through the TF.js format', () => {
  it('maxNorm and minMaxNorm are written as Keras MaxNorm/MinMaxNorm and read back with the same config', () => {
    const arch = sequential(
      [
        dense({
          units: 3,
          kernelConstraint: maxNorm(1.5, { axis: 0 }),
          biasConstraint: minMaxNorm({ rate: 0.5 }),
        }),
      ],
      { inputShape: [2] },
    )
    const model = initModel(arch, { key: key(0) })
    const artifacts = tfjsArtifacts(model)
    const topology = artifacts.modelTopology as { config: { layers: { config: Record<string, unknown> }[] } }
    const layer = topology.config.layers.find((l) => 'kernel_constraint' in l.config)!
    expect(layer.config.kernel_constraint).toEqual({
      class_name: 'MaxNorm',
      config: { max_value: 1.5, axis: 0 },
    })
    const back = tfjsModelFromArtifacts(artifacts)
    const d = (back.layer as ReturnType<typeof sequential>).layers[0]!
    expect(d.config.kernelConstraint).toEqual({ name: 'maxNorm', maxValue: 1.5, axis: 0 })
    expect(d.config.biasConstraint).toEqual({
      name: 'minMaxNorm',
      minValue: 0,
      maxValue: 1,
      rate: 0.5,
      axis: 0,
    })
  })
})

describe('tfjsModelFromArtifacts (in memory, no file system)', () => {
  it('reads tfjsArtifacts back bit for bit', () => {
    const model = jitteredChapterModel()
    const back = tfjsModelFromArtifacts(tfjsArtifacts(model))
    const x = images(50)
    expect(Array.from(applyModel(back, x).y.data)).toEqual(Array.from(applyModel(model, x).y.data))
  })

  it('refuses weight bytes of the wrong length, saying how many were expected', () => {
    const a = tfjsArtifacts(
      initModel(sequential([dense({ units: 2 })], { inputShape: [3] }), { key: key(0) }),
    )
    expect(() => tfjsModelFromArtifacts({ ...a, weightData: a.weightData.slice(0, 20) })).toThrow(
      'tfjsModelFromArtifacts: weightData: expected 32 bytes for weightSpecs, found 20',
    )
  })
})

describe('quantized TF.js weights (tensorflowjs_converter --quantize_uint8/uint16/float16)', () => {
  it('uint8 and uint16 read as q·scale + min, float16 as IEEE half floats', () => {
    const model = initModel(sequential([dense({ units: 2 })], { inputShape: [3] }), { key: key(0) })
    const a = tfjsArtifacts(model)
    // kernel [3, 2] as uint8, bias [2] as float16; a second model has a uint16 kernel
    const q8 = [0, 1, 127, 128, 254, 255]
    const halves = [0x3c00, 0xc000] // 1, -2
    const bytes = new Uint8Array(6 + 4)
    bytes.set(q8, 0)
    new DataView(bytes.buffer).setUint16(6, halves[0]!, true)
    new DataView(bytes.buffer).setUint16(8, halves[1]!, true)
    const [scale, min] = [0.01, -1.25]
    const specs = [
      { ...a.weightSpecs[0]!, quantization: { dtype: 'uint8', scale, min } },
      { ...a.weightSpecs[1]!, quantization: { dtype: 'float16' } },
    ]
    const back = tfjsModelFromArtifacts({
      modelTopology: a.modelTopology,
      weightSpecs: specs,
      weightData: bytes,
    })
    const p = back.params as { dense: { kernel: Tensor; bias: Tensor } }
    expect(Array.from(p.dense.kernel.data)).toEqual(q8.map((q) => Math.fround(q * scale + min)))
    expect(Array.from(p.dense.bias.data)).toEqual([1, -2])

    const q16 = [0, 1, 1000, 32768, 65534, 65535]
    const b16 = new Uint8Array(12 + 8)
    for (const [i, q] of q16.entries()) new DataView(b16.buffer).setUint16(2 * i, q, true)
    new Float32Array(b16.buffer, 12, 2).set([0.5, 0.25])
    const back16 = tfjsModelFromArtifacts({
      modelTopology: a.modelTopology,
      weightSpecs: [
        { ...a.weightSpecs[0]!, quantization: { dtype: 'uint16', scale: 1e-4, min: -3 } },
        a.weightSpecs[1]!,
      ],
      weightData: b16,
    })
    const k16 = (back16.params as { dense: { kernel: Tensor } }).dense.kernel
    expect(Array.from(k16.data)).toEqual(q16.map((q) => Math.fround(q * 1e-4 + -3)))
  })

  it('float16 edge values: subnormal, largest, infinities, signed zero', () => {
    const model = initModel(sequential([dense({ units: 5, useBias: false })], { inputShape: [1] }), {
      key: key(0),
    })
    const a = tfjsArtifacts(model)
    const halves = [0x0001, 0x7bff, 0x3555, 0x8000, 0x0400]
    const bytes = new Uint8Array(10)
    for (const [i, h] of halves.entries()) new DataView(bytes.buffer).setUint16(2 * i, h, true)
    const back = tfjsModelFromArtifacts({
      modelTopology: a.modelTopology,
      weightSpecs: [{ ...a.weightSpecs[0]!, quantization: { dtype: 'float16' } }],
      weightData: bytes,
    })
    const k = Array.from((back.params as { dense: { kernel: Tensor } }).dense.kernel.data)
    // 2^-24, 65504, 0.333251953125 (0x3555), -0, 2^-14
    expect(k).toEqual([2 ** -24, 65504, 0.333251953125, -0, 2 ** -14])
    expect(Object.is(k[3], -0)).toBe(true)
  })
})
