import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { key, type Tensor, tensor } from '@purenn/tensor'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  activation,
  applyModel,
  batchNormalization,
  cloneModel,
  countParams,
  dense,
  dropout,
  flatten,
  freeze,
  getWeights,
  initializers,
  initModel,
  isSequential,
  l1l2,
  l2,
  leakyRelu,
  loadTfjsModel,
  type Model,
  type Sequential,
  sequential,
  setWeights,
  summary,
  weightNames,
} from '../src/index.js'

// TF.js Layers directories are written by hand here: model.json as tensorflowjs_converter or
// TF.js' model.save write it, and weight shards of little-endian float32.

let root = ''
beforeAll(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'purenn-tfjs-test-'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

let counter = 0
// biome-ignore lint/suspicious/noExplicitAny: model.json as plain data, edited freely to break it
type Json = any

/** Writes model.json and the shards into a fresh directory, and returns it. */
const write = async (json: Json, shards: { readonly [file: string]: Uint8Array }): Promise<string> => {
  const dir = join(root, `case-${counter++}`)
  await fs.mkdir(dir)
  await fs.writeFile(join(dir, 'model.json'), JSON.stringify(json))
  for (const [file, bytes] of Object.entries(shards)) await fs.writeFile(join(dir, file), bytes)
  return dir
}

/** Little-endian float32 bytes of `values`, whatever the host. */
const f32 = (values: readonly number[]): Uint8Array => {
  const bytes = new Uint8Array(4 * values.length)
  const view = new DataView(bytes.buffer)
  values.forEach((v, i) => {
    view.setFloat32(4 * i, v, true)
  })
  return bytes
}

const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

/** The bit patterns of a tensor's values. */
const bits = (t: Tensor): number[] => [...new Uint32Array(new Float32Array(t.data).buffer)]
const bitsOf = (values: readonly number[]): number[] => [...new Uint32Array(new Float32Array(values).buffer)]

// ---------------------------------------------------------------------------------------
// The main fixture: Flatten + BatchNormalization + Dense(relu) + Dropout + Dense(softmax) on
// 2x2 inputs, as tensorflowjs_converter writes a tf.keras 2.x model (modelTopology.model_config,
// an InputLayer first, initializers and regularizers as {class_name, config}).

const weights = {
  gamma: [1.5, 0.5, -1, 2],
  beta: [0.1, -0.2, 0.3, -0],
  movingMean: [0.25, -0.5, 1, 0],
  movingVariance: [1, 0.25, 4, 2],
  kernel: Array.from({ length: 12 }, (_, i) => Math.fround(Math.sin(i + 1))),
  bias: [0.1, -0.1, 0.05],
  kernel1: Array.from({ length: 6 }, (_, i) => Math.fround(Math.cos(i + 1))),
  bias1: [0.2, 1e-40], // a subnormal
}
const manifestWeights = () => [
  { name: 'batch_normalization/gamma', shape: [4], dtype: 'float32' },
  { name: 'batch_normalization/beta', shape: [4], dtype: 'float32' },
  { name: 'batch_normalization/moving_mean', shape: [4], dtype: 'float32' },
  { name: 'batch_normalization/moving_variance', shape: [4], dtype: 'float32' },
  { name: 'dense/kernel', shape: [4, 3], dtype: 'float32' },
  { name: 'dense/bias', shape: [3], dtype: 'float32' },
  { name: 'dense_1/kernel', shape: [3, 2], dtype: 'float32' },
  { name: 'dense_1/bias', shape: [2], dtype: 'float32' },
]
const allBytes = () =>
  f32([
    ...weights.gamma,
    ...weights.beta,
    ...weights.movingMean,
    ...weights.movingVariance,
    ...weights.kernel,
    ...weights.bias,
    ...weights.kernel1,
    ...weights.bias1,
  ])

const layersJson = (): Json[] => [
  {
    class_name: 'InputLayer',
    config: {
      batch_input_shape: [null, 2, 2],
      dtype: 'float32',
      sparse: false,
      ragged: false,
      name: 'flatten_input',
    },
  },
  {
    class_name: 'Flatten',
    config: {
      name: 'flatten',
      trainable: true,
      dtype: 'float32',
      batch_input_shape: [null, 2, 2],
      data_format: 'channels_last',
    },
  },
  {
    class_name: 'BatchNormalization',
    config: {
      name: 'batch_normalization',
      trainable: true,
      dtype: 'float32',
      axis: [1],
      momentum: 0.99,
      epsilon: 0.001,
      center: true,
      scale: true,
      beta_initializer: { class_name: 'Zeros', config: {} },
      gamma_initializer: { class_name: 'Ones', config: {} },
      moving_mean_initializer: { class_name: 'Zeros', config: {} },
      moving_variance_initializer: { class_name: 'Ones', config: {} },
      beta_regularizer: null,
      gamma_regularizer: null,
      beta_constraint: null,
      gamma_constraint: null,
    },
  },
  {
    class_name: 'Dense',
    config: {
      name: 'dense',
      trainable: true,
      dtype: 'float32',
      units: 3,
      activation: 'relu',
      use_bias: true,
      kernel_initializer: { class_name: 'HeNormal', config: { seed: null } },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: { class_name: 'L2', config: { l2: 0.009999999776482582 } },
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
  },
  {
    class_name: 'Dropout',
    config: { name: 'dropout', trainable: true, dtype: 'float32', rate: 0.2, noise_shape: null, seed: null },
  },
  {
    class_name: 'Dense',
    config: {
      name: 'dense_1',
      trainable: true,
      dtype: 'float32',
      units: 2,
      activation: 'softmax',
      use_bias: true,
      kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
  },
]

/** model.json of the main fixture, its one weight group split into two shards mid-value. */
const mainJson = (): Json => ({
  format: 'layers-model',
  generatedBy: 'keras v2.15.0',
  convertedBy: 'TensorFlow.js Converter v4.22.0',
  modelTopology: {
    keras_version: '2.15.0',
    backend: 'tensorflow',
    model_config: { class_name: 'Sequential', config: { name: 'sequential', layers: layersJson() } },
    training_config: { loss: 'sparse_categorical_crossentropy' },
  },
  weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: manifestWeights() }],
})
const mainShards = () => {
  const b = allBytes()
  return { 'group1-shard1of2.bin': b.subarray(0, 10), 'group1-shard2of2.bin': b.subarray(10) }
}
const writeMain = (edit: (json: Json) => void = () => {}, shards = mainShards()) => {
  const json = mainJson()
  edit(json)
  return write(json, shards)
}
/** The main fixture's layer list inside model.json. */
const layersOf = (json: Json): Json[] => json.modelTopology.model_config.config.layers

/** The main fixture's forward pass at inference, in float64. */
const reference = (x: readonly number[], n: number): number[] => {
  const out: number[] = []
  for (let b = 0; b < n; b++) {
    const v = x.slice(4 * b, 4 * b + 4)
    const bn = v.map(
      (xi, j) =>
        (weights.gamma[j]! * (xi - weights.movingMean[j]!)) / Math.sqrt(weights.movingVariance[j]! + 0.001) +
        weights.beta[j]!,
    )
    const h = [0, 1, 2].map((k) =>
      Math.max(
        0,
        bn.reduce((s, bj, j) => s + bj * weights.kernel[3 * j + k]!, weights.bias[k]!),
      ),
    )
    const z = [0, 1].map((m) =>
      h.reduce((s, hk, k) => s + hk * weights.kernel1[2 * k + m]!, weights.bias1[m]!),
    )
    const top = Math.max(...z)
    const e = z.map((zi) => Math.exp(zi - top))
    out.push(...e.map((ei) => ei / (e[0]! + e[1]!)))
  }
  return out
}

// ---------------------------------------------------------------------------------------
// A writer of the TF.js Layers format for purenn models (the round trip's other half; tests only)

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()
const pascal = (s: string) => s[0]!.toUpperCase() + s.slice(1)

const kerasActivation = (a: Json): string => (typeof a === 'string' ? snake(a) : snake(a.name))
const kerasInitializer = (i: Json): Json => {
  if (typeof i === 'string') return { class_name: pascal(i), config: { seed: null } }
  const { name, ...config } = i
  if (name === 'varianceScaling')
    return {
      class_name: 'VarianceScaling',
      config: {
        scale: config.scale,
        mode: snake(config.mode),
        distribution: snake(config.distribution),
        seed: null,
      },
    }
  return { class_name: pascal(name), config: name === 'constant' ? config : { ...config, seed: null } }
}
const kerasRegularizer = (r: Json): Json => {
  if (r === null) return null
  const { name, ...config } = r
  return { class_name: name.toUpperCase(), config }
}
const kerasConfig = (kind: string, c: Json): Json => {
  switch (kind) {
    case 'Dense':
      return {
        units: c.units,
        activation: kerasActivation(c.activation),
        use_bias: c.useBias,
        kernel_initializer: kerasInitializer(c.kernelInitializer),
        bias_initializer: kerasInitializer(c.biasInitializer),
        kernel_regularizer: kerasRegularizer(c.kernelRegularizer),
        bias_regularizer: kerasRegularizer(c.biasRegularizer),
        activity_regularizer: null,
        kernel_constraint: null,
        bias_constraint: null,
      }
    case 'Activation':
      return { activation: kerasActivation(c.activation) }
    case 'Flatten':
      return { data_format: 'channels_last' }
    default: // BatchNormalization, Dropout, LeakyReLU: the same fields
      return c
  }
}

/** Writes a sequential purenn model in the TF.js Layers format, its weights in shards of `shardBytes`. */
const saveTfjs = async (model: Model<Sequential>, shardBytes: number): Promise<string> => {
  const seq = model.layer
  const layers = seq.layers.map((l, i) => {
    const name = seq.names[i]!
    // Keras' trainable is per layer: false when all of its params are frozen
    const flags = Object.values((model.trainable as Json)[name] ?? {})
    const trainable = flags.length === 0 || flags.some((f) => f === true)
    return {
      class_name: l.kind,
      config: {
        ...kerasConfig(l.kind, l.config),
        name,
        trainable,
        dtype: 'float32',
        ...(i === 0 ? { batch_input_shape: [null, ...model.inputShape] } : {}),
      },
    }
  })
  const names = weightNames(model).map((n) => {
    const dot = n.lastIndexOf('.')
    return `${n.slice(0, dot)}/${snake(n.slice(dot + 1))}`
  })
  const values = getWeights(model)
  const bytes = concat(
    values.map((w) => new Uint8Array(w.data.buffer, w.data.byteOffset, 4 * w.size).slice()),
  )
  const count = Math.max(1, Math.ceil(bytes.length / shardBytes))
  const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`)
  const json = {
    format: 'layers-model',
    generatedBy: 'purenn test',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: seq.name, layers },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [
      { paths, weights: values.map((w, i) => ({ name: names[i], shape: [...w.shape], dtype: 'float32' })) },
    ],
  }
  return write(
    json,
    Object.fromEntries(paths.map((p, i) => [p, bytes.subarray(i * shardBytes, (i + 1) * shardBytes)])),
  )
}

// ---------------------------------------------------------------------------------------

describe('loadTfjsModel: the architecture', () => {
  it('rebuilds the layers with their Keras names, kinds and configs, and the input shape', async () => {
    const model = await loadTfjsModel(await writeMain())
    expect(isSequential(model.layer)).toBe(true)
    const seq = model.layer
    expect(seq.name).toBe('sequential')
    expect(seq.names).toEqual(['flatten', 'batch_normalization', 'dense', 'dropout', 'dense_1'])
    expect(seq.layers.map((l) => l.kind)).toEqual([
      'Flatten',
      'BatchNormalization',
      'Dense',
      'Dropout',
      'Dense',
    ])
    expect(model.inputShape).toEqual([2, 2])
    expect(seq.layers[1]!.config).toEqual({
      axis: [1],
      momentum: 0.99,
      epsilon: 0.001,
      center: true,
      scale: true,
      name: 'batch_normalization',
    })
    expect(seq.layers[2]!.config).toEqual({
      units: 3,
      activation: 'relu',
      useBias: true,
      kernelInitializer: 'heNormal',
      biasInitializer: 'zeros',
      kernelRegularizer: { name: 'l2', l2: 0.009999999776482582 },
      biasRegularizer: null,
      name: 'dense',
    })
    expect(seq.layers[3]!.config).toEqual({ rate: 0.2, name: 'dropout' })
    expect(seq.layers[4]!.config.activation).toBe('softmax')
    expect(seq.layers[4]!.config.kernelInitializer).toBe('glorotUniform')
    expect(countParams(model)).toEqual({ total: 16 + 15 + 8, trainable: 8 + 15 + 8, nonTrainable: 8 })
    expect(summary(model)).toContain(' dense_1 (Dense)             (None, 2)                 8')
    // the penalty of the kernel regularizer is there: 0.01·Σw²
    const penalty = seq.penalty!(model.params).item()
    expect(penalty).toBeCloseTo(0.009999999776482582 * weights.kernel.reduce((s, w) => s + w * w, 0), 6)
  })

  it('keeps every weight bit for bit, from a group split across two shards in the middle of a value', async () => {
    const model = await loadTfjsModel(await writeMain())
    const p = model.params
    const s = model.state
    expect(bits(p.batch_normalization.gamma)).toEqual(bitsOf(weights.gamma))
    expect(bits(p.batch_normalization.beta)).toEqual(bitsOf(weights.beta)) // with a −0
    expect(bits(s.batch_normalization.movingMean)).toEqual(bitsOf(weights.movingMean))
    expect(bits(s.batch_normalization.movingVariance)).toEqual(bitsOf(weights.movingVariance))
    expect(p.dense.kernel.shape).toEqual([4, 3])
    expect(bits(p.dense.kernel)).toEqual(bitsOf(weights.kernel))
    expect(bits(p.dense.bias)).toEqual(bitsOf(weights.bias))
    expect(p.dense_1.kernel.shape).toEqual([3, 2])
    expect(bits(p.dense_1.kernel)).toEqual(bitsOf(weights.kernel1))
    expect(bits(p.dense_1.bias)).toEqual(bitsOf(weights.bias1)) // with a subnormal
    expect(Object.keys(p.flatten)).toEqual([])
    expect(model.trainable).toEqual({
      flatten: {},
      batch_normalization: { gamma: true, beta: true },
      dense: { kernel: true, bias: true },
      dropout: {},
      dense_1: { kernel: true, bias: true },
    })
  })

  it('computes at inference what the formulas give in float64', async () => {
    const model = await loadTfjsModel(await writeMain())
    const x = Array.from({ length: 3 * 4 }, (_, i) => Math.fround(Math.sin(0.7 * i) * 2))
    const y = applyModel(model, tensor(x, [3, 2, 2])).y
    expect(y.shape).toEqual([3, 2])
    const want = reference(x, 3)
    y.data.forEach((v, i) => {
      expect(Math.abs(v - want[i]!)).toBeLessThan(1e-6)
    })
  })

  it('computes a tiny dense model exactly: y = relu(x·W + b)', async () => {
    const json = {
      format: 'layers-model',
      modelTopology: {
        class_name: 'Sequential',
        config: {
          name: 'tiny',
          layers: [
            {
              class_name: 'Dense',
              config: {
                name: 'd',
                units: 2,
                activation: 'relu',
                use_bias: true,
                batch_input_shape: [null, 2],
              },
            },
          ],
        },
      },
      weightsManifest: [
        {
          paths: ['w.bin'],
          weights: [
            { name: 'd/kernel', shape: [2, 2], dtype: 'float32' },
            { name: 'd/bias', shape: [2], dtype: 'float32' },
          ],
        },
      ],
    }
    // W = [[1, -2], [0.5, 3]], b = [0.25, -1]
    const model = await loadTfjsModel(await write(json, { 'w.bin': f32([1, -2, 0.5, 3, 0.25, -1]) }))
    const x = [2, 1, -1, 4]
    const y = applyModel(model, tensor(x, [2, 2])).y
    const want = [0, 1].flatMap((n) => {
      const [a, b] = [x[2 * n]!, x[2 * n + 1]!]
      return [Math.max(0, a * 1 + b * 0.5 + 0.25), Math.max(0, a * -2 + b * 3 - 1)]
    })
    expect([...y.data]).toEqual(want) // [2.75, 0, 1.25, 13]
    expect(model.layer.name).toBe('tiny')
  })

  it('freezes the layers whose Keras config says trainable: false', async () => {
    const dir = await writeMain((json) => {
      layersOf(json)[2].config.trainable = false
      layersOf(json)[3].config.trainable = false
    })
    const model = await loadTfjsModel(dir)
    expect(model.trainable).toEqual({
      flatten: {},
      batch_normalization: { gamma: false, beta: false },
      dense: { kernel: false, bias: false },
      dropout: {},
      dense_1: { kernel: true, bias: true },
    })
    expect(countParams(model)).toEqual({ total: 39, trainable: 8, nonTrainable: 31 })
    // a frozen batch normalization runs in inference mode even while training, as in Keras
    const x = tensor(
      Array.from({ length: 8 }, (_, i) => i / 3),
      [2, 2, 2],
    )
    const training = applyModel(model, x, { training: true, dropout: false })
    expect([...training.y.data]).toEqual([...applyModel(model, x).y.data])
    expect(training.state.batch_normalization.movingMean).toBe(model.state.batch_normalization.movingMean)
  })

  it('freezes everything when the Sequential itself says trainable: false', async () => {
    const model = await loadTfjsModel(
      await writeMain((json) => (json.modelTopology.model_config.config.trainable = false)),
    )
    expect(countParams(model).trainable).toBe(0)
  })
})

describe('loadTfjsModel: topology forms and input shapes', () => {
  const topLevel = (layers: Json[]): Json => {
    const json = mainJson()
    json.modelTopology = {
      class_name: 'Sequential',
      config: { name: 'sequential', layers },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    }
    return json
  }

  it('reads the form TF.js model.save writes (class_name at the top of modelTopology) the same way', async () => {
    const a = await loadTfjsModel(await writeMain())
    const b = await loadTfjsModel(await write(topLevel(layersJson()), mainShards()))
    expect(b.layer.config).toEqual(a.layer.config)
    expect(getWeights(b).map(bits)).toEqual(getWeights(a).map(bits))
  })

  it('reads the very old form whose config is a bare list of layers', async () => {
    const json = mainJson()
    json.modelTopology.model_config.config = layersJson()
    const model = await loadTfjsModel(await write(json, mainShards()))
    expect(model.layer.names).toEqual(['flatten', 'batch_normalization', 'dense', 'dropout', 'dense_1'])
    expect(model.layer.name).toBe('sequential')
  })

  it('takes the input shape from the first layer when there is no InputLayer', async () => {
    const model = await loadTfjsModel(await write(topLevel(layersJson().slice(1)), mainShards()))
    expect(model.inputShape).toEqual([2, 2])
    expect(model.layer.config.inputShape).toEqual([2, 2])
  })

  it('takes it from the Keras 3 batch_shape of the InputLayer', async () => {
    const layers = layersJson()
    layers[0].config = { batch_shape: [null, 2, 2], dtype: 'float32', sparse: false, name: 'input_layer' }
    delete layers[1].config.batch_input_shape
    expect((await loadTfjsModel(await write(topLevel(layers), mainShards()))).inputShape).toEqual([2, 2])
  })

  it('takes it from the option when model.json has none, and checks it against model.json otherwise', async () => {
    const layers = layersJson().slice(1)
    delete layers[0].config.batch_input_shape
    const dir = await write(topLevel(layers), mainShards())
    await expect(loadTfjsModel(dir)).rejects.toThrow(
      'model.json: modelTopology: the first layer declares no input shape (no batch_input_shape); pass { inputShape } to loadTfjsModel',
    )
    expect((await loadTfjsModel(dir, { inputShape: [4] })).inputShape).toEqual([4])
    const main = await writeMain()
    expect((await loadTfjsModel(main, { inputShape: [2, 2] })).inputShape).toEqual([2, 2])
    await expect(loadTfjsModel(main, { inputShape: [4] })).rejects.toThrow(
      'model.json: modelTopology.model_config.config.layers[0].config.batch_input_shape: [null,2,2] does not fit the option inputShape [4]',
    )
  })

  it('needs the option for an unknown dimension', async () => {
    const dir = await writeMain((json) => (layersOf(json)[0].config.batch_input_shape = [null, null, 2]))
    await expect(loadTfjsModel(dir)).rejects.toThrow(
      'model.json: modelTopology.model_config.config.layers[0].config.batch_input_shape: [null,null,2] leaves a dimension unknown; pass { inputShape } to loadTfjsModel',
    )
    expect((await loadTfjsModel(dir, { inputShape: [2, 2] })).inputShape).toEqual([2, 2])
  })

  it('accepts the path of model.json itself, and weights named as Keras 3 names them, in any order', async () => {
    const json = mainJson()
    const order = [7, 3, 0, 5, 1, 6, 2, 4]
    const byIndex = manifestWeights().map((w) => ({ ...w, name: `sequential/${w.name}:0` }))
    json.weightsManifest = [{ paths: ['a.bin'], weights: order.map((i) => byIndex[i]) }]
    const all = allBytes()
    const slices = manifestWeights().map((w, i) => {
      const start = manifestWeights()
        .slice(0, i)
        .reduce((s, v) => s + 4 * v.shape.reduce((p, d) => p * d, 1), 0)
      return all.subarray(start, start + 4 * w.shape.reduce((p, d) => p * d, 1))
    })
    const dir = await write(json, { 'a.bin': concat(order.map((i) => slices[i]!)) })
    const model = await loadTfjsModel(join(dir, 'model.json'))
    const reference = await loadTfjsModel(await writeMain())
    expect(getWeights(model).map(bits)).toEqual(getWeights(reference).map(bits))
  })

  it('reads weights spread over several groups, and skips optimizer weights', async () => {
    const json = mainJson()
    const w = manifestWeights()
    json.weightsManifest = [
      { paths: ['group1-shard1of1.bin'], weights: w.slice(0, 4) },
      {
        paths: ['group2-shard1of1.bin'],
        weights: [
          ...w.slice(4),
          { name: 'iter', shape: [], dtype: 'int32', group: 'optimizer' },
          { name: 'Adam/dense/kernel/m', shape: [4, 3], dtype: 'float32', group: 'optimizer' },
        ],
      },
    ]
    const all = allBytes()
    const dir = await write(json, {
      'group1-shard1of1.bin': all.subarray(0, 64),
      'group2-shard1of1.bin': concat([all.subarray(64), new Uint8Array(4 + 48)]),
    })
    const model = await loadTfjsModel(dir)
    const reference = await loadTfjsModel(await writeMain())
    expect(getWeights(model).map(bits)).toEqual(getWeights(reference).map(bits))
  })

  it('maps LeakyReLU (alpha or negative_slope), Activation, and the parameterized initializers', async () => {
    const json = {
      modelTopology: {
        class_name: 'Sequential',
        config: {
          name: 's',
          layers: [
            {
              class_name: 'Dense',
              config: {
                name: 'a',
                units: 2,
                use_bias: false,
                batch_input_shape: [null, 3],
                kernel_initializer: {
                  class_name: 'VarianceScaling',
                  config: { scale: 2, mode: 'fan_avg', distribution: 'uniform', seed: null },
                },
                kernel_regularizer: { class_name: 'L1L2', config: { l1: 0.5, l2: 0 } },
              },
            },
            { class_name: 'LeakyReLU', config: { name: 'l', alpha: 0.1 } },
            { class_name: 'LeakyReLU', config: { name: 'l3', negative_slope: 0.25 } },
            { class_name: 'Activation', config: { name: 'act', activation: 'leaky_relu' } },
            {
              class_name: 'Dense',
              config: {
                name: 'b',
                units: 1,
                activation: 'silu',
                kernel_initializer: { class_name: 'RandomNormal', config: { mean: 0, stddev: 0.5, seed: 3 } },
                bias_initializer: { class_name: 'Constant', config: { value: 0.5 } },
              },
            },
          ],
        },
      },
      weightsManifest: [
        {
          paths: ['w.bin'],
          weights: [
            { name: 'a/kernel', shape: [3, 2], dtype: 'float32' },
            { name: 'b/kernel', shape: [2, 1], dtype: 'float32' },
            { name: 'b/bias', shape: [1], dtype: 'float32' },
          ],
        },
      ],
    }
    const model = await loadTfjsModel(await write(json, { 'w.bin': f32([1, 2, 3, 4, 5, 6, 7, 8, 9]) }))
    const seq = model.layer
    expect(seq.layers.map((l) => l.config)).toEqual([
      {
        units: 2,
        activation: 'linear',
        useBias: false,
        kernelInitializer: { name: 'varianceScaling', scale: 2, mode: 'fanAvg', distribution: 'uniform' },
        biasInitializer: 'zeros',
        kernelRegularizer: { name: 'l1l2', l1: 0.5, l2: 0 },
        biasRegularizer: null,
        name: 'a',
      },
      { alpha: 0.1, name: 'l' },
      { alpha: 0.25, name: 'l3' },
      { activation: { name: 'leakyRelu', alpha: 0.2 }, name: 'act' },
      {
        units: 1,
        activation: 'swish',
        useBias: true,
        kernelInitializer: { name: 'randomNormal', mean: 0, stddev: 0.5 },
        biasInitializer: { name: 'constant', value: 0.5 },
        kernelRegularizer: null,
        biasRegularizer: null,
        name: 'b',
      },
    ])
    // cloneModel draws fresh weights from the kept initializers
    const clone = cloneModel(model, { key: key(3) })
    expect(clone.params.b.bias.data[0]).toBe(0.5)
  })
})

describe('loadTfjsModel: a purenn model written in the TF.js format loads back', () => {
  it('bitwise, with its architecture, its frozen layers and its outputs', async () => {
    const arch = sequential(
      [
        flatten(),
        batchNormalization({ momentum: 0.9 }),
        dense({ units: 5, activation: 'relu', kernelInitializer: 'heNormal', kernelRegularizer: l2(0.001) }),
        batchNormalization({ center: false, epsilon: 0.01 }),
        activation('elu'),
        leakyRelu({ alpha: 0.2 }),
        dropout({ rate: 0.3 }),
        dense({
          units: 3,
          activation: 'softmax',
          useBias: false,
          kernelInitializer: initializers.varianceScaling({
            scale: 2,
            mode: 'fanAvg',
            distribution: 'uniform',
          }),
          kernelRegularizer: l1l2({ l1: 0.001, l2: 0.002 }),
        }),
      ],
      { inputShape: [3, 4], name: 'my_model' },
    )
    const fresh = initModel(arch, { key: key(5) })
    // weights away from their initial values: any float32 bits, a −0 and a subnormal among them
    const values = getWeights(fresh).map((w, i) =>
      tensor(
        Float32Array.from({ length: w.size }, (_, j) =>
          j === 0 ? -0 : j === 1 ? 3e-42 : Math.sin(7.1 * i + 1.3 * j) * 10 ** ((j % 5) - 2),
        ),
        w.shape,
      ),
    )
    const model = freeze(setWeights(fresh, values), ['dense'])
    const dir = await saveTfjs(model, 100) // 100-byte shards split values across files
    expect((await fs.readdir(dir)).length).toBeGreaterThan(3)
    const loaded = await loadTfjsModel(dir)
    expect(getWeights(loaded).map(bits)).toEqual(getWeights(model).map(bits))
    expect(weightNames(loaded)).toEqual(weightNames(model))
    expect(loaded.trainable).toEqual(model.trainable)
    expect(loaded.inputShape).toEqual([3, 4])
    const seq = loaded.layer
    expect(seq.name).toBe('my_model')
    expect(seq.names).toEqual(model.layer.names)
    // the same configs, but for the names, now explicit
    expect(seq.layers.map(({ kind, config: { name: _, ...config } }) => ({ kind, config }))).toEqual(
      model.layer.layers.map(({ kind, config }) => ({ kind, config })),
    )
    const x = tensor(
      Array.from({ length: 2 * 12 }, (_, i) => Math.cos(i)),
      [2, 3, 4],
    )
    expect([...applyModel(loaded, x).y.data]).toEqual([...applyModel(model, x).y.data])
    expect(countParams(loaded)).toEqual(countParams(model))
  })
})

describe('loadTfjsModel: errors name the file and the field', () => {
  const rejects = async (dir: string, message: string | RegExp) =>
    expect(loadTfjsModel(dir)).rejects.toThrow(message)

  it('a missing or unparsable model.json', async () => {
    await rejects(join(root, 'nowhere'), /^model\.json: not found in .*nowhere$/)
    const dir = await write({}, {})
    await fs.writeFile(join(dir, 'model.json'), '{"modelTopology": ')
    await rejects(dir, /^model\.json: not valid JSON$/)
  })

  it('a field of the wrong type, with its path', async () => {
    await rejects(
      await writeMain((json) => (layersOf(json)[3].config.units = '3')),
      'model.json: modelTopology.model_config.config.layers[3].config.units: expected a positive integer, got "3"',
    )
    await rejects(
      await writeMain((json) => (json.weightsManifest[0].weights[1].shape = [4, -1])),
      'model.json: weightsManifest[0].weights[1].shape: expected an array of non-negative integers, got [4,-1]',
    )
    await rejects(
      await writeMain((json) => (json.weightsManifest[0].paths = 'group1-shard1of2.bin')),
      'model.json: weightsManifest[0].paths: expected an array of file names, got "group1-shard1of2.bin"',
    )
    await rejects(
      await writeMain((json) => delete json.weightsManifest),
      'model.json: weightsManifest: missing, expected an array of weight groups',
    )
    await rejects(
      await writeMain((json) => (layersOf(json)[2].config.momentum = 'high')),
      'model.json: modelTopology.model_config.config.layers[2].config.momentum: expected a finite number, got "high"',
    )
    await rejects(
      await writeMain((json) => (layersOf(json)[2].config.momentum = 2)),
      'model.json: modelTopology.model_config.config.layers[2].config: batchNormalization: momentum must be in [0, 1], got 2',
    )
    await rejects(
      await writeMain((json) => (layersOf(json)[3].config.kernel_regularizer.config.l2 = '0.01')),
      'model.json: modelTopology.model_config.config.layers[3].config.kernel_regularizer.config.l2: expected a finite number, got "0.01"',
    )
  })

  it('a format other than layers-model, a model that is not Sequential', async () => {
    await rejects(
      await writeMain((json) => (json.format = 'graph-model')),
      'model.json: format: expected "layers-model" (TF.js graph models are not supported), got "graph-model"',
    )
    await rejects(
      await writeMain((json) => (json.modelTopology.model_config.class_name = 'MyModel')),
      'model.json: modelTopology.model_config.class_name: "MyModel" models are not supported; purenn reads Sequential and functional (Model, Functional) models',
    )
    // a Sequential's config read as a functional one: its graph fields are missing
    await rejects(
      await writeMain((json) => (json.modelTopology.model_config.class_name = 'Functional')),
      'model.json: modelTopology.model_config.config.input_layers: missing, expected an array of inputs',
    )
  })

  it('a layer class purenn does not have', async () => {
    await rejects(
      await writeMain((json) =>
        layersOf(json).splice(3, 0, { class_name: 'LSTM', config: { name: 'lstm' } }),
      ),
      'model.json: modelTopology: layer 3 ("lstm") has class "LSTM", which purenn does not have; supported: Dense, BatchNormalization, Dropout, Activation, LeakyReLU, Flatten, ELU, Reshape, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, PReLU, AlphaDropout, GaussianDropout, GaussianNoise, Normalization, Add, Concatenate, InputLayer',
    )
    await rejects(
      await writeMain((json) => layersOf(json).push(layersOf(json)[0])),
      'model.json: modelTopology.model_config.config.layers[6]: an InputLayer can only be the first layer',
    )
  })

  it('a field purenn cannot honour: activation, initializer, constraint, noise shape, channels first', async () => {
    await rejects(
      await writeMain((json) => (layersOf(json)[3].config.activation = 'softsign')),
      'model.json: modelTopology.model_config.config.layers[3].config.activation: "softsign" is not an activation purenn has; supported: linear, relu, leaky_relu, elu, selu, gelu, gelu_new (tanh approximation), swish (silu), sigmoid, tanh, softmax, softplus, relu6, mish, hard_silu (hard_swish)',
    )
    await rejects(
      await writeMain(
        (json) => (layersOf(json)[3].config.kernel_initializer = { class_name: 'Orthogonal', config: {} }),
      ),
      /^model\.json: modelTopology\.model_config\.config\.layers\[3\]\.config\.kernel_initializer\.class_name: "Orthogonal" is not an initializer purenn has; supported: GlorotUniform, /,
    )
    await rejects(
      await writeMain(
        (json) =>
          (layersOf(json)[3].config.kernel_constraint = { class_name: 'RadialConstraint', config: {} }),
      ),
      'model.json: modelTopology.model_config.config.layers[3].config.kernel_constraint.class_name: "RadialConstraint" is not a constraint purenn has; supported: MaxNorm, NonNeg, UnitNorm, MinMaxNorm',
    )
    await rejects(
      await writeMain((json) => (layersOf(json)[4].config.noise_shape = [null, 1])),
      'model.json: modelTopology.model_config.config.layers[4].config.noise_shape: a noise shape is not supported by purenn, got [null,1]',
    )
    await rejects(
      await writeMain((json) => (layersOf(json)[2].config.renorm = true)),
      'model.json: modelTopology.model_config.config.layers[2].config.renorm: batch renormalization is not supported by purenn, got true',
    )
    await rejects(
      await writeMain((json) => (layersOf(json)[1].config.data_format = 'channels_first')),
      /^model\.json: modelTopology\.model_config\.config\.layers\[1\]\.config\.data_format: "channels_first"/,
    )
  })

  it('a weight of the wrong shape', async () => {
    await rejects(
      await writeMain((json) => (json.weightsManifest[0].weights[4].shape = [3, 4])),
      'model.json: weightsManifest[0].weights[4] (dense/kernel): expected shape [4,3], got [3,4]',
    )
  })

  it('a weight missing, unknown or listed twice', async () => {
    await rejects(
      await writeMain((json) => (json.weightsManifest[0].weights[7].name = 'dense_1/bias_')),
      'model.json: weightsManifest[0].weights[7] (dense_1/bias_): matches no weight of the model: layer "dense_1" (Dense) has no weight "bias_"; its weights are kernel, bias',
    )
    await rejects(
      await writeMain((json) => (json.weightsManifest[0].weights[7].name = 'dense_2/bias')),
      'model.json: weightsManifest[0].weights[7] (dense_2/bias): matches no weight of the model: modelTopology has no layer "dense_2" (its layers: flatten, batch_normalization, dense, dropout, dense_1)',
    )
    await rejects(
      await writeMain((json) => (json.weightsManifest[0].weights[7].name = 'dense_1/kernel')),
      'model.json: weightsManifest[0].weights[7] (dense_1/kernel): the same weight as weightsManifest[0].weights[6] (dense_1/kernel)',
    )
    const json = mainJson()
    json.weightsManifest[0].weights.pop()
    const bytes = allBytes()
    await rejects(
      await write(json, {
        'group1-shard1of2.bin': bytes.subarray(0, 10),
        'group1-shard2of2.bin': bytes.subarray(10, -8),
      }),
      'model.json: weightsManifest: no entry for the weight dense_1/bias [2] of the model',
    )
  })

  it('a weight that is not float32, or quantized in a way TF.js does not write', async () => {
    await rejects(
      await writeMain((json) => (json.weightsManifest[0].weights[5].dtype = 'float16')),
      'model.json: weightsManifest[0].weights[5] (dense/bias): dtype "float16" is not supported; purenn reads float32 weights only',
    )
    await rejects(
      await writeMain(
        (json) => (json.weightsManifest[0].weights[4].quantization = { dtype: 'int4', scale: 0.1, min: -1 }),
      ),
      'model.json: weightsManifest[0].weights[4] (dense/kernel).quantization.dtype: expected "uint8", "uint16" or "float16", got "int4"',
    )
    await rejects(
      await writeMain(
        (json) => (json.weightsManifest[0].weights[4].quantization = { dtype: 'uint8', min: -1 }),
      ),
      'model.json: weightsManifest[0].weights[4] (dense/kernel).quantization.scale: missing, expected a finite number',
    )
  })

  it('a shard missing, short or long', async () => {
    const shards = mainShards()
    await rejects(
      await write(mainJson(), { 'group1-shard1of2.bin': shards['group1-shard1of2.bin'] }),
      'group1-shard2of2.bin: not found in the model folder',
    )
    await rejects(
      await writeMain(undefined, {
        ...shards,
        'group1-shard2of2.bin': shards['group1-shard2of2.bin'].subarray(4),
      }),
      'group1-shard1of2.bin + group1-shard2of2.bin: expected 156 bytes for weightsManifest[0], found 152 in total',
    )
    const json = mainJson()
    json.weightsManifest[0].paths = ['group1-shard1of1.bin']
    await rejects(
      await write(json, { 'group1-shard1of1.bin': allBytes().subarray(0, 100) }),
      'group1-shard1of1.bin: expected 156 bytes for weightsManifest[0], found 100',
    )
    await rejects(
      await write(json, { 'group1-shard1of1.bin': concat([allBytes(), new Uint8Array(4)]) }),
      'group1-shard1of1.bin: expected 156 bytes for weightsManifest[0], found 160',
    )
  })

  it('an architecture that cannot take the declared input', async () => {
    await rejects(
      await writeMain((json) => (layersOf(json)[2].config.axis = [5])),
      /^model\.json: modelTopology: cannot be built for input shape \[2,2\]: batchNormalization: axis 5 is out of range/,
    )
  })
})
