/**
 * The two kernel sets side by side (`setKernels('js' | 'wasm')`), in one process:
 *
 * 1. GFLOP/s of the three matmul forms dense needs (A·B forward, A·Bᵀ for dX = G·Wᵀ,
 *    Aᵀ·B for dW = Xᵀ·G) on the issue's 128x784x300 product and on the step's shapes, for
 *    js and wasm on 1 and 2 threads; the baseline is js on 1 thread, measured alongside.
 * 2. ms per training step of the chapter's batch-norm model with Adam at batch 32 and 512,
 *    js vs wasm on 1 and 2 threads; the baseline is js on 1 thread.
 *
 * Medians over interleaved repetitions (round-robin, so load from other processes hits
 * every variant alike); the machine is shared, so ratios say more than absolute times.
 * Writes the numbers to `out/bench-kernels.json`. Imports the built `dist/` (like
 * train-step.ts), so that `setKernels`/`setThreads` configure the copy the step runs on.
 *
 * Run: pnpm bench   (or: npx tsc -b && npx tsx bench/kernels.ts)
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { bnAfter } from '../examples/lib/chapter.js'
import { initModel, sparseCategoricalCrossentropy } from '../packages/layers/dist/index.js'
import { adam } from '../packages/optim/dist/index.js'
import {
  getKernels,
  key,
  matmul,
  setKernels,
  setThreads,
  tensor,
  uniform,
} from '../packages/tensor/dist/index.js'
import { makeTrainer } from '../packages/train/dist/index.js'

const reps = Number(process.env.BENCH_REPS ?? 21)
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

type Variant = { readonly kernels: 'js' | 'wasm'; readonly threads: number }
const variants: Variant[] = [
  { kernels: 'js', threads: 1 },
  { kernels: 'js', threads: 2 },
  { kernels: 'wasm', threads: 1 },
  { kernels: 'wasm', threads: 2 },
]
const label = (v: Variant) => `${v.kernels} ${v.threads}t`

/** Median ms of `run` under each variant, interleaved: rep r runs every variant once. */
const timeVariants = (run: () => void, n: number, warm: number): number[] => {
  const ts = variants.map((): number[] => [])
  for (let r = 0; r < warm + n; r++)
    variants.forEach((v, i) => {
      setKernels(v.kernels)
      setThreads(v.threads)
      const t0 = performance.now()
      run()
      if (r >= warm) ts[i]!.push(performance.now() - t0)
    })
  return ts.map(median)
}

// start the 2-thread pool and let its worker start (start-up is not measured)
setThreads(2)
for (const k of ['js', 'wasm'] as const) {
  setKernels(k)
  matmul(uniform(key(9), [128, 128]), uniform(key(9), [128, 128]))
}
await sleep(300)

const defaultKernels = (() => {
  setKernels('wasm')
  return getKernels()
})()
// the machine may be shared: the load average says how far the 2-thread numbers can be trusted
const loadAtStart = loadavg()
console.log(
  `kernels: js vs wasm on ${cpus()[0]?.model ?? 'unknown CPU'} (${availableParallelism()} threads available), ` +
    `Node ${process.version}; median of ${reps} interleaved runs; x = js 1 thread median / this median; ` +
    `load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}\n`,
)

type Form = { readonly name: string; readonly M: number; readonly K: number; readonly N: number }
const products: (Form & { readonly tA: boolean; readonly tB: boolean })[] = [
  { name: 'A·B   128x784x300', M: 128, K: 784, N: 300, tA: false, tB: false },
  { name: 'A·Bᵀ  128x784x300', M: 128, K: 784, N: 300, tA: false, tB: true },
  { name: 'Aᵀ·B  128x784x300', M: 128, K: 784, N: 300, tA: true, tB: false },
  { name: 'fwd   X·W   32x784x300', M: 32, K: 784, N: 300, tA: false, tB: false },
  { name: 'dX    G·Wᵀ  32x300x784', M: 32, K: 300, N: 784, tA: false, tB: true },
  { name: 'dW    Xᵀ·G  784x32x300', M: 784, K: 32, N: 300, tA: true, tB: false },
]
console.log(`${'product'.padEnd(24)} ${variants.map((v) => `${label(v).padStart(9)} GF/s    x`).join(' ')}`)
const matmulResults = products.map((p) => {
  const a = uniform(key(1), p.tA ? [p.K, p.M] : [p.M, p.K])
  const b = uniform(key(2), p.tB ? [p.N, p.K] : [p.K, p.N])
  const ms = timeVariants(() => matmul(a, b, { transposeA: p.tA, transposeB: p.tB }), reps * 2, 5)
  const gf = ms.map((t) => (2 * p.M * p.K * p.N) / t / 1e6)
  console.log(
    `${p.name.padEnd(24)} ${gf.map((g, i) => `${g.toFixed(1).padStart(14)} ${(ms[0]! / ms[i]!).toFixed(1).padStart(4)}`).join(' ')}` +
      `   wasm 2t/1t ${(ms[2]! / ms[3]!).toFixed(2)}`,
  )
  return { product: p.name, ms: Object.fromEntries(variants.map((v, i) => [label(v), ms[i]!])), gflops: gf }
})

// training steps of the chapter's BN model with Adam
const model = initModel(bnAfter(), { key: key(0) })
const trainer = makeTrainer({ loss: sparseCategoricalCrossentropy(), metrics: [], optimizer: adam() })
console.log(`\ntraining step, BN model + Adam: median ms (x = js 1 thread / this)`)
console.log(`${'batch'.padEnd(8)} ${variants.map((v) => `${label(v).padStart(9)}      x`).join(' ')}`)
const stepResults = [32, 512].map((batchSize) => {
  const batch = {
    x: uniform(key(1), [batchSize, 28, 28]),
    y: tensor(Float32Array.from({ length: batchSize }, (_, i) => i % 10)),
  }
  const s0 = trainer.init(model)
  let r = 0
  const n = batchSize >= 512 ? Math.max(5, Math.ceil(reps / 2)) : reps
  const ms = timeVariants(() => trainer.step(s0, batch, key(r++)), n, 3)
  console.log(
    `${String(batchSize).padEnd(8)} ${ms.map((t) => `${t.toFixed(2).padStart(9)} ${(ms[0]! / t).toFixed(2).padStart(6)}`).join(' ')}`,
  )
  return { batch: batchSize, ms: Object.fromEntries(variants.map((v, i) => [label(v), ms[i]!])) }
})

mkdirSync('out', { recursive: true })
writeFileSync(
  'out/bench-kernels.json',
  `${JSON.stringify(
    {
      node: process.version,
      cpu: cpus()[0]?.model,
      threadsAvailable: availableParallelism(),
      defaultKernels,
      reps,
      loadAverage: { start: loadAtStart, end: loadavg() },
      matmul: matmulResults,
      trainStep: stepResults,
    },
    null,
    2,
  )}\n`,
)
console.log('\nwritten: out/bench-kernels.json')
