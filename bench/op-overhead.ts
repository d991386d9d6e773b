/**
 * Per-op overhead (issue 14, item 3): what an op costs beyond its arithmetic, on the sizes of
 * a batch-32 step. Times tiny ops end to end (add, mul, matmul of 32x10, a dense layer, a
 * `valueAndGrad`) and the parts they are made of, each alone:
 *
 * - kernel: the loop itself, into a buffer made beforehand;
 * - allocation: a fresh zeroed `Float32Array`, plain or on a SharedArrayBuffer (what `alloc`
 *   makes from 2^14 elements on when more than one thread is set);
 * - wrapping: `fromBuffer` (the frozen tensor object);
 * - tape node: the same op on a traced input inside a running trace, minus untraced;
 * - kernel dispatch: the generated WebAssembly elementwise kernel (operands copied into and
 *   out of its memory) against the js loop, on the same sizes;
 * - thread hand-off: `runChunks` of an empty kernel on 2 threads (workers polling, and
 *   workers asleep) against calling it inline; and the products of a step at batch 32 on 1
 *   and 2 threads, which is where the minimum sizes for the pool come from.
 *
 * Times are medians over interleaved rounds, in µs per op (the machines are shared: compare
 * lines of one run, not runs). Imports the built `dist/` (run `npx tsc -b` first; the pnpm
 * script does), internals included, so that the pool measured is the one the ops use.
 *
 * Run: pnpm bench:overhead
 */
import { loadavg } from 'node:os'
import {
  add,
  denseOp,
  getKernels,
  key,
  matmul,
  mul,
  setKernels,
  setThreads,
  square,
  sum,
  type Tensor,
  uniform,
  valueAndGrad,
} from '../packages/tensor/dist/index.js'
import { __poolForTests, alloc, fromBuffer } from '../packages/tensor/dist/internal/index.js'
import { type PoolKernel, runChunks } from '../packages/tensor/dist/internal/pool.js'
import { newTrace, traceLeaf } from '../packages/tensor/dist/internal/tape.js'

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const rounds = Number(process.env.BENCH_ROUNDS ?? 15)

interface Case {
  readonly name: string
  /** Runs the measured thing `n` times. */
  readonly run: (n: number) => void
  /** Repetitions per round (so that a round takes ~1 ms or more). */
  readonly n: number
  readonly threads?: number
}

/** Median µs per call of each case, measured round-robin (round 0 is a warm-up). */
const measure = (cases: readonly Case[]): number[] => {
  const us = cases.map((): number[] => [])
  for (let r = 0; r <= rounds; r++)
    for (const [i, c] of cases.entries()) {
      setThreads(c.threads ?? 1)
      const t0 = performance.now()
      c.run(c.n)
      const dt = performance.now() - t0
      if (r > 0) us[i]!.push((1000 * dt) / c.n)
    }
  return us.map(median)
}

const print = (title: string, cases: readonly Case[], base?: number): void => {
  const t = measure(cases)
  console.log(`\n${title}`)
  for (const [i, c] of cases.entries()) {
    const over =
      base === undefined ? '' : `  (${(t[i]! - t[base]!).toFixed(2).padStart(7)} over line ${base + 1})`
    console.log(`  ${c.name.padEnd(52)} ${t[i]!.toFixed(2).padStart(9)} µs${over}`)
  }
}

setKernels('wasm')
console.log(
  `op overhead: kernels ${getKernels()}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, ${rounds} rounds (µs per op, median)`,
)

