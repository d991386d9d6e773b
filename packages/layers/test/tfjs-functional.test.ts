// Functional models written by real TF.js (@tensorflow/tfjs 4.22, CPU backend): built, given
// weights, saved through a save handler exactly as TF.js' file:// handler lays them out
// (model.json + one weights file), run by TF.js, then loaded by purenn and run again.
import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tensor } from '@purenn/tensor'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyModel, freeze, getWeights, loadTfjsModel, summary, weightNames } from '../src/index.js'

let root = ''
beforeAll(async () => {
  await tf.setBackend('cpu')
  root = await fs.mkdtemp(join(tmpdir(), 'purenn-tfjs-functional-'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

/** Saves a TF.js model as `tf.io` file handlers do: model.json and weights.bin. */
const saveTfjs = async (model: tf.LayersModel, dir: string): Promise<void> => {
  await fs.mkdir(dir, { recursive: true })
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData as ArrayBuffer
      await fs.writeFile(join(dir, 'weights.bin'), new Uint8Array(weightData))
      const modelJson = {
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      }
      await fs.writeFile(join(dir, 'model.json'), JSON.stringify(modelJson))
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    }),
  )
}

/** Deterministic, non-trivial weights: sin of the running index, scaled. */
const fillWeights = (model: tf.LayersModel): void => {
  let k = 0
  model.setWeights(
    model.weights.map((w) => {
      const shape = w.shape.map((d) => d ?? 1)
      const size = shape.reduce((p, d) => p * d, 1)
      const values = Float32Array.from({ length: size }, () => 0.5 * Math.sin(++k * 0.37))
      // moving variances must stay positive
      return tf.tensor(/variance/.test(w.name) ? values.map(Math.abs) : values, shape)
    }),
  )
}

const input = Float32Array.from({ length: 5 * 6 }, (_, i) => Math.cos(i * 0.9))

describe('loadTfjsModel: functional models written by TF.js', () => {
  it('a two-block residual network with a concatenation: same outputs as TF.js (within 1e-5)', async () => {
    const x = tf.input({ shape: [6], name: 'x' })
    const stem = tf.layers.dense({ units: 8, activation: 'relu', name: 'stem' }).apply(x) as tf.SymbolicTensor
    const block = (inp: tf.SymbolicTensor, n: number): tf.SymbolicTensor => {
      const h = tf.layers.dense({ units: 8, name: `block${n}_dense` }).apply(inp) as tf.SymbolicTensor
      const b = tf.layers.batchNormalization({ name: `block${n}_bn` }).apply(h) as tf.SymbolicTensor
      const r = tf.layers
        .activation({ activation: 'relu', name: `block${n}_relu` })
        .apply(b) as tf.SymbolicTensor
      return tf.layers.add({ name: `block${n}_add` }).apply([inp, r]) as tf.SymbolicTensor
    }
    const b2 = block(block(stem, 1), 2)
    const wide = tf.layers.concatenate({ name: 'wide' }).apply([b2, stem]) as tf.SymbolicTensor
    const out = tf.layers
      .dense({ units: 3, activation: 'softmax', name: 'head' })
      .apply(wide) as tf.SymbolicTensor
    const model = tf.model({ inputs: x, outputs: out, name: 'resnet' })
    fillWeights(model)
    model.getLayer('block1_dense').trainable = false
    const dir = join(root, 'resnet')
    await saveTfjs(model, dir)
    const want = (model.predict(tf.tensor(input, [5, 6])) as tf.Tensor).dataSync()

    const loaded = await loadTfjsModel(dir)
    const got = applyModel(loaded, tensor(input, [5, 6])).y
    expect(got.shape).toEqual([5, 3])
    for (const [i, v] of [...got.data].entries()) expect(Math.abs(v - want[i]!)).toBeLessThan(1e-5)
    // every Keras weight, by its Keras layer name, bitwise as TF.js holds it
    const tfWeights = new Map(
      model.weights.map((w) => [w.originalName.replace(/^resnet\//, ''), w.read().dataSync()]),
    )
    const names = weightNames(loaded)
    const keras = (n: string) => {
      const parts = n.split('.')
      const w = parts.at(-1)!.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
      return `${parts.at(-2)}/${w}`
    }
    expect(names.map(keras).sort()).toEqual([...tfWeights.keys()].sort())
    for (const [i, w] of getWeights(loaded).entries())
      expect([...w.data]).toEqual([...tfWeights.get(keras(names[i]!))!])
    // the frozen Keras layer is frozen in the mask, the others are not
    expect(freeze(loaded, (p) => p.includes('block1_dense')).trainable).toEqual(loaded.trainable)
    expect(JSON.stringify(loaded.trainable)).toContain('"block1_dense":{"kernel":false,"bias":false}')
    expect(JSON.stringify(loaded.trainable)).toContain('"block2_dense":{"kernel":true,"bias":true}')
    expect(summary(loaded)).toContain('block1_add (Add)')
  })

  it('refuses what the combinators cannot express, naming the layer', async () => {
    const x = tf.input({ shape: [4], name: 'x' })
    const a = tf.layers.dense({ units: 4, name: 'a' }).apply(x) as tf.SymbolicTensor
    const b = tf.layers.dense({ units: 4, name: 'b' }).apply(x) as tf.SymbolicTensor
    const m = tf.layers.multiply({ name: 'gate' }).apply([a, b]) as tf.SymbolicTensor
    const dir = join(root, 'multiply')
    await saveTfjs(tf.model({ inputs: x, outputs: m }), dir)
    await expect(loadTfjsModel(dir)).rejects.toThrow(
      /layer \d+ \("gate"\) has class "Multiply", which purenn does not have/,
    )

    const shared = tf.layers.dense({ units: 4, name: 'shared' })
    const twice = shared.apply(shared.apply(x)) as tf.SymbolicTensor
    const dir2 = join(root, 'shared')
    await saveTfjs(tf.model({ inputs: x, outputs: twice }), dir2)
    await expect(loadTfjsModel(dir2)).rejects.toThrow(
      /output_layers\[0\]: reads node 1, tensor 0 of layer "shared": purenn reads functional models whose layers are called once/,
    )

    // a branch read again after its merge: c = a + b, d = c + a
    const c = tf.layers.add({ name: 'c' }).apply([a, b]) as tf.SymbolicTensor
    const d = tf.layers.add({ name: 'd' }).apply([c, a]) as tf.SymbolicTensor
    const dir3 = join(root, 'crossed')
    await saveTfjs(tf.model({ inputs: x, outputs: d }), dir3)
    await expect(loadTfjsModel(dir3)).rejects.toThrow(
      /the output of layer "a" is used by more than one branch/,
    )
  })
})
