/**
 * The elementwise and sum kernels, plain TypeScript ('js') against the generated
 * WebAssembly SIMD ones ('wasm', operand copies included), on one thread: median µs per op
 * over interleaved repetitions for sizes around the threshold `ELEMENTWISE_WASM_MIN`, and
 * the ratio js / wasm, measured in the same process (the machines are shared and noisy:
 * absolute times are indicative only). Below the threshold the 'wasm' set runs the plain
 * loops too, so this bench calls the kernels of `internal/wasm/elementwise-run.ts` directly.
 *
 * Run: npx tsx bench/elementwise.ts
 */
import { map, reduce, zip } from '../packages/tensor/src/internal/kernels.js'
import {
  ELEMENTWISE_WASM_MIN,
  wasmBinaryInto,
  wasmSumInto,
  wasmUnaryInto,
} from '../packages/tensor/src/internal/wasm/elementwise-run.js'
import { setKernels } from '../packages/tensor/src/kernelset.js'

/** Runs `f` on the plain loops. */
const plain = (f: () => void): void => {
  setKernels('js')
  f()
  setKernels('wasm')
}

const reps = Number(process.env.BENCH_REPS ?? 201)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const data = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + s))

/** µs per call of `f`, timed over enough calls to take ~50 µs. */
const time = (f: () => void, inner: number): number => {
  const t0 = performance.now()
  for (let i = 0; i < inner; i++) f()
  return ((performance.now() - t0) * 1000) / inner
}

console.log(
  `elementwise kernels, median µs per op over ${reps} interleaved runs (threshold now ${ELEMENTWISE_WASM_MIN})`,
)
console.log('op                         n        js      wasm   js/wasm')
for (const n of [64, 256, 1024, 4096, 16384, 65536, 262144]) {
  const a = data(n, 1)
  const b = data(n, 2)
  const cols = Math.min(n, 256)
  const out = new Float32Array(n)
  const small = new Float32Array(cols)
  const one = new Float32Array(1)
  // the js column calls the plain loops directly ('add-js' has no kernel; a js set for the sums)
  const cases: [string, () => void, () => void][] = [
    [
      'add',
      () => zip('add-js', a, [n], b, [n], (x, y) => x + y),
      () => wasmBinaryInto('add', a, b, out, 1, n),
    ],
    ['relu', () => map(a, (v) => Math.max(v, 0), 'relu-js'), () => wasmUnaryInto('relu', a, out)],
    [
      'sum over rows (bias grad)',
      () => plain(() => reduce(a, [n / cols, cols], [0], 'sum')),
      () => wasmSumInto(a, small, 1, n / cols, cols),
    ],
    ['sum of all', () => plain(() => reduce(a, [n], [0], 'sum')), () => wasmSumInto(a, one, 1, n, 1)],
  ]
  const inner = Math.max(1, Math.round(20000 / n))
  for (const [name, js, wasm] of cases) {
    const t: [number[], number[]] = [[], []]
    for (let r = 0; r < reps; r++) {
      t[0].push(time(js, inner))
      t[1].push(time(wasm, inner))
    }
    const [tj, tw] = t.map(median) as [number, number]
    console.log(
      `${name.padEnd(26)}${String(n).padStart(7)}${tj.toFixed(2).padStart(10)}${tw.toFixed(2).padStart(10)}${(tj / tw).toFixed(2).padStart(9)}x`,
    )
  }
}
