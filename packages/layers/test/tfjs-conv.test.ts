import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { add, avgPool2d, conv2d, matmul, maxPool2d, relu, reshape, type Tensor } from '@purenn/tensor'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyModel, loadTfjsModel, summary } from '../src/index.js'
import { expectClose, t32 } from './helpers/fd64.js'
import { flat, fromNested, kerasFixture } from './helpers/window64.js'

// TF.js Layers directories of CNNs, model.json written by hand in the form TF.js' model.save
// writes (Keras 2 configs, snake_case), weights from the real-Keras fixture.

let root = ''
beforeAll(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'purenn-tfjs-conv-'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

let counter = 0
// biome-ignore lint/suspicious/noExplicitAny: model.json as plain data
type Json = any

const write = async (layers: Json[], weights: { name: string; value: Tensor }[]): Promise<string> => {
  const dir = join(root, `case-${counter++}`)
  await fs.mkdir(dir)
  const json = {
    format: 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
    modelTopology: { class_name: 'Sequential', config: { name: 'sequential_1', layers } },
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: weights.map((w) => ({ name: w.name, shape: w.value.shape, dtype: 'float32' })),
      },
    ],
  }
  await fs.writeFile(join(dir, 'model.json'), JSON.stringify(json))
  const all = new Float32Array(weights.flatMap((w) => Array.from(w.value.data)))
  const bytes = new Uint8Array(all.length * 4)
  const view = new DataView(bytes.buffer)
  all.forEach((v, i) => {
    view.setFloat32(4 * i, v, true)
  })
  await fs.writeFile(join(dir, 'weights.bin'), bytes)
  return dir
}

const glorot = {
  class_name: 'VarianceScaling',
  config: { scale: 1, mode: 'fan_avg', distribution: 'uniform', seed: null },
}
const conv = (name: string, extra: Json): Json => ({
  class_name: 'Conv2D',
  config: {
    name,
    trainable: true,
    dtype: 'float32',
    filters: 3,
    kernel_size: [3, 3],
    strides: [1, 1],
    padding: 'valid',
    data_format: 'channels_last',
    dilation_rate: [1, 1],
    activation: 'linear',
    use_bias: true,
    kernel_initializer: glorot,
    bias_initializer: { class_name: 'Zeros', config: {} },
    kernel_regularizer: null,
    bias_regularizer: null,
    activity_regularizer: null,
    kernel_constraint: null,
    bias_constraint: null,
    ...extra,
  },
})
const pool = (cls: string, name: string, extra: Json): Json => ({
  class_name: cls,
  config: {
    name,
    trainable: true,
    dtype: 'float32',
    pool_size: [2, 2],
    padding: 'valid',
    strides: [2, 2],
    data_format: 'channels_last',
    ...extra,
  },
})

const c = kerasFixture.conv_same_stride2_relu!
const kernel = fromNested(c.weights[0], c.weightShapes[0]!)
const bias = fromNested(c.weights[1], c.weightShapes[1]!)
const x = fromNested(c.x, c.xShape)

