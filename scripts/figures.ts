// The guides' figures, computed by purenn itself and drawn by its lineChartSvg:
//   docs/guides/figures/activations.svg         the activations over [-4, 4]
//   docs/guides/figures/activation-grads.svg    their derivatives, by reverse-mode autodiff
//   docs/guides/figures/lr-schedules.svg        the learning-rate schedules over 100 steps
//     (exponentialDecay 0.01, 20 steps, rate 0.1; piecewiseConstant [50, 80] -> 0.01, 0.005,
//     0.001; cosineDecay 0.01 over 100 steps; oneCycle max 0.01 over 100 steps)
//   docs/guides/figures/gradient-norms-*.svg, activations-*.svg   diagnostics of 100-layer nets
//     trained briefly (see scripts/figures-diagnostics.ts)
// Usage: pnpm run docs:figures [--check]   (--check fails when a committed figure differs)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { activations } from '@purenn/layers'
import { cosineDecay, exponentialDecay, oneCycle, piecewiseConstant } from '@purenn/optim'
import { grad, sum, type Tensor, tensor } from '@purenn/tensor'
import { type LineSeries, lineChartSvg } from '@purenn/train'
import { diagnosticsFigures } from './figures-diagnostics.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'docs', 'guides', 'figures')
const check = process.argv.includes('--check')

const xs = Array.from({ length: 161 }, (_, i) => -4 + i * 0.05)
const x = tensor(xs)
const named = [
  ['relu', activations.relu],
  ['leakyRelu(0.2)', activations.leakyRelu(0.2)],
  ['elu', activations.elu()],
  ['selu', activations.selu],
  ['gelu', activations.gelu],
  ['swish', activations.swish],
  ['tanh', activations.tanh],
  ['sigmoid', activations.sigmoid],
] as const
const curve = (name: string, ys: ArrayLike<number>): LineSeries => ({
  name,
  points: xs.map((v, i) => [v, ys[i]!] as const),
})

const figures: Record<string, string> = {
  'activations.svg': lineChartSvg(
    named.map(([name, a]) => curve(name, a.fn(x).data)),
    { title: 'Activation functions', xLabel: 'x', yDomain: [-2, 4] },
  ),
  'activation-grads.svg': lineChartSvg(
    named.map(([name, a]) => curve(name, grad((t: Tensor) => sum(a.fn(t)))(x).data)),
    { title: "Their derivatives (purenn's grad)", xLabel: 'x', yDomain: [-0.2, 1.8] },
  ),
  'lr-schedules.svg': (() => {
    const steps = Array.from({ length: 101 }, (_, i) => i)
    const schedules = [
      ['exponentialDecay', exponentialDecay({ initialLearningRate: 0.01, decaySteps: 20, decayRate: 0.1 })],
      ['piecewiseConstant', piecewiseConstant([50, 80], [0.01, 0.005, 0.001])],
      ['cosineDecay', cosineDecay({ initialLearningRate: 0.01, decaySteps: 100 })],
      ['oneCycle', oneCycle({ totalSteps: 100, maxLearningRate: 0.01 })],
    ] as const
    return lineChartSvg(
      schedules.map(([name, s]) => ({ name, points: steps.map((t) => [t, s(t)] as const) })),
      { title: 'Learning-rate schedules', xLabel: 'step', integerXTicks: true, width: 560 },
    )
  })(),
  ...(await diagnosticsFigures()),
}

mkdirSync(out, { recursive: true })
let stale = 0
for (const [file, svg] of Object.entries(figures)) {
  const path = join(out, file)
  const text = `${svg}\n`
  if (check) {
    let old = ''
    try {
      old = readFileSync(path, 'utf8')
    } catch {}
    if (old !== text) {
      console.error(`stale: docs/guides/figures/${file} (run pnpm run docs:figures)`)
      stale++
    }
  } else {
    writeFileSync(path, text)
    console.log(`wrote docs/guides/figures/${file}`)
  }
}
if (stale > 0) process.exit(1)
