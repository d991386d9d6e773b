/**
 * Vanishing gradients, seen: 20 sigmoid layers with Glorot init against He init + ReLU + batch norm.
 *
 * A 20-layer sigmoid network with Glorot init against the same depth with He init, ReLU and
 * batch normalization. Prints each layer's gradient norm on a
 * fixed probe batch after each epoch and writes `gradient-norms-*.svg` and
 * `activations-*.svg` into `--out` (default `out/vanishing-gradients`). Synthetic data (ten
 * Gaussian classes in 100 dimensions), so it runs anywhere in seconds.
 *
 * Run: pnpm example vanishing-gradients [--epochs 2] [--subset 2000] [--out DIR]
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { layers as L, tensor as T, train } from 'purenn'
import { exampleArgs } from './lib/flags.js'

const args = exampleArgs({
  name: 'vanishing-gradients',
  epochs: { default: 2 },
  subset: { what: 'rows of the synthetic data set', min: 256, max: 100_000, default: 2000 },
  out: { what: 'where the SVG figures go', default: 'out/vanishing-gradients' },
})
const epochs = args.epochs
const rows = args.subset!
const outDir = args.out!

const width = 100
const depth = 20
const [kc, kx, ky, k1, k2] = T.split(T.key(0), 5)
const centers = T.normal(kc!, [10, width])
const labels = Array.from(T.uniform(ky!, [rows]).data, (u) => Math.floor(u * 10))
const noise = T.normal(kx!, [rows, width]).data
const x = T.tensor(
  Float32Array.from(noise, (v, i) => v + centers.data[labels[Math.floor(i / width)]! * width + (i % width)]!),
  [rows, width],
)
const y = T.tensor(labels)
const probe = { x: T.tensor(x.data.slice(0, 256 * width), [256, width]), y: T.tensor(labels.slice(0, 256)) }

const nets = {
  'sigmoid-glorot': L.sequential(
    [
      ...Array.from({ length: depth }, () => L.dense({ units: width, activation: 'sigmoid' })),
      L.dense({ units: 10, activation: 'softmax' }),
    ],
    { inputShape: [width] },
  ),
  'relu-he-bn': L.sequential(
    [
      ...Array.from({ length: depth }, () => [
        L.dense({ units: width, activation: 'relu', kernelInitializer: 'heNormal' }),
        L.batchNormalization(),
      ]).flat(),
      L.dense({ units: 10, activation: 'softmax' }),
    ],
    { inputShape: [width] },
  ),
}
await mkdir(outDir, { recursive: true })
for (const [name, arch] of Object.entries(nets)) {
  const model = L.initModel(arch, { key: name === 'sigmoid-glorot' ? k1! : k2! })
  const opts = { loss: 'sparseCategoricalCrossentropy' } as const
  const before = train.diagnose(model, probe, opts)
  const { history } = await train.fit(model, x, y, {
    ...opts,
    optimizer: 'sgd',
    epochs,
    verbose: 0,
    callbacks: [train.recordDiagnostics(probe, opts)],
  })
  const d = train.diagnosticsOf(history)!
  const dense = (ls: readonly train.LayerDiagnostics[]) => ls.filter((l) => l.kind === 'Dense')
  const fmt = (ls: readonly train.LayerDiagnostics[]) =>
    dense(ls)
      .map((l) => l.gradientNorm!.toExponential(1))
      .join(' ')
  console.log(`${name}: gradient norms per dense layer, input side first`)
  console.log(`  at init:      ${fmt(before)}`)
  for (const [i, ls] of d.layers.entries()) console.log(`  after epoch ${i + 1}: ${fmt(ls)}`)
  const first = dense(before)[0]!.gradientNorm!
  const lastHidden = dense(before).at(-2)!.gradientNorm!
  console.log(
    `  first / last hidden layer at init: ${(first / lastHidden).toExponential(1)}; loss ${history.history.loss!.map((l) => l.toFixed(3)).join(' ')}`,
  )
  await writeFile(
    join(outDir, `gradient-norms-${name}.svg`),
    train.gradientNormsSvg(
      { kind: 'diagnostics', epoch: [-1, ...d.epoch], layers: [before, ...d.layers] },
      { title: `${name}: gradient norm per layer (epoch 0 = init)` },
    ),
  )
  await writeFile(
    join(outDir, `activations-${name}.svg`),
    train.activationHistogramsSvg(before, { title: `${name}: outputs at init`, columns: 6 }),
  )
}
console.log(`figures written to ${outDir}`)
