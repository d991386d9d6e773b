/**
 * The fused dense and softmax/crossentropy kernels, js against wasm (`setKernels`) in one
 * process, on one thread, interleaved round-robin (load from other processes hits every
 * variant alike): medians of
 *
 * 1. `denseOp` forward and forward + backward at the chapter's shapes (batch 32 and 512,
 *    784→300, 300→100, 100→10) for each fused activation, against the unfused composition
 *    `act(add(matmul(x, W), b))` on the same kernel set;
 * 2. `sparseSoftmaxCrossentropy` (value and gradient) against the composition
 *    `−gather(logSoftmax(z))`, and `fusedSoftmax` against `softmax(x, −1)`, batch 32 and 512
 *    by 10 classes.
 *
 * Writes `out/bench-dense-softmax.json`. Run: npx tsc -b && npx tsx bench/dense-softmax.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import {
  add,
  type DenseActivation,
  denseOp,
  elu,
  fusedSoftmax,
  gather,
  key,
  leakyRelu,
  logSoftmax,
  matmul,
  mul,
  neg,
  relu,
  reshape,
  selu,
  setKernels,
  setThreads,
  softmax,
  sparseSoftmaxCrossentropy,
  sum,
  type Tensor,
  tensor,
  uniform,
  valueAndGrad,
} from '../packages/tensor/dist/index.js'

const reps = Number(process.env.BENCH_REPS ?? 31)
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Median ms of each function, interleaved; `inner` calls per timing. */
const timeAll = (fns: readonly (() => void)[], inner: number): number[] => {
  const ts = fns.map((): number[] => [])
  for (let r = 0; r < reps + 3; r++)
    fns.forEach((f, i) => {
      const t0 = performance.now()
      for (let k = 0; k < inner; k++) f()
      if (r >= 3) ts[i]!.push((performance.now() - t0) / inner)
    })
  return ts.map(median)
}

const withSet = (set: 'js' | 'wasm', f: () => void) => () => {
  setKernels(set)
  f()
}

const composed = (act: DenseActivation) => (x: Tensor, w: Tensor, b: Tensor) => {
  const z = add(matmul(x, w), b)
  return act === 'relu'
    ? relu(z)
    : act === 'elu'
      ? elu(z)
      : act === 'selu'
        ? selu(z)
        : act === 'leakyRelu'
          ? leakyRelu(z)
          : z
}

setThreads(1)
const results: Record<string, unknown>[] = []
const fmt = (x: number) => x.toFixed(3).padStart(8)
console.log(
  `fused dense: ms per call, median of ${reps}, 1 thread; load ${loadavg()[0]!.toFixed(2)} on ${cpus()[0]?.model}`,
)
console.log(
  'shape               act        | js unfused  js fused | wasm unfused wasm fused | fused wasm/js  wasm fused/unfused',
)
for (const [batch, nIn, nOut] of [
  [32, 784, 300],
  [32, 300, 100],
  [32, 100, 10],
  [512, 784, 300],
  [512, 300, 100],
] as const)
  for (const act of ['relu', 'elu', 'selu'] as const)
    for (const pass of ['fwd', 'fwd+bwd'] as const) {
      const [k1, k2, k3, k4] = [key(1), key(2), key(3), key(4)]
      const x = uniform(k1, [batch, nIn], { minval: -1, maxval: 1 })
      const w = uniform(k2, [nIn, nOut], { minval: -0.1, maxval: 0.1 })
      const b = uniform(k3, [nOut], { minval: -0.1, maxval: 0.1 })
      const g = uniform(k4, [batch, nOut], { minval: -1, maxval: 1 })
      const f = (op: (x: Tensor, w: Tensor, b: Tensor) => Tensor) =>
        pass === 'fwd'
          ? () => void op(x, w, b)
          : () =>
              void valueAndGrad((p: { w: Tensor; b: Tensor; x: Tensor }) => sum(mul(op(p.x, p.w, p.b), g)))({
                x,
                w,
                b,
              })
      const fused = (x: Tensor, w: Tensor, b: Tensor) => denseOp(x, w, b, act)
      const inner = batch * nIn * nOut > 5e6 ? 1 : 10
      const [ju, jf, wu, wf] = timeAll(
        [
          withSet('js', f(composed(act))),
          withSet('js', f(fused)),
          withSet('wasm', f(composed(act))),
          withSet('wasm', f(fused)),
        ],
        inner,
      ) as [number, number, number, number]
      const shape = `${batch}x${nIn}->${nOut} ${pass}`
      console.log(
        `${shape.padEnd(20)}${act.padEnd(10)} | ${fmt(ju)} ${fmt(jf)} | ${fmt(wu)}    ${fmt(wf)} | ${(wf / jf).toFixed(2).padStart(10)}  ${(wf / wu).toFixed(2).padStart(12)}`,
      )
      results.push({
        bench: 'denseOp',
        batch,
        nIn,
        nOut,
        act,
        pass,
        jsUnfused: ju,
        jsFused: jf,
        wasmUnfused: wu,
        wasmFused: wf,
      })
    }

console.log('\nsoftmax heads, 10 classes: ms per call (value and gradient)')
console.log(
  'op                     batch | js composed js fused | wasm composed wasm fused | fused wasm/js  wasm fused/composed',
)
for (const batch of [32, 512]) {
  const z = uniform(key(5), [batch, 10], { minval: -5, maxval: 5 })
  const labels = tensor(Array.from({ length: batch }, (_, r) => (r * 7) % 10))
  const flat = Int32Array.from({ length: batch }, (_, r) => r * 10 + ((r * 7) % 10))
  const g = uniform(key(6), [batch, 10], { minval: -1, maxval: 1 })
  const xentF = () => void valueAndGrad((x: Tensor) => sum(sparseSoftmaxCrossentropy(x, labels)))(z)
  const xentC = () =>
    void valueAndGrad((x: Tensor) => sum(neg(gather(reshape(logSoftmax(x, -1), [-1]), flat))))(z)
  const smF = () => void valueAndGrad((x: Tensor) => sum(mul(fusedSoftmax(x), g)))(z)
  const smC = () => void valueAndGrad((x: Tensor) => sum(mul(softmax(x, -1), g)))(z)
  for (const [name, c, f] of [
    ['sparseSoftmaxXent', xentC, xentF],
    ['softmax', smC, smF],
  ] as const) {
    const [jc, jf, wc, wf] = timeAll(
      [withSet('js', c), withSet('js', f), withSet('wasm', c), withSet('wasm', f)],
      50,
    ) as [number, number, number, number]
    console.log(
      `${name.padEnd(22)} ${String(batch).padStart(5)} | ${fmt(jc)}  ${fmt(jf)} | ${fmt(wc)}    ${fmt(wf)} | ${(wf / jf).toFixed(2).padStart(10)}  ${(wf / wc).toFixed(2).padStart(12)}`,
    )
    results.push({
      bench: name,
      batch,
      classes: 10,
      jsComposed: jc,
      jsFused: jf,
      wasmComposed: wc,
      wasmFused: wf,
    })
  }
}
mkdirSync('out', { recursive: true })
writeFileSync(
  'out/bench-dense-softmax.json',
  `${JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, reps, results }, null, 1)}\n`,
)
console.log('\nwrote out/bench-dense-softmax.json')
