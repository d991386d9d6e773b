/**
 * Matmul benchmark: a naive i-k-j loop (the baseline, measured in this same process) vs
 * `matmulInto` inline on one thread vs on the worker pool with two threads, for the
 * products of one training step of the chapter's 784-300-100 model at batch 32 (forward
 * and the transposed backprop forms, which `matmul` turns into plain products).
 *
 * Prints medians over repeated runs, GFLOP/s and ratios against the baseline; absolute
 * times alone say little across machines, ratios measured together do.
 *
 * These are the plain TypeScript kernels (`setKernels('js')`); bench/kernels.ts sets them
 * beside the generated WebAssembly SIMD ones.
 *
 * Run: `npx tsx bench/run.ts` (or `pnpm bench`).
 */

import {
  matmulInto,
  matmulOnPool,
  matmulRows,
  POOL_MIN_MADDS,
} from '../packages/tensor/src/internal/matmul.js'
import { __poolForTests } from '../packages/tensor/src/internal/pool.js'
import { setKernels } from '../packages/tensor/src/kernelset.js'
import { setThreads } from '../packages/tensor/src/threads.js'

setKernels('js')

/** Buffers as `alloc` makes them: on a SharedArrayBuffer from 16384 floats on. */
const alloc = (n: number): Float32Array =>
  n >= 1 << 14 ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n)

let seed = 12345
const random = (n: number): Float32Array => {
  const x = alloc(n)
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
    x[i] = seed / 2 ** 32 - 0.5
  }
  return x
}

