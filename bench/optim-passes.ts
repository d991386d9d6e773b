/**
 * The optimizer passes of the 'wasm' kernel set against the plain loops ('js'), one thread:
 * median ms per update of one 262144-element leaf over 41 interleaved rounds, and the ratio
 * js / wasm. Then each optimizer's whole step fused (one pass per parameter, `applyStep`)
 * against its chain (update, then applyUpdates), on the BN model's dense params and in its
 * training step with Adam at batch 32, interleaved in this process.
 * Run: `pnpm tsc -b && pnpm tsx bench/optim-passes.ts`.
 */
import { loadavg } from 'node:os'
import { bnAfter } from '../examples/lib/chapter.js'
import { accuracy, initModel, sparseCategoricalCrossentropy } from '../packages/layers/dist/index.js'
import {
  adam,
  adamw,
  type GradientTransformation,
  nadam,
  rmsprop,
  scaleByNadam,
  scaleByRms,
  sgd,
  traceMomentum,
  updateAndApply,
} from '../packages/optim/dist/index.js'
import { key, setKernels, setThreads, tensor, uniform } from '../packages/tensor/dist/index.js'
import { makeTrainer } from '../packages/train/dist/index.js'

const n = 1 << 18
const g = { w: tensor(Array.from({ length: n }, (_, i) => Math.sin(i))) }
const txs: Record<string, GradientTransformation<unknown>> = {
  momentum: traceMomentum({ decay: 0.9 }) as GradientTransformation<unknown>,
  nesterov: traceMomentum({ decay: 0.9, nesterov: true }) as GradientTransformation<unknown>,
  rmsprop: scaleByRms() as GradientTransformation<unknown>,
  'rmsprop centered': scaleByRms({ centered: true }) as GradientTransformation<unknown>,
  nadam: scaleByNadam() as GradientTransformation<unknown>,
}
const med = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!
setThreads(1)
console.log(`optimizer passes, ${n} elements, 1 thread, load average ${loadavg()[0]!.toFixed(2)}`)
for (const [name, tx] of Object.entries(txs)) {
  const ms: Record<'js' | 'wasm', number[]> = { js: [], wasm: [] }
  let st = tx.init(g)
  for (let rep = 0; rep < 41; rep++)
    for (const set of ['js', 'wasm'] as const) {
      setKernels(set)
      const t0 = performance.now()
      for (let k = 0; k < 10; k++) st = tx.update(g, st, g).state
      ms[set].push((performance.now() - t0) / 10)
    }
  const j = med(ms.js)
  const w = med(ms.wasm)
  console.log(
    `${name.padEnd(18)} js ${j.toFixed(3)} ms  wasm ${w.toFixed(3)} ms  js/wasm ${(j / w).toFixed(2)}`,
  )
}
setKernels('wasm')

// --- one pass per parameter: the fused step against the chain's passes ---------------------
// `updateAndApply` runs an optimizer's fused step (`applyStep`); the same optimizer without
// its `applyStep` runs the chain (update, then applyUpdates), as every version before the
// fused steps did. Both give the same bits; interleaved in this process, medians.

/** The optimizer without its fused step: `updateAndApply` then runs `update` and `applyUpdates`. */
const unfused = <S>(tx: GradientTransformation<S>): GradientTransformation<S> => ({
  init: tx.init,
  update: tx.update,
  ...(tx.learningRate === undefined ? {} : { learningRate: tx.learningRate }),
})

// the chapter's BN model's dense kernels and biases: [784,300], [300,100], [100,10] and the biases
const shapes = [[784, 300], [300], [300, 100], [100], [100, 10], [10]]
const leafOf = (shape: number[], k: number) =>
  tensor(
    Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => Math.sin(i + k) * 0.1),
    shape,
  )
const params = Object.fromEntries(shapes.map((s, k) => [`p${k}`, leafOf(s, k)]))
const grads = Object.fromEntries(shapes.map((s, k) => [`p${k}`, leafOf(s, k + 7)]))
const optimizers: Record<string, GradientTransformation<unknown>> = {
  'sgd momentum': sgd({ momentum: 0.9 }) as GradientTransformation<unknown>,
  rmsprop: rmsprop() as GradientTransformation<unknown>,
  adam: adam() as GradientTransformation<unknown>,
  adamw: adamw() as GradientTransformation<unknown>,
  nadam: nadam() as GradientTransformation<unknown>,
}
console.log(
  `\nwhole optimizer step on the BN model's dense params (266,610 elements), 1 thread, load average ${loadavg()[0]!.toFixed(2)}`,
)
for (const set of ['wasm', 'js'] as const) {
  setKernels(set)
  for (const [name, tx] of Object.entries(optimizers)) {
    const ms: Record<'chain' | 'fused', number[]> = { chain: [], fused: [] }
    const ways = { chain: unfused(tx), fused: tx }
    const states = { chain: tx.init(params), fused: tx.init(params) }
    for (let rep = 0; rep < 41; rep++)
      for (const way of ['chain', 'fused'] as const) {
        const t0 = performance.now()
        for (let k = 0; k < 10; k++) states[way] = updateAndApply(ways[way], grads, states[way], params).state
        ms[way].push((performance.now() - t0) / 10)
      }
    const c = med(ms.chain)
    const f = med(ms.fused)
    console.log(
      `${set.padEnd(5)} ${name.padEnd(13)} chain ${c.toFixed(3)} ms  fused ${f.toFixed(3)} ms  chain/fused ${(c / f).toFixed(2)}`,
    )
  }
}
setKernels('wasm')

// the training step of the chapter's BN model with Adam, batch 32, fused and not
const model = initModel(bnAfter(), { key: key(0) })
const batch = {
  x: uniform(key(1), [32, 28, 28]),
  y: tensor(Float32Array.from({ length: 32 }, (_, i) => i % 10)),
}
const trainers = {
  chain: makeTrainer({
    loss: sparseCategoricalCrossentropy(),
    metrics: [accuracy],
    optimizer: unfused(adam()),
  }),
  fused: makeTrainer({ loss: sparseCategoricalCrossentropy(), metrics: [accuracy], optimizer: adam() }),
}
for (const threads of [1, 2]) {
  setThreads(threads)
  const ms: Record<'chain' | 'fused', number[]> = { chain: [], fused: [] }
  const st = { chain: trainers.chain.init(model), fused: trainers.fused.init(model) }
  for (let rep = 0; rep < 24; rep++)
    for (const way of ['chain', 'fused'] as const) {
      const t0 = performance.now()
      for (let k = 0; k < 10; k++) st[way] = trainers[way].step(st[way], batch, key(rep * 10 + k)).state
      if (rep >= 3) ms[way].push((performance.now() - t0) / 10)
    }
  const c = med(ms.chain)
  const f = med(ms.fused)
  console.log(
    `BN model + adam, batch 32, ${threads} thread${threads > 1 ? 's' : ' '}: chain ${c.toFixed(2)} ms/step  fused ${f.toFixed(2)} ms/step  chain/fused ${(c / f).toFixed(3)}  (load average ${loadavg()[0]!.toFixed(2)})`,
  )
}
setThreads(1)
