/**
 * `pnpm bench`: purenn beside TF.js (tfjs-backend-wasm: XNNPACK, SIMD; and tfjs-backend-cpu)
 * in one process, interleaved round by round so load from other processes hits every variant
 * alike:
 *
 * 1. ms per training step and samples/s of the chapter's batch-norm model with Adam at batch
 *    32 and 512 (purenn on 1 and 2 threads, tfjs-wasm, tfjs-cpu), with the ratio to tfjs-wasm
 *    in each round and the medians;
 * 2. matmul GFLOP/s for the step's shapes in the three forms dense needs (A·B forward, A·Bᵀ
 *    for dX = G·Wᵀ, Aᵀ·B for dW = Xᵀ·G), for the js and wasm kernels on 1 and 2 threads, and
 *    tfjs-wasm's `matMul` on the same shapes;
 * 3. predict throughput on 10,000 images (images/s) and its ratio to tfjs-wasm;
 * 4. peak RSS of a one-epoch training process (batch 32, Adam, Fashion-MNIST's 55,000
 *    training images with validation on 5,000), each in its own child process
 *    (`bench/rss-child.ts`): purenn on 1 and 2 threads, tfjs-wasm.
 *
 * Prints the tables and writes everything, with the machine (CPU, cores, Node, load average
 * before and after), to `out/bench.json`. `--quick` (CI's smoke run) does one round of each
 * on small inputs (batch 64 for 512, 1,000 images to predict, 1,000 to train on) and writes
 * `out/bench-quick.json`: its numbers mean nothing.
 *
 * Operands live where each library's kernels read them: tfjs-wasm's tensors are in its
 * WebAssembly memory, so purenn's training batch and matmul operands are put on blocks of its
 * kernels' memory too (`resident`), as `fit` makes each batch and the step's intermediates
 * (step scopes); a product's result is copied out on both sides (`dataSync`, a fresh buffer).
 *
 * Imports the built `dist/` (`pnpm bench` runs `tsc -b` first), so that `setKernels` and
 * `setThreads` configure the copy of @purenn/tensor the layers run on.
 *
 * Run: pnpm bench [--quick]
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { bnAfter } from '../examples/lib/chapter.js'
import { initModel, sparseCategoricalCrossentropy } from '../packages/layers/dist/index.js'
import { adam } from '../packages/optim/dist/index.js'
import {
  getKernels,
  key,
  matmul,
  setKernels,
  setThreads,
  type Tensor,
  tensor,
  uniform,
} from '../packages/tensor/dist/index.js'
import { allocOwned, fromBuffer } from '../packages/tensor/dist/internal/index.js'
import { makeTrainer, predict } from '../packages/train/dist/index.js'
import { makeLedger } from '../packages/train/dist/internal.js'
import { initTf, tf, tfBnModel } from './tfjs.js'

const quick = process.argv.includes('--quick')
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const fmt = (x: number, d = 2) => x.toFixed(d)
const load = () => loadavg().map((l) => Number(l.toFixed(2)))
/**
 * `t` on a block of the kernels' memory, never freed (the bench holds it to the end), as a
 * tfjs-wasm tensor is in its module's memory: the kernels read it in place. A plain copy
 * where there is no shared kernel memory (the js kernels read it in place anyway).
 */
const resident = (t: Tensor): Tensor => {
  const data = allocOwned(t.size)
  data.set(t.data as Float32Array)
  return fromBuffer(t.shape, data)
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  availableParallelism: availableParallelism(),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  date: new Date().toISOString(),
  loadAverageAtStart: load(),
}
const tfInfo = await initTf()
setKernels('wasm')
const purennKernels = getKernels() // 'wasm' where WebAssembly SIMD exists
console.log(
  `pnpm bench${quick ? ' --quick (smoke run: the numbers mean nothing)' : ''}: ${machine.cpu}, ${machine.cores} cores, ` +
    `Node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`,
)
console.log(
  `purenn kernels: ${purennKernels}; tfjs ${tf.version_core}, wasm backend SIMD ${tfInfo.simd}, threads ${tfInfo.multithread}\n`,
)

