/**
 * Batch-norm kernels, js vs wasm (`setKernels`), in one process: the three batch-norm
 * layers of the chapter's model (784, 300 and 100 features) at batch 32 and 512, timing
 * - `train fwd`: `batchNormTrain` (batch statistics, normalize, scale, shift),
 * - `train fwd+bwd`: `valueAndGrad` of `Σ y·w` over x, gamma and beta (adds a product and a
 *   sum, the same in both sets),
 * - `inference`: `batchNorm` with given statistics.
 * Medians over interleaved repetitions (js, wasm, js, wasm, ...), one thread (the batch-norm
 * kernels do not use the pool). The machine is shared and noisy: the ratio measured in one
 * run says more than the absolute times.
 *
 * Imports the built `dist/` (run `npx tsc -b` first; `pnpm bench:batchnorm` does).
 *
 * Run: pnpm bench:batchnorm   (or: npx tsc -b && npx tsx bench/batchnorm.ts)
 */

import { loadavg } from 'node:os'
import {
  batchNorm,
  batchNormTrain,
  key,
  mul,
  normal,
  setKernels,
  setThreads,
  sum,
  type Tensor,
  uniform,
  valueAndGrad,
} from '../packages/tensor/dist/index.js'

const reps = Number(process.env.BENCH_REPS ?? 41)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Median ms of `f` on the js and on the wasm kernels, interleaved; `inner` calls per sample. */
const timeSets = (f: () => unknown, inner: number): [number, number] => {
  const ts: [number[], number[]] = [[], []]
  for (let r = 0; r < reps + 3; r++)
    for (const [i, k] of (['js', 'wasm'] as const).entries()) {
      setKernels(k)
      const t0 = performance.now()
      for (let j = 0; j < inner; j++) f()
      if (r >= 3) ts[i]!.push((performance.now() - t0) / inner)
    }
  return [median(ts[0]), median(ts[1])]
}

setThreads(1)
console.log(
  `batch-norm kernels, 1 thread, median ms per call over ${reps} interleaved reps; load ${loadavg()[0]!.toFixed(2)}`,
)
console.log('shape        op               js ms   wasm ms   js/wasm')
for (const batch of [32, 512])
  for (const features of [784, 300, 100]) {
    const x = normal(key(batch + features), [batch, features])
    const gamma = uniform(key(1), [features], { minval: 0.5, maxval: 1.5 })
    const beta = uniform(key(2), [features], { minval: -0.5, maxval: 0.5 })
    const w = normal(key(3), [batch, features])
    const mean = uniform(key(4), [features], { minval: -0.1, maxval: 0.1 })
    const variance = uniform(key(5), [features], { minval: 0.5, maxval: 2 })
    type P = { x: Tensor; gamma: Tensor; beta: Tensor }
    const loss = valueAndGrad((p: P) => sum(mul(batchNormTrain(p.x, p.gamma, p.beta, 0).y, w)))
    const inner = batch === 32 ? 20 : 2
    const cases: [string, () => unknown][] = [
      ['train fwd', () => batchNormTrain(x, gamma, beta, 0)],
      ['train fwd+bwd', () => loss({ x, gamma, beta })],
      ['inference', () => batchNorm(x, mean, variance, gamma, beta)],
    ]
    for (const [name, f] of cases) {
      const [js, wasm] = timeSets(f, inner)
      console.log(
        `${`[${batch}, ${features}]`.padEnd(12)} ${name.padEnd(15)} ${js.toFixed(3).padStart(7)} ${wasm
          .toFixed(3)
          .padStart(9)} ${(js / wasm).toFixed(2).padStart(8)}x`,
      )
    }
  }
console.log(`load after: ${loadavg()[0]!.toFixed(2)}`)
