/**
 * One training step of the chapter's batch-norm model (batch 32, SGD and Adam), on one and
 * on two threads: medians over interleaved repetitions and the ratio 2 threads / 1 thread,
 * measured in the same process (the machines are shared and noisy: absolute times are
 * indicative only). Inputs are random; the work does not depend on the values.
 *
 * Run: pnpm bench   (or: npx tsx bench/train-step.ts)
 */
import {
  accuracy,
  batchNormalization,
  dense,
  flatten,
  initModel,
  sequential,
  sparseCategoricalCrossentropy,
} from '../packages/layers/src/index.js'
import { adam, sgd } from '../packages/optim/src/index.js'
import { key, setThreads, tensor, uniform } from '../packages/tensor/src/index.js'
import { makeTrainer } from '../packages/train/src/index.js'

const model = initModel(
  sequential(
    [
      flatten(),
      batchNormalization(),
      dense({ units: 300, activation: 'relu', kernelInitializer: 'heNormal' }),
      batchNormalization(),
      dense({ units: 100, activation: 'relu', kernelInitializer: 'heNormal' }),
      batchNormalization(),
      dense({ units: 10, activation: 'softmax' }),
    ],
    { inputShape: [28, 28] },
  ),
  { key: key(0) },
)
const batch = {
  x: uniform(key(1), [32, 28, 28]),
  y: tensor(Float32Array.from({ length: 32 }, (_, i) => i % 10)),
}
const reps = Number(process.env.BENCH_REPS ?? 41)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

console.log('\ntraining step of the chapter BN model (batch 32), median ms over', reps, 'interleaved runs')
console.log('optimizer   1 thread   2 threads   ratio   est. s/epoch (1719 steps, 2 threads)')
for (const [name, optimizer] of [
  ['sgd', sgd({ learningRate: 0.01 })],
  ['adam', adam()],
] as const) {
  const trainer = makeTrainer({ loss: sparseCategoricalCrossentropy(), metrics: [accuracy], optimizer })
  const s0 = trainer.init(model)
  const times: [number[], number[]] = [[], []]
  for (let r = 0; r < reps + 3; r++)
    for (const [i, threads] of [1, 2].entries()) {
      setThreads(threads)
      const t0 = performance.now()
      trainer.step(s0, batch, key(r))
      if (r >= 3) times[i]!.push(performance.now() - t0)
    }
  const [one, two] = times.map(median) as [number, number]
  console.log(
    `${name.padEnd(9)} ${one.toFixed(2).padStart(9)} ${two.toFixed(2).padStart(11)} ${(one / two).toFixed(2).padStart(7)}x ${((two * 1719) / 1000).toFixed(1).padStart(10)}`,
  )
}
