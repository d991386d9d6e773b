/**
 * One training step (batch 32) of the chapter's batch-norm model (SGD and Adam) and of its
 * dropout model (SGD with momentum 0.9), on one and on two threads: medians over
 * interleaved repetitions and the ratio 1 thread / 2 threads, measured in the same process
 * (the machines are shared and noisy: absolute times are indicative only). Inputs are
 * random; the work does not depend on the values.
 *
 * Everything is imported from the packages' built `dist/` (run `npx tsc -b` first; `pnpm
 * bench` does): the layers import `@purenn/tensor`, which resolves to `dist/`, so a bench
 * that took `setThreads` from `src/` would set the thread count of another copy of the
 * module than the one the step runs on.
 *
 * Run: pnpm bench   (or: npx tsc -b && npx tsx bench/train-step.ts)
 */
import { bnAfter, dropoutModel as dropoutArchitecture } from '../examples/lib/chapter.js'
import { accuracy, initModel, sparseCategoricalCrossentropy } from '../packages/layers/dist/index.js'
import { adam, sgd } from '../packages/optim/dist/index.js'
import { key, setThreads, tensor, uniform } from '../packages/tensor/dist/index.js'
import { makeTrainer } from '../packages/train/dist/index.js'

const bnModel = initModel(bnAfter(), { key: key(0) })
const dropoutModel = initModel(dropoutArchitecture(), { key: key(0) })
const batch = {
  x: uniform(key(1), [32, 28, 28]),
  y: tensor(Float32Array.from({ length: 32 }, (_, i) => i % 10)),
}
const reps = Number(process.env.BENCH_REPS ?? 41)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

console.log('\ntraining step (batch 32), median ms over', reps, 'interleaved runs')
console.log('model, optimizer      1 thread   2 threads   ratio   est. s/epoch (1719 steps): 1 thr  2 thr')
for (const [name, model, optimizer] of [
  ['BN, sgd', bnModel, sgd({ learningRate: 0.01 })],
  ['BN, adam', bnModel, adam()],
  ['dropout, sgd 0.9', dropoutModel, sgd({ learningRate: 0.01, momentum: 0.9 })],
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
    `${name.padEnd(18)} ${one.toFixed(2).padStart(9)} ${two.toFixed(2).padStart(11)} ${(one / two).toFixed(2).padStart(7)}x ${((one * 1719) / 1000).toFixed(1).padStart(30)} ${((two * 1719) / 1000).toFixed(1).padStart(6)}`,
  )
}