// start purenn's 2-thread pool before anything is timed
setThreads(2)
matmul(uniform(key(9), [128, 128]), uniform(key(9), [128, 128]))
await sleep(300)

type Timed = { readonly name: string; readonly run: () => unknown | Promise<unknown> }
/**
 * `rounds` rounds; in each, every variant runs `per` times in turn and its mean ms is
 * recorded. Round 0 is a warm-up (dropped) unless `warm` is false. With `settle`, each
 * variant's turn starts with one untimed run: the variants before it (TF.js's slow steps)
 * leave purenn's pool asleep for up to a second, and waking its workers costs 50-120 µs per
 * op for the first ops (docs/guides/kernels.md, "Per-op overhead"), a cost a training loop,
 * which never pauses between steps, does not pay.
 */
const rounds = async (
  variants: readonly Timed[],
  n: number,
  per: number,
  warm = true,
  settle = false,
): Promise<number[][]> => {
  const ms = variants.map((): number[] => [])
  for (let r = 0; r < n + (warm ? 1 : 0); r++)
    for (const [i, v] of variants.entries()) {
      if (settle) await v.run()
      const t0 = performance.now()
      for (let k = 0; k < per; k++) await v.run()
      if (r > 0 || !warm) ms[i]!.push((performance.now() - t0) / per)
    }
  return ms
}

// ---------------------------------------------------------------- 1. training steps
// the step as fit runs it: the optimizer's results in owned buffers, freed by a ledger two steps on
const trainer = makeTrainer({
  loss: sparseCategoricalCrossentropy(),
  metrics: [],
  optimizer: adam(),
  ownedBuffers: true,
})
const purennModel = initModel(bnAfter(), { key: key(0) })
const tfModels = { wasm: await tfBnModel('wasm'), cpu: await tfBnModel('cpu') }
const labelsOf = (n: number) => Float32Array.from({ length: n }, (_, i) => i % 10)

type StepResult = {
  batch: number
  rounds: number
  stepsPerRound: number
  msPerStep: Record<string, number[]>
  median: Record<string, { msPerStep: number; samplesPerSecond: number; ratioToTfjsWasm: number }>
}
const stepResults: StepResult[] = []
// --quick: batch 64 stands in for 512
for (const batch of quick ? [32, 64] : [32, 512]) {
  const nRounds = quick ? 1 : batch === 32 ? 9 : 5
  const per = quick ? 1 : batch === 32 ? 5 : 1
  const x = resident(uniform(key(1), [batch, 28, 28]))
  const y = resident(tensor(labelsOf(batch)))
  let state = trainer.init(purennModel)
  const ledger = makeLedger(state)
  let r = 0
  const purennStep = (threads: number) => () => {
    setThreads(threads)
    const prev = state
    state = trainer.step(state, { x, y }, key(r++)).state
    ledger.commit([state, prev])
  }
  const tfData = async (backend: 'wasm' | 'cpu') => {
    await tf.setBackend(backend)
    return { x: tf.tensor3d(x.data as Float32Array, [batch, 28, 28]), y: tf.tensor1d(labelsOf(batch)) }
  }
  const tfIn = { wasm: await tfData('wasm'), cpu: await tfData('cpu') }
  const tfStep = (backend: 'wasm' | 'cpu') => async () => {
    await tf.setBackend(backend)
    await tfModels[backend].trainOnBatch(tfIn[backend].x, tfIn[backend].y)
  }
  const variants: Timed[] = [
    { name: 'purenn 1 thread', run: purennStep(1) },
    { name: 'purenn 2 threads', run: purennStep(2) },
    { name: 'tfjs-wasm', run: tfStep('wasm') },
    { name: 'tfjs-cpu', run: tfStep('cpu') },
  ]
  console.log(
    `training step, BN model + Adam, batch ${batch}: ms/step per round, after one untimed step (x = tfjs-wasm / this, same round)`,
  )
  const ms = await rounds(variants, nRounds, per, true, true)
  const w = variants.findIndex((v) => v.name === 'tfjs-wasm')
  for (let k = 0; k < ms[0]!.length; k++)
    console.log(
      `  round ${String(k + 1).padStart(2)}  ${variants
        .map((v, i) => `${v.name} ${fmt(ms[i]![k]!).padStart(7)} (x${fmt(ms[w]![k]! / ms[i]![k]!)})`)
        .join('  ')}`,
    )
  const med = Object.fromEntries(
    variants.map((v, i) => {
      const m = median(ms[i]!)
      return [
        v.name,
        {
          msPerStep: m,
          samplesPerSecond: (batch * 1000) / m,
          // the median of the per-round ratios
          ratioToTfjsWasm: median(ms[i]!.map((t, k) => ms[w]![k]! / t)),
        },
      ]
    }),
  )
  console.log(
    `  median    ${variants
      .map(
        (v) =>
          `${v.name} ${fmt(med[v.name]!.msPerStep).padStart(7)} ms, ${fmt(med[v.name]!.samplesPerSecond, 0)}/s (x${fmt(med[v.name]!.ratioToTfjsWasm)})`,
      )
      .join('  ')}\n`,
  )
  stepResults.push({
    batch,
    rounds: nRounds,
    stepsPerRound: per,
    msPerStep: Object.fromEntries(variants.map((v, i) => [v.name, ms[i]!])),
    median: med,
  })
  for (const b of ['wasm', 'cpu'] as const) tf.dispose([tfIn[b].x, tfIn[b].y])
}

