// Optimizer weights in the TF.js Layers format, checked with TF.js 4.22 itself (cpu backend):
// TF.js's model.save(handler, { includeOptimizer: true }) -> loadTfjsModelWithOptimizer ->
// restoreAdamState, and saveTfjsModel(model, dir, { optimizer }) -> tf.loadLayersModel, whose
// Adam then holds the same variables. "One more step" on both sides checks the state means the
// same thing. TF.js adds ε to √v̂ where Keras and purenn add it to √v (ε̂ = ε·√(1 − β2^t) in
// TF.js's form): with ε = 1e-7 the two steps differ by up to 2.1e-6 here (gradients ~1e-3), so
// both sides use ε = 1e-12, and what is left is float32 rounding: bound 1e-6 (measured ≤ 1e-7).
import { mkdtempSync, readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  applyModel,
  dense,
  initModel,
  loadTfjsModelWithOptimizer,
  type Model,
  saveTfjsModel,
  sequential,
} from '@purenn/layers'
import { adam, adamWeights, applyUpdates, restoreAdamState } from '@purenn/optim'
import { grad, key, mean, square, sub, type Tensor, type Tree, tensor, tree } from '@purenn/tensor'
import { maxAbsDiff } from '@purenn/testing'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const x = tensor(
  Float32Array.from({ length: 8 * 4 }, (_, i) => Math.sin(i * 1.3)),
  [8, 4],
)
const y = tensor(
  Float32Array.from({ length: 8 * 2 }, (_, i) => Math.cos(i * 0.7)),
  [8, 2],
)
const tfOf = (t: Tensor) => tf.tensor(Float32Array.from(t.data), [...t.shape])

/** One Adam step of purenn on the mean squared error of (x, y), as TF.js's fit on one batch. */
const purennStep = (
  model: Model,
  tx: ReturnType<typeof adam>,
  state: ReturnType<ReturnType<typeof adam>['init']>,
) => {
  const g = grad((p: Tree) => mean(square(sub(applyModel({ ...model, params: p as Tree }, x).y, y))))(
    model.params as Tree,
  )
  const r = tx.update(g as Tree, state, model.params as Tree)
  return { model: { ...model, params: applyUpdates(model.params as Tree, r.updates) }, state: r.state }
}

const tfModel = () =>
  tf.sequential({
    layers: [
      // seeded: TF.js's default initializers draw from an unseeded generator, and the test's
      // "a fresh state lands elsewhere" margin depends on the starting weights
      tf.layers.dense({
        units: 3,
        inputShape: [4],
        activation: 'tanh',
        name: 'dense',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.dense({
        units: 2,
        name: 'dense_1',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  })

/** What TF.js's model.save hands its IOHandler. */
const artifactsOf = async (m: tf.LayersModel): Promise<tf.io.ModelArtifacts> => {
  let got: tf.io.ModelArtifacts | undefined
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      got = a
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    }),
    { includeOptimizer: true },
  )
  return got!
}

/** The files TF.js's file:// handler writes for these artifacts (model.json + weights.bin). */
const writeFiles = async (a: tf.io.ModelArtifacts, dir: string) => {
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer))
  const json = {
    modelTopology: a.modelTopology,
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy,
    trainingConfig: a.trainingConfig,
    weightsManifest: [{ paths: ['./weights.bin'], weights: a.weightSpecs }],
  }
  await writeFile(join(dir, 'model.json'), JSON.stringify(json))
}

/** A TF.js IOHandler reading what saveTfjsModel wrote. */
const readFiles = (dir: string): tf.io.IOHandler => ({
  load: async () => {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'))
    const group = json.weightsManifest[0]
    const bin = readFileSync(join(dir, group.paths[0]))
    return {
      modelTopology: json.modelTopology,
      trainingConfig: json.trainingConfig,
      weightSpecs: group.weights,
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }
  },
})