describe('loadTfjsModel: convolutional Sequential models', () => {
  it('a Conv2D (same, strides 2, relu) gives what Keras gave with the same weights', async () => {
    const dir = await write(
      [
        conv('conv2d_Conv2D1', {
          batch_input_shape: [null, 5, 5, 2],
          strides: [2, 2],
          padding: 'same',
          activation: 'relu',
        }),
      ],
      [
        { name: 'conv2d_Conv2D1/kernel', value: kernel },
        { name: 'conv2d_Conv2D1/bias', value: bias },
      ],
    )
    const model = await loadTfjsModel(dir)
    expect(model.inputShape).toEqual([5, 5, 2])
    const y = applyModel(model, x).y
    expect(y.shape).toEqual(c.yShape)
    expectClose('conv2d', y.data, flat(c.y), 1e-5)
  })

  it('Conv2D → MaxPooling2D → AveragePooling2D → Flatten → Dense: shapes, summary and output', async () => {
    const dense = t32(
      Array.from({ length: 3 * 2 }, (_, i) => (i - 3) / 8),
      [3, 2],
    )
    const dir = await write(
      [
        conv('conv2d', {
          batch_input_shape: [null, 5, 5, 2],
          strides: [2, 2],
          padding: 'same',
          activation: 'relu',
        }),
        pool('MaxPooling2D', 'max_pooling2d', { pool_size: [3, 3], strides: [1, 1], padding: 'same' }),
        pool('AveragePooling2D', 'average_pooling2d', { strides: null }),
        {
          class_name: 'Flatten',
          config: { name: 'flatten', trainable: true, dtype: 'float32', data_format: 'channels_last' },
        },
        { class_name: 'Dense', config: { name: 'dense', units: 2, activation: 'linear', use_bias: false } },
      ],
      [
        { name: 'conv2d/kernel', value: kernel },
        { name: 'conv2d/bias', value: bias },
        { name: 'dense/kernel', value: dense },
      ],
    )
    const model = await loadTfjsModel(dir)
    expect(model.layer.names).toEqual(['conv2d', 'max_pooling2d', 'average_pooling2d', 'flatten', 'dense'])
    const text = summary(model)
    expect(text).toContain('(None, 3, 3, 3)')
    expect(text).toContain('(None, 1, 1, 3)')
    // 3·3·2·3 + 3 for the conv, 3·2 for the dense
    expect(text).toContain('Total params: 63')
    // the same computation from the tensor ops, flattening in row-major (NHWC) order
    let h = relu(add(conv2d(x, kernel, { strides: 2, padding: 'same' }), bias))
    h = avgPool2d(maxPool2d(h, { poolSize: 3, strides: 1, padding: 'same' }))
    const want = matmul(reshape(h, [2, 3]), dense)
    expect(Array.from(applyModel(model, x).y.data)).toEqual(Array.from(want.data))
  })

  it('GlobalAveragePooling2D, and Keras defaults: pool_size 2, strides null', async () => {
    const dir = await write(
      [
        conv('conv2d', { batch_input_shape: [null, 5, 5, 2], kernel_size: 2 }),
        { class_name: 'MaxPooling2D', config: { name: 'max_pooling2d', strides: null } },
        { class_name: 'GlobalAveragePooling2D', config: { name: 'gap', data_format: 'channels_last' } },
      ],
      [
        { name: 'conv2d/kernel', value: t32(new Array(2 * 2 * 2 * 3).fill(0.125), [2, 2, 2, 3]) },
        { name: 'conv2d/bias', value: t32([0, 1, 2], [3]) },
      ],
    )
    const model = await loadTfjsModel(dir)
    expect(model.layer.layers[1]!.config).toEqual({
      poolSize: [2, 2],
      strides: [2, 2],
      padding: 'valid',
      name: 'max_pooling2d',
    })
    expect(applyModel(model, x).y.shape).toEqual([2, 3])
  })

  it('refuses what purenn cannot honour, naming the field', async () => {
    const rejects = async (extra: Json, message: string | RegExp) => {
      const dir = await write([conv('conv2d', { batch_input_shape: [null, 5, 5, 2], ...extra })], [])
      await expect(loadTfjsModel(dir)).rejects.toThrow(message)
    }
    await rejects(
      { data_format: 'channels_first' },
      'model.json: modelTopology.config.layers[0].config.data_format: "channels_first" is not supported by purenn, whose images are channels_last (NHWC)',
    )
    await rejects(
      { groups: 3 },
      'model.json: modelTopology.config.layers[0].config.groups: grouped convolutions are not supported by purenn, got 3',
    )
    await rejects(
      { padding: 'causal' },
      'model.json: modelTopology.config.layers[0].config.padding: expected "valid" or "same" (purenn has no other padding), got "causal"',
    )
    await rejects(
      { kernel_size: [3, 0] },
      /config\.kernel_size: expected a positive integer or a list of two, got \[3,0\]/,
    )
    await rejects(
      { strides: 2, dilation_rate: 2 },
      /config: conv2d: strides \[2,2\] and dilationRate \[2,2\] cannot both exceed 1/,
    )
  })
})