// ---------------------------------------------------------------- 2. matmul GFLOP/s
type Product = { name: string; M: number; K: number; N: number; tA: boolean; tB: boolean }
const products: Product[] = [
  { name: 'A·B   128x784x300', M: 128, K: 784, N: 300, tA: false, tB: false },
  { name: 'A·Bᵀ  128x784x300', M: 128, K: 784, N: 300, tA: false, tB: true },
  { name: 'Aᵀ·B  128x784x300', M: 128, K: 784, N: 300, tA: true, tB: false },
  ...(quick ? [32] : [32, 512]).flatMap((b) => [
    { name: `fwd X·W  ${b}x784x300`, M: b, K: 784, N: 300, tA: false, tB: false },
    { name: `dX  G·Wᵀ ${b}x300x784`, M: b, K: 300, N: 784, tA: false, tB: true },
    { name: `dW  Xᵀ·G 784x${b}x300`, M: 784, K: b, N: 300, tA: true, tB: false },
  ]),
]
const kernelVariants = [
  { name: 'js 1t', kernels: 'js', threads: 1 },
  { name: 'js 2t', kernels: 'js', threads: 2 },
  { name: 'wasm 1t', kernels: 'wasm', threads: 1 },
  { name: 'wasm 2t', kernels: 'wasm', threads: 2 },
] as const
console.log('matmul GFLOP/s, median over interleaved rounds (tfjs-wasm: tf.matMul with dataSync)')
console.log(
  `${'product'.padEnd(22)} ${[...kernelVariants.map((v) => v.name), 'tfjs-wasm'].map((n) => n.padStart(9)).join(' ')}`,
)
await tf.setBackend('wasm')
const matmulResults = []
for (const p of products) {
  const a = resident(uniform(key(1), p.tA ? [p.K, p.M] : [p.M, p.K]))
  const b = resident(uniform(key(2), p.tB ? [p.N, p.K] : [p.K, p.N]))
  const ta = tf.tensor(a.data as Float32Array, [...a.shape])
  const tb = tf.tensor(b.data as Float32Array, [...b.shape])
  const big = p.M * p.K * p.N > 50e6
  const variants: Timed[] = [
    ...kernelVariants.map((v) => ({
      name: v.name,
      run: () => {
        setKernels(v.kernels)
        setThreads(v.threads)
        matmul(a, b, { transposeA: p.tA, transposeB: p.tB })
      },
    })),
    {
      name: 'tfjs-wasm',
      run: () => {
        const c = tf.matMul(ta, tb, p.tA, p.tB)
        c.dataSync()
        c.dispose()
      },
    },
  ]
  const ms = await rounds(variants, quick ? 1 : big ? 5 : 15, 1)
  setKernels(purennKernels)
  tf.dispose([ta, tb])
  const gflops = Object.fromEntries(
    variants.map((v, i) => [v.name, (2 * p.M * p.K * p.N) / median(ms[i]!) / 1e6]),
  )
  console.log(`${p.name.padEnd(22)} ${variants.map((v) => fmt(gflops[v.name]!, 1).padStart(9)).join(' ')}`)
  matmulResults.push({ product: p.name, M: p.M, K: p.K, N: p.N, transposeA: p.tA, transposeB: p.tB, gflops })
}