// ------------------------------------------------------------ elementwise on 32x10
const x = uniform(key(1), [32, 10])
const y = uniform(key(2), [32, 10])
const x32 = uniform(key(3), [32, 300])
const y32 = uniform(key(4), [32, 300])
const X = x.data as Float32Array
const Y = y.data as Float32Array
const out = new Float32Array(320)
let sink = 0
const loopAdd = (a: Float32Array, b: Float32Array, o: Float32Array): void => {
  for (let i = 0; i < o.length; i++) o[i] = a[i]! + b[i]!
}
print('add of 32x10 and its parts (1 thread)', [
  {
    name: 'kernel: the js loop into a ready buffer',
    n: 20000,
    run: (n) => {
      for (let i = 0; i < n; i++) loopAdd(X, Y, out)
    },
  },
  {
    name: 'allocation: new Float32Array(320)',
    n: 20000,
    run: (n) => {
      for (let i = 0; i < n; i++) sink += new Float32Array(320).length
    },
  },
  {
    name: 'wrapping: fromBuffer([32, 10], buffer)',
    n: 20000,
    run: (n) => {
      for (let i = 0; i < n; i++) sink += fromBuffer([32, 10], out).size
    },
  },
  {
    name: 'add(x, y), untraced',
    n: 20000,
    run: (n) => {
      for (let i = 0; i < n; i++) sink += add(x, y).size
    },
  },
  {
    name: 'mul(x, y), untraced',
    n: 20000,
    run: (n) => {
      for (let i = 0; i < n; i++) sink += mul(x, y).size
    },
  },
  {
    name: 'add(x, bias [10]), broadcast, untraced',
    n: 20000,
    run: (n) => {
      const b = uniform(key(5), [10])
      for (let i = 0; i < n; i++) sink += add(x, b).size
    },
  },
  {
    name: 'add(x, 2), scalar, untraced',
    n: 20000,
    run: (n) => {
      for (let i = 0; i < n; i++) sink += add(x, 2).size
    },
  },
])

// ------------------------------------------------------------ the tape
{
  const trace = newTrace()
  const tx = traceLeaf(trace, x)
  print(
    'tape nodes: the same ops on a traced input of a running trace (1 thread)',
    [
      {
        name: 'add(x, y), untraced',
        n: 20000,
        run: (n) => {
          for (let i = 0; i < n; i++) sink += add(x, y).size
        },
      },
      {
        name: 'add(tx, y), traced (records a node)',
        n: 20000,
        run: (n) => {
          for (let i = 0; i < n; i++) sink += add(tx, y).size
        },
      },
      {
        name: 'mul(tx, y), traced',
        n: 20000,
        run: (n) => {
          for (let i = 0; i < n; i++) sink += mul(tx, y).size
        },
      },
      {
        name: 'matmul(x 32x10, w 10x10), untraced',
        n: 20000,
        run: (n) => {
          const w = uniform(key(6), [10, 10])
          for (let i = 0; i < n; i++) sink += matmul(x, w).size
        },
      },
      {
        name: 'matmul(tx 32x10, w 10x10), traced',
        n: 20000,
        run: (n) => {
          const w = uniform(key(6), [10, 10])
          for (let i = 0; i < n; i++) sink += matmul(tx, w).size
        },
      },
    ],
    0,
  )
  trace.active = false
}

// ------------------------------------------------------------ whole small ops and a gradient
{
  const w1 = uniform(key(7), [100, 10])
  const b1 = uniform(key(8), [10])
  const h = uniform(key(9), [32, 100])
  const f = (p: { w: Tensor }) => sum(square(p.w))
  const g = valueAndGrad(f)
  const loss = (p: { w: Tensor; b: Tensor }) => sum(denseOp(h, p.w, p.b, 'relu'))
  const gd = valueAndGrad(loss)
  print('small ops end to end (1 thread)', [
    {
      name: 'denseOp(h 32x100, w 100x10, b, relu)',
      n: 5000,
      run: (n) => {
        for (let i = 0; i < n; i++) sink += denseOp(h, w1, b1, 'relu').size
      },
    },
    {
      name: 'valueAndGrad(sum(square(w))), w 32x10',
      n: 5000,
      run: (n) => {
        for (let i = 0; i < n; i++) sink += g({ w: x }).value.size
      },
    },
    {
      name: 'valueAndGrad(sum(denseOp(h, w, b, relu)))',
      n: 2000,
      run: (n) => {
        for (let i = 0; i < n; i++) sink += gd({ w: w1, b: b1 }).value.size
      },
    },
  ])
}

// ------------------------------------------------------------ kernel dispatch: wasm vs js loop
print('kernel dispatch: add of 32x300 (9600 elements, 1 thread)', [
  {
    name: "add, kernels 'js'",
    n: 2000,
    run: (n) => {
      setKernels('js')
      for (let i = 0; i < n; i++) sink += add(x32, y32).size
      setKernels('wasm')
    },
  },
  {
    name: "add, kernels 'wasm' (copies in and out)",
    n: 2000,
    run: (n) => {
      for (let i = 0; i < n; i++) sink += add(x32, y32).size
    },
  },
])

