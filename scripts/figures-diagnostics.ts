// The diagnostics figures of the guides, from real (small) runs, drawn by purenn's
// gradientNormsSvg and activationHistogramsSvg; scripts/figures.ts writes and checks them.
//
// The chapter's vanishing-gradients experiment at depth 100: 100 hidden dense layers of 32
// units on synthetic data (ten Gaussian classes in 32 dimensions, 256 rows), trained 2 epochs
// with SGD (learning rate 0.01, batch 32), diagnosed on a fixed probe of 64 rows at init and
// after each epoch:
//   gradient-norms-sigmoid-glorot.svg   sigmoid + Glorot uniform (Keras' default)
//   gradient-norms-relu-he.svg          ReLU + He normal, no batch norm
//   gradient-norms-relu-he-bn.svg       ReLU + He normal + batch norm after each layer
// (gradient norms of the 101 dense layers, at init and after each epoch)
//   activations-sigmoid-glorot.svg      outputs of the first hidden layers at init (histograms)
//   activations-relu-he-bn.svg          the same with He + ReLU + batch norm
import { type AnyLayer, batchNormalization, dense, initModel, sequential } from '@purenn/layers'
import { sgd } from '@purenn/optim'
import { key, normal, setKernels, split, tensor, uniform } from '@purenn/tensor'
import {
  activationHistogramsSvg,
  diagnose,
  diagnosticsOf,
  fit as fitModel,
  gradientNormsSvg,
  type LayerDiagnostics,
  recordDiagnostics,
} from '@purenn/train'

const depth = 100
const width = 32
const rows = 256

/** The synthetic problem: ten Gaussian classes (unit noise around random centres). */
const problem = () => {
  const [kc, kx, ky] = split(key(0), 3)
  const centres = normal(kc!, [10, width]).data
  const labels = Array.from(uniform(ky!, [rows]).data, (u) => Math.min(9, Math.floor(u * 10)))
  const noise = normal(kx!, [rows, width]).data
  const x = tensor(
    Float32Array.from(noise, (v, i) => v + centres[labels[Math.floor(i / width)]! * width + (i % width)]!),
    [rows, width],
  )
  return { x, y: tensor(labels) }
}

const nets: Record<string, () => AnyLayer[]> = {
  'sigmoid-glorot': () => [dense({ units: width, activation: 'sigmoid' })],
  'relu-he': () => [dense({ units: width, activation: 'relu', kernelInitializer: 'heNormal' })],
  'relu-he-bn': () => [
    dense({ units: width, activation: 'relu', kernelInitializer: 'heNormal' }),
    batchNormalization(),
  ],
}
const titles: Record<string, string> = {
  'sigmoid-glorot': 'sigmoid + Glorot',
  'relu-he': 'ReLU + He',
  'relu-he-bn': 'ReLU + He + batch norm',
}

/** The figures, by file name. */
export const diagnosticsFigures = async (): Promise<Record<string, string>> => {
  // float32 sums in another order give other last bits, which 100 layers can magnify into
  // other pixels: the figures are those of the default (wasm) kernels, whatever PURENN_KERNELS says
  setKernels('wasm')
  const { x, y } = problem()
  const probe = {
    x: tensor(x.data.slice(0, 64 * width), [64, width]),
    y: tensor(Array.from(y.data.slice(0, 64))),
  }
  const opts = { loss: 'sparseCategoricalCrossentropy' } as const
  const out: Record<string, string> = {}
  const keys = split(key(1), Object.keys(nets).length)
  for (const [i, [name, hidden]] of Object.entries(nets).entries()) {
    const arch = sequential(
      [...Array.from({ length: depth }, hidden).flat(), dense({ units: 10, activation: 'softmax' })],
      { inputShape: [width] },
    )
    const [ki, kf] = split(keys[i]!, 2)
    const model = initModel(arch, { key: ki! })
    const atInit = diagnose(model, probe, opts)
    const { history } = await fitModel(model, x, y, {
      ...opts,
      optimizer: sgd({ learningRate: 0.01 }),
      epochs: 2,
      batchSize: 32,
      key: kf!,
      verbose: 0,
      callbacks: [recordDiagnostics(probe, opts)],
    })
    const d = diagnosticsOf(history)!
    // the dense layers only (x = 1..101), so that the three figures share their x axis
    const denseOnly = (ls: readonly LayerDiagnostics[]) => ls.filter((l) => l.kind === 'Dense')
    out[`gradient-norms-${name}.svg`] = gradientNormsSvg(
      { kind: 'diagnostics', epoch: [-1, ...d.epoch], layers: [atInit, ...d.layers].map(denseOnly) },
      { title: `${titles[name]}, ${depth} layers: gradient norm per layer (epoch 0 = init)` },
    )
    if (name !== 'relu-he') {
      // the first layers: four dense layers (and with batch norm, the BN layer after each)
      const first: LayerDiagnostics[] = atInit.slice(0, name === 'relu-he-bn' ? 8 : 4)
      out[`activations-${name}.svg`] = activationHistogramsSvg(first, {
        title: `${titles[name]}: outputs of the first layers at init`,
        columns: 4,
      })
    }
  }
  return out
}