/** The baseline: C += A·B with the plain i-k-j loop, float32 accumulation in C. */
const naive = (a: Float32Array, b: Float32Array, c: Float32Array, M: number, K: number, N: number): void => {
  for (let i = 0; i < M; i++)
    for (let k = 0; k < K; k++) {
      const x = a[i * K + k]!
      const bk = k * N
      const ci = i * N
      for (let j = 0; j < N; j++) c[ci + j]! += x * b[bk + j]!
    }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/**
 * Median wall times (ms) of the functions in `fs`, measured round-robin: rep r runs each
 * function once, in turn, so load from other processes hits every variant alike.
 */
const timeInterleaved = (fs: readonly (() => void)[], reps: number, warm = 5): number[] => {
  const ts = fs.map((): number[] => [])
  for (let r = 0; r < warm + reps; r++)
    fs.forEach((f, i) => {
      const t0 = performance.now()
      f()
      if (r >= warm) ts[i]!.push(performance.now() - t0)
    })
  return ts.map(median)
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Starts the 2-thread pool and lets its worker start (start-up is not measured). */
const startPool = async (): Promise<void> => {
  setThreads(2)
  const a = random(64 * 64)
  matmulOnPool(a, 0, a, 0, alloc(64 * 64), 0, 64, 64, 64)
  await sleep(300)
}

const pad = (s: string, n: number): string => s.padStart(n)

interface Case {
  readonly name: string
  readonly M: number
  readonly K: number
  readonly N: number
  /** B stored as [N,K] and read in place (the form of backprop's dX = G·Wᵀ). */
  readonly bT?: boolean
}
const cases: Case[] = [
  { name: 'forward  [32,784]x[784,300]', M: 32, K: 784, N: 300 },
  { name: 'forward  [32,300]x[300,100]', M: 32, K: 300, N: 100 },
  { name: 'dW       [784,32]x[32,300] ', M: 784, K: 32, N: 300 },
  { name: 'dX       [32,300]x[784,300]ᵀ', M: 32, K: 300, N: 784, bT: true },
]

const reps = Number(process.env.BENCH_REPS ?? 41)
type Row = { naive: number; inline: number; pooled: number }

await startPool()
const before = __poolForTests.chunksByWorkers()
const rows: Row[] = cases.map(({ M, K, N, bT = false }) => {
  const a = random(M * K)
  const b = random(K * N)
  // outputs allocated once, out of the timed region (matmulInto overwrites its rows; the
  // baseline accumulates into its own, which does not change its speed)
  const [c0, c1, c2] = [alloc(M * N), alloc(M * N), alloc(M * N)]
  const [naiveMs, inlineMs, pooledMs] = timeInterleaved(
    [
      () => naive(a, b, c0, M, K, N),
      () => {
        setThreads(1)
        matmulInto(a, 0, b, 0, c1, 0, M, K, N, bT)
      },
      () => {
        setThreads(2)
        matmulInto(a, 0, b, 0, c2, 0, M, K, N, bT)
      },
    ],
    reps,
  )
  return { naive: naiveMs!, inline: inlineMs!, pooled: pooledMs! }
})
const byWorkers = __poolForTests.chunksByWorkers() - before

const gflops = (c: Case, ms: number): string => ((2 * c.M * c.K * c.N) / ms / 1e6).toFixed(2)
console.log(
  `matmul, median of ${reps} interleaved runs each (Node ${process.version}); x = the other median / this median\n`,
)
console.log(
  `${'product'.padEnd(28)} | ${pad('naive ms', 9)} ${pad('GF/s', 6)} | ${pad('1 thr ms', 9)} ${pad('GF/s', 6)} ${pad('x naive', 8)}` +
    ` | ${pad('2 thr ms', 9)} ${pad('GF/s', 6)} ${pad('x naive', 8)} ${pad('x 1 thr', 8)}`,
)
let tot: Row = { naive: 0, inline: 0, pooled: 0 }
cases.forEach((c, i) => {
  const r = rows[i]!
  tot = { naive: tot.naive + r.naive, inline: tot.inline + r.inline, pooled: tot.pooled + r.pooled }
  console.log(
    `${c.name.padEnd(28)} | ${pad(r.naive.toFixed(3), 9)} ${pad(gflops(c, r.naive), 6)} | ` +
      `${pad(r.inline.toFixed(3), 9)} ${pad(gflops(c, r.inline), 6)} ${pad((r.naive / r.inline).toFixed(2), 8)} | ` +
      `${pad(r.pooled.toFixed(3), 9)} ${pad(gflops(c, r.pooled), 6)} ${pad((r.naive / r.pooled).toFixed(2), 8)} ` +
      `${pad((r.inline / r.pooled).toFixed(2), 8)}`,
  )
})
console.log(
  `${'sum of the four'.padEnd(28)} | ${pad(tot.naive.toFixed(3), 9)} ${pad('', 6)} | ${pad(tot.inline.toFixed(3), 9)} ` +
    `${pad('', 6)} ${pad((tot.naive / tot.inline).toFixed(2), 8)} | ${pad(tot.pooled.toFixed(3), 9)} ${pad('', 6)} ` +
    `${pad((tot.naive / tot.pooled).toFixed(2), 8)} ${pad((tot.inline / tot.pooled).toFixed(2), 8)}`,
)
console.log(`(chunks run by the worker in the 2-thread runs: ${byWorkers})`)

// All the products of one training step of the 784-300-100-10 model at batch 32, back to
// back as in training (small ones run inline, large ones on the pool): forward, then for
// each layer from the top dW = Xᵀ·G (Xᵀ copied, so a plain product) and dX = G·Wᵀ (W read
// in place: the transposed-B kernel, flagged true).
const step: [number, number, number, boolean][] = [
  [32, 784, 300, false],
  [32, 300, 100, false],
  [32, 100, 10, false],
  [100, 32, 10, false],
  [32, 10, 100, true],
  [300, 32, 100, false],
  [32, 100, 300, true],
  [784, 32, 300, false],
]
const stepIn = step.map(([M, K, N]) => ({ a: random(M * K), b: random(K * N), c: alloc(M * N) }))
const runStep = (
  f: (
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    M: number,
    K: number,
    N: number,
    bT: boolean,
  ) => void,
) =>
  step.forEach(([M, K, N, bT], i) => {
    const { a, b, c } = stepIn[i]!
    f(a, b, c, M, K, N, bT)
  })
const [stepNaive, stepInline, stepPooled] = timeInterleaved(
  [
    () => runStep(naive),
    () => {
      setThreads(1)
      runStep((a, b, c, M, K, N, bT) => matmulInto(a, 0, b, 0, c, 0, M, K, N, bT))
    },
    () => {
      setThreads(2)
      runStep((a, b, c, M, K, N, bT) => matmulInto(a, 0, b, 0, c, 0, M, K, N, bT))
    },
  ],
  reps,
)
const stepFlops = step.reduce((t, [M, K, N]) => t + 2 * M * K * N, 0)
const gf = (ms: number): string => (stepFlops / ms / 1e6).toFixed(2)
console.log(
  `\none training step (the 8 products, back to back): naive ${stepNaive!.toFixed(3)} ms (${gf(stepNaive!)} GF/s), ` +
    `1 thread ${stepInline!.toFixed(3)} ms (${gf(stepInline!)} GF/s, x${(stepNaive! / stepInline!).toFixed(2)} naive), ` +
    `2 threads ${stepPooled!.toFixed(3)} ms (${gf(stepPooled!)} GF/s, x${(stepNaive! / stepPooled!).toFixed(2)} naive, ` +
    `x${(stepInline! / stepPooled!).toFixed(2)} 1 thread)`,
)

// Where the pool starts to pay: the inline kernel (matmulRows) vs always-pooled
// (matmulOnPool, 2 threads) on growing products, to place the threshold POOL_MIN_MADDS.
console.log(`\npool threshold: M·K·N >= ${POOL_MIN_MADDS} goes to the pool; inline vs 2 threads around it:`)
console.log(
  `${pad('M·K·N', 9)} ${'shape'.padEnd(14)} ${pad('1 thr us', 9)} ${pad('2 thr us', 9)} ${pad('x 1 thr', 8)}`,
)
for (const [M, K, N] of [
  [16, 32, 64],
  [16, 64, 64],
  [32, 64, 64],
  [32, 64, 100],
  [32, 100, 100],
  [32, 128, 128],
  [32, 200, 200],
] as const) {
  const a = random(M * K)
  const b = random(K * N)
  const [c1, c2] = [alloc(M * N), alloc(M * N)]
  const [t1, t2] = timeInterleaved(
    [() => matmulRows(a, 0, b, 0, c1, 0, K, N, 0, M), () => matmulOnPool(a, 0, b, 0, c2, 0, M, K, N)],
    301,
    50,
  )
  console.log(
    `${pad(String(M * K * N), 9)} ${`${M}x${K}x${N}`.padEnd(14)} ${pad((t1! * 1000).toFixed(1), 9)} ` +
      `${pad((t2! * 1000).toFixed(1), 9)} ${pad((t1! / t2!).toFixed(2), 8)}  matmulInto: ${M * K * N >= POOL_MIN_MADDS ? 'pool' : 'inline'}`,
  )
}