// ---------------------------------------------------------------- 3. predict
const nPredict = quick ? 1000 : 10_000
const images = uniform(key(5), [nPredict, 28, 28])
const tfImages = tf.tensor3d(images.data as Float32Array, [nPredict, 28, 28])
console.log(`\npredict on ${nPredict} images: images/s, median of rounds (x = this / tfjs-wasm)`)
const predictResults = []
for (const batchSize of quick ? [32] : [32, 1000]) {
  const variants: Timed[] = [
    ...[1, 2].map((threads) => ({
      name: `purenn ${threads} thread${threads === 1 ? '' : 's'}`,
      run: () => {
        setThreads(threads)
        predict(purennModel, images, { batchSize })
      },
    })),
    {
      name: 'tfjs-wasm',
      run: () => {
        const out = tfModels.wasm.predict(tfImages, { batchSize }) as ReturnType<typeof tf.tensor>
        out.dataSync()
        out.dispose()
      },
    },
  ]
  const ms = await rounds(variants, quick ? 1 : 3, 1, !quick)
  const perSecond = Object.fromEntries(variants.map((v, i) => [v.name, (nPredict * 1000) / median(ms[i]!)]))
  const w = perSecond['tfjs-wasm']!
  console.log(
    `  batch ${String(batchSize).padEnd(5)} ${variants.map((v) => `${v.name} ${fmt(perSecond[v.name]!, 0).padStart(7)}/s (x${fmt(perSecond[v.name]! / w)})`).join('  ')}`,
  )
  predictResults.push({
    images: nPredict,
    batchSize,
    imagesPerSecond: perSecond,
    ratioToTfjsWasm: Object.fromEntries(variants.map((v) => [v.name, perSecond[v.name]! / w])),
  })
}
tfImages.dispose()

// ---------------------------------------------------------------- 4. peak RSS, child processes
console.log(
  `\npeak RSS of a one-epoch training process (batch 32, Adam${quick ? ', 1,000 synthetic images' : ', Fashion-MNIST'}), each in its own process`,
)
const child = fileURLToPath(new URL('./rss-child.ts', import.meta.url))
const rss = []
for (const [who, threads] of [
  ['purenn', 1],
  ['purenn', 2],
  ['tfjs-wasm', 1],
] as const) {
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, child, who, String(threads), ...(quick ? ['--quick'] : [])],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
  )
  const last = r.stdout.trim().split('\n').at(-1) ?? ''
  if (r.status !== 0 || !last.startsWith('{'))
    throw new Error(`bench: the ${who} child failed (status ${r.status}): ${r.stdout}`)
  const got = JSON.parse(last) as { peakRssMiB: number; rssAfterDataMiB: number; epochSeconds: number }
  console.log(
    `  ${`${who}, ${threads} thread${threads === 1 ? '' : 's'}`.padEnd(20)} peak ${fmt(got.peakRssMiB, 0).padStart(5)} MiB` +
      `  (after loading the data ${fmt(got.rssAfterDataMiB, 0)} MiB; epoch ${fmt(got.epochSeconds, 1)} s)`,
  )
  rss.push({ who, threads, ...got })
}

const out = quick ? 'out/bench-quick.json' : 'out/bench.json'
mkdirSync('out', { recursive: true })
writeFileSync(
  out,
  `${JSON.stringify(
    {
      quick,
      machine: { ...machine, loadAverageAtEnd: load() },
      purennKernels,
      tfjs: { version: tf.version_core, wasmSimd: tfInfo.simd, wasmThreads: tfInfo.multithread },
      trainStep: stepResults,
      matmul: matmulResults,
      predict: predictResults,
      peakRss: rss,
    },
    null,
    2,
  )}\n`,
)
console.log(`\nload average at the end ${load().join(' ')}; written: ${out}`)