describe('TF.js optimizer weights -> purenn', () => {
  it("Adam's m, v and iter after 2 steps equal TF.js's; one more step matches TF.js within 1e-6", async () => {
    const m = tfModel()
    m.compile({ optimizer: tf.train.adam(0.01, 0.9, 0.999, 1e-12), loss: 'meanSquaredError' })
    await m.fit(tfOf(x), tfOf(y), { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 })
    const a = await artifactsOf(m)
    // TF.js's own names: iter, then every <weight>/m, then every <weight>/v
    const optNames = (a.weightSpecs ?? []).filter((w) => w.group === 'optimizer').map((w) => w.name)
    expect(optNames).toEqual([
      'iter',
      ...['m', 'v'].flatMap((s) =>
        ['dense/kernel', 'dense/bias', 'dense_1/kernel', 'dense_1/bias'].map((n) => `${n}/${s}`),
      ),
    ])
    const dir = join(mkdtempSync(join(tmpdir(), 'opt-tfjs-')), 'model')
    await writeFiles(a, dir)
    const { model, optimizer } = await loadTfjsModelWithOptimizer(dir)
    expect(optimizer?.className).toBe('Adam')
    expect(optimizer?.iterations).toBe(2)
    const tfWeights = await m.optimizer.getWeights()
    for (const w of tfWeights.slice(1)) {
      const [layer, weight, slot] = w.name.split('/') as [string, string, string]
      const ours = (
        optimizer!.slots[slot === 'm' ? 'momentum' : 'velocity'] as Record<string, Record<string, Tensor>>
      )[layer]![weight]!
      expect(Array.from(ours.data)).toEqual(Array.from(w.tensor.dataSync())) // bitwise
    }
    const tx = adam({ learningRate: 0.01, epsilon: 1e-12 })
    const state = restoreAdamState(tx.init(model.params as Tree), optimizer!)
    const next = purennStep(model, tx, state)
    await m.fit(tfOf(x), tfOf(y), { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 })
    const tfKernel = m.getWeights()[0]!.dataSync()
    const diff = maxAbsDiff((next.model.params as { dense: { kernel: Tensor } }).dense.kernel.data, tfKernel)
    console.log(`TF.js -> purenn, one more Adam step: max |Δw| ${diff}`)
    expect(diff).toBeLessThanOrEqual(1e-6)
    // and the step did move: a fresh Adam state would land elsewhere
    const fresh = purennStep(model, tx, tx.init(model.params as Tree))
    const freshDiff = maxAbsDiff(
      (fresh.model.params as { dense: { kernel: Tensor } }).dense.kernel.data,
      tfKernel,
    )
    console.log(`a fresh Adam state instead: max |Δw| ${freshDiff}`)
    expect(freshDiff).toBeGreaterThan(1e-4)
  })
})

describe('purenn optimizer weights -> TF.js (tf.loadLayersModel)', () => {
  it("TF.js's Adam gets purenn's m, v and iter under TF.js's names; one more step agrees within 1e-6", async () => {
    const arch = sequential([dense({ units: 3, activation: 'tanh' }), dense({ units: 2 })], {
      inputShape: [4],
    })
    let model: Model = initModel(arch, { key: key(5) })
    const tx = adam({ learningRate: 0.01, epsilon: 1e-12 })
    let state = tx.init(model.params as Tree)
    for (let i = 0; i < 3; i++) ({ model, state } = purennStep(model, tx, state))
    const dir = join(mkdtempSync(join(tmpdir(), 'opt-purenn-')), 'model')
    await saveTfjsModel(model, dir, {
      optimizer: adamWeights(state, { learning_rate: 0.01, epsilon: 1e-12 }),
      loss: 'mean_squared_error',
    })
    const written = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'))
    expect(
      written.weightsManifest[0].weights.filter((w: { group?: string }) => w.group === 'optimizer')[0],
    ).toEqual({
      name: 'iter',
      shape: [],
      dtype: 'int32',
      group: 'optimizer',
    })
    const m = await tf.loadLayersModel(readFiles(dir))
    const tfWeights = await m.optimizer.getWeights()
    expect(tfWeights.map((w) => w.name)).toEqual([
      'iter',
      ...['m', 'v'].flatMap((s) =>
        ['dense/kernel', 'dense/bias', 'dense_1/kernel', 'dense_1/bias'].map((n) => `${n}/${s}`),
      ),
    ])
    expect(tfWeights[0]!.tensor.dataSync()[0]).toBe(3)
    const slots = adamWeights(state).slots
    for (const w of tfWeights.slice(1)) {
      const [layer, weight, slot] = w.name.split('/') as [string, string, string]
      const ours = (slots[slot === 'm' ? 'momentum' : 'velocity'] as Record<string, Record<string, Tensor>>)[
        layer
      ]![weight]!
      expect(Array.from(w.tensor.dataSync())).toEqual(Array.from(ours.data))
    }
    const next = purennStep(model, tx, state)
    await m.fit(tfOf(x), tfOf(y), { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 })
    const diff = maxAbsDiff(
      tree.leaves(next.model.params as Tree).flatMap((t) => Array.from(t.data)),
      m.getWeights().flatMap((w) => Array.from(w.dataSync())),
    )
    console.log(`purenn -> TF.js, one more Adam step: max |Δw| ${diff}`)
    expect(diff).toBeLessThanOrEqual(1e-6)
  })
})