// ------------------------------------------------------------ allocation, plain and shared
const big = 784 * 300
print(`allocation of a [784, 300] buffer (${big} floats), zeroed then filled`, [
  {
    name: 'new Float32Array(n)',
    n: 200,
    run: (n) => {
      for (let i = 0; i < n; i++) sink += new Float32Array(big).fill(1)[7]!
    },
  },
  {
    name: 'new Float32Array(new SharedArrayBuffer(4n))',
    n: 200,
    run: (n) => {
      for (let i = 0; i < n; i++) sink += new Float32Array(new SharedArrayBuffer(4 * big)).fill(1)[7]!
    },
  },
  {
    name: 'alloc(n) on 2 threads (as the ops get it)',
    n: 200,
    threads: 2,
    run: (n) => {
      for (let i = 0; i < n; i++) sink += alloc(big).fill(1)[7]!
    },
  },
])

// ------------------------------------------------------------ thread hand-off
const empty: PoolKernel<readonly [Float32Array]> = {
  name: 'bench:empty',
  parts: [['empty', (args: readonly [Float32Array], chunk: number) => void (args[0][chunk] = chunk)]],
  entry: (args, chunk) => void (args[0][chunk] = chunk),
}
const flags = new Float32Array(new SharedArrayBuffer(4 * 64))
setThreads(2)
runChunks('bench', empty, [flags], 2) // start the pool and install the kernel
await sleep(200)
/** One pooled op of 2 empty chunks, never inline after a lag (the hand-off itself is measured). */
const handOff = (): void => {
  __poolForTests.endInline()
  runChunks('bench', empty, [flags], 2)
}
print(
  'thread hand-off: an op of 2 empty chunks',
  [
    {
      name: 'inline: the 2 chunks on the calling thread',
      n: 20000,
      run: (n) => {
        for (let i = 0; i < n; i++) {
          empty.entry([flags], 0)
          empty.entry([flags], 1)
        }
      },
    },
    {
      name: 'pool, 2 threads, back to back (worker polling)',
      n: 2000,
      threads: 2,
      run: (n) => {
        for (let i = 0; i < n; i++) handOff()
      },
    },
  ],
  0,
)
{
  // a worker that has slept: the op comes 2 ms after the last one (past the polling window)
  const asleep: number[] = []
  const after: number[] = []
  for (let r = 0; r < 40; r++) {
    await sleep(2)
    const t0 = performance.now()
    handOff()
    const t1 = performance.now()
    handOff()
    asleep.push(1000 * (t1 - t0))
    after.push(1000 * (performance.now() - t1))
  }
  console.log(
    `  ${'pool, 2 threads, worker woken from sleep'.padEnd(52)} ${median(asleep).toFixed(2).padStart(9)} µs  (the op right after: ${median(after).toFixed(2)} µs; ${asleep.filter((t) => t > 100).length} of 40 over 100 µs)`,
  )
}
__poolForTests.endInline()

// ------------------------------------------------------------ the products of a batch-32 step
const products = [
  ['fwd 32x784x300', [32, 784], [784, 300], {}],
  ['fwd 32x300x100', [32, 300], [300, 100], {}],
  ['fwd 32x100x10', [32, 100], [100, 10], {}],
  ['dX 32x10x100 (G·Wᵀ)', [32, 10], [100, 10], { transposeB: true }],
  ['dX 32x100x300 (G·Wᵀ)', [32, 100], [300, 100], { transposeB: true }],
  ['dW 100x32x10 (Xᵀ·G)', [32, 100], [32, 10], { transposeA: true }],
  ['dW 300x32x100 (Xᵀ·G)', [32, 300], [32, 100], { transposeA: true }],
  ['dW 784x32x300 (Xᵀ·G)', [32, 784], [32, 300], { transposeA: true }],
] as const
for (const kernels of ['wasm', 'js'] as const) {
  const cases: Case[] = products.flatMap(([name, as, bs, opts]) => {
    const a = uniform(key(10), [...as])
    const b = uniform(key(11), [...bs])
    const run = (n: number) => {
      setKernels(kernels)
      for (let i = 0; i < n; i++) sink += matmul(a, b, opts).size
      setKernels('wasm')
    }
    const madds = as[0] * as[1] * (bs[0] === as[0] || bs[0] === as[1] ? bs[1] : bs[0])
    const n = Math.max(3, Math.min(3000, Math.round(3e7 / madds)))
    return [
      { name: `${name}, 1 thread`, n, run, threads: 1 },
      { name: `${name}, 2 threads`, n, run, threads: 2 },
    ]
  })
  print(`matmul of a batch-32 step, kernels '${kernels}'`, cases)
}
if (sink === 42) console.log('')
