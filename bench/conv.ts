/**
 * Convolution benchmark: `conv2d` (im2col + matmul) forward and forward + backward for the
 * two convolutions of `examples/cnn-batch-norm.ts` at batch 32, max pooling, and one
 * training step of that CNN (Adam), on one and two threads. Medians over interleaved
 * repetitions; GFLOP/s count the multiply-adds of the convolution (2 flops each; backward
 * = 2x forward for dx and dW, 1x for dW only). The share of im2col is the forward time
 * minus the matmul on the same patches, timed alone. Machines are shared and noisy:
 * compare the ratios measured together, not absolute times across runs.
 *
 * Imports the built `dist/` (run `npx tsc -b` first; `pnpm bench` does).
 *
 * Run: pnpm bench   (or: npx tsc -b && npx tsx bench/conv.ts)
 */

import * as L from '../packages/layers/dist/index.js'
import { accuracy, initModel, sparseCategoricalCrossentropy } from '../packages/layers/dist/index.js'
import { adam } from '../packages/optim/dist/index.js'
import {
  conv2d,
  key,
  matmul,
  maxPool2d,
  normal,
  setThreads,
  sum,
  type Tensor,
  tensor,
  uniform,
  valueAndGrad,
} from '../packages/tensor/dist/index.js'
import { makeTrainer } from '../packages/train/dist/index.js'

const reps = Number(process.env.BENCH_REPS ?? 15)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Median ms of `f` on 1 and on 2 threads, interleaved. */
const time12 = (f: () => unknown): [number, number] => {
  const ts: [number[], number[]] = [[], []]
  for (let r = 0; r < reps + 2; r++)
    for (const [i, threads] of [1, 2].entries()) {
      setThreads(threads)
      const t0 = performance.now()
      f()
      if (r >= 2) ts[i]!.push(performance.now() - t0)
    }
  return [median(ts[0]), median(ts[1])]
}

const row = (name: string, [one, two]: [number, number], madds?: number) =>
  console.log(
    `${name.padEnd(40)} ${one.toFixed(1).padStart(8)} ${two.toFixed(1).padStart(9)} ${(one / two).toFixed(2).padStart(6)}x` +
      (madds === undefined ? '' : ` ${((2 * madds) / two / 1e6).toFixed(2).padStart(8)}`),
  )

console.log(`\nconv2d at batch 32, median ms over ${reps} interleaved runs`)
console.log(`${'op'.padEnd(40)} ${'1 thread'.padStart(8)} ${'2 threads'.padStart(9)}  ratio  GFLOP/s (2 thr)`)
for (const [h, c, f] of [
  [28, 1, 16],
  [14, 16, 32],
] as const) {
  const x = normal(key(1), [32, h, h, c])
  const k = normal(key(2), [3, 3, c, f])
  const madds = 32 * h * h * 9 * c * f
  const patches = normal(key(3), [32 * h * h, 9 * c])
  const kk = normal(key(4), [9 * c, f])
  const shape = `${h}x${h}x${c} -> ${f}, 3x3 same`
  row(
    `forward ${shape}`,
    time12(() => conv2d(x, k, { padding: 'same' })),
    madds,
  )
  row(
    `  its matmul alone (no im2col)`,
    time12(() => matmul(patches, kk)),
    madds,
  )
  row(
    `forward + backward (dx, dW) ${h}x${h}x${c}`,
    time12(() =>
      valueAndGrad((p: { x: Tensor; k: Tensor }) => sum(conv2d(p.x, p.k, { padding: 'same' })))({ x, k }),
    ),
    3 * madds,
  )
  const y = conv2d(x, k, { padding: 'same' })
  row(
    `maxPool2d 2x2 fwd+bwd on ${h}x${h}x${f}`,
    time12(() => valueAndGrad((p: Tensor) => sum(maxPool2d(p)))(y)),
  )
}

const block = (filters: number) => [
  L.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false }),
  L.batchNormalization(),
  L.activation('relu'),
  L.maxPooling2d(),
]
const cnn = initModel(
  L.sequential(
    [
      L.reshape({ targetShape: [28, 28, 1] }),
      ...block(16),
      ...block(32),
      L.flatten(),
      L.dense({ units: 10, activation: 'softmax' }),
    ],
    {
      inputShape: [28, 28],
    },
  ),
  { key: key(0) },
)
const trainer = makeTrainer({ loss: sparseCategoricalCrossentropy(), metrics: [accuracy], optimizer: adam() })
const s0 = trainer.init(cnn)
const batch = {
  x: uniform(key(1), [32, 28, 28]),
  y: tensor(Float32Array.from({ length: 32 }, (_, i) => i % 10)),
}
let r = 0
const step = time12(() => trainer.step(s0, batch, key(r++)))
row('CNN training step (examples/cnn-batch-norm)', step)
console.log(
  `est. s/epoch (1719 steps): 1 thread ${((step[0] * 1719) / 1000).toFixed(0)}, 2 threads ${((step[1] * 1719) / 1000).toFixed(0)}`,
)
