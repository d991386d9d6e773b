/**
 * Where the time of a training step goes: runs training steps of the chapter's batch-norm
 * model with Adam under the V8 sampling profiler (`node:inspector`, in this process) and
 * prints self time per function and per source file, largest first. Inputs are random; the
 * work does not depend on the values. The kernel set and thread count are the process's
 * (`PURENN_KERNELS`, `PURENN_THREADS`).
 *
 * Run: npx tsc -b && npx tsx bench/profile-step.ts [batch] [steps] [chain]   (defaults 32 and 300;
 * `chain` takes Adam without its fused step, as update then applyUpdates, to compare)
 */
import { Session } from 'node:inspector/promises'
import { bnAfter } from '../examples/lib/chapter.js'
import { accuracy, initModel, sparseCategoricalCrossentropy } from '../packages/layers/dist/index.js'
import { adam } from '../packages/optim/dist/index.js'
import { getKernels, getThreads, key, type Tensor, tensor, uniform } from '../packages/tensor/dist/index.js'
import { allocOwned, fromBuffer } from '../packages/tensor/dist/internal/index.js'
import { makeTrainer } from '../packages/train/dist/index.js'
import { makeLedger } from '../packages/train/dist/internal.js'

/** The part of a V8 CPU profile this script reads. */
interface Profile {
  readonly nodes: readonly {
    readonly id: number
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  }[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

const [batchArg = '32', stepsArg = '300', way = 'fused'] = process.argv.slice(2)
const batchSize = Number(batchArg)
const steps = Number(stepsArg)
if (
  !Number.isInteger(batchSize) ||
  batchSize < 1 ||
  !Number.isInteger(steps) ||
  steps < 1 ||
  (way !== 'fused' && way !== 'chain')
)
  throw new Error(
    `usage: profile-step.ts [batch >= 1] [steps >= 1] [fused|chain], got ${batchArg} ${stepsArg} ${way}`,
  )

const model = initModel(bnAfter(), { key: key(0) })
/** `t` on a block of the kernels' memory for good, as fit makes each batch (read in place). */
const resident = (t: Tensor): Tensor => {
  const data = allocOwned(t.size)
  data.set(t.data as Float32Array)
  return fromBuffer(t.shape, data)
}
const batch = {
  x: resident(uniform(key(1), [batchSize, 28, 28])),
  y: resident(tensor(Float32Array.from({ length: batchSize }, (_, i) => i % 10))),
}
const fused = adam()
// without `applyStep`, fit's step runs Adam's chain: update, then applyUpdates
const optimizer = way === 'fused' ? fused : { init: fused.init, update: fused.update }
// as fit runs it: the optimizer's results in owned buffers, freed by a ledger two steps on
const trainer = makeTrainer({
  loss: sparseCategoricalCrossentropy(),
  metrics: [accuracy],
  optimizer,
  ownedBuffers: true,
})
let s = trainer.init(model)
const ledger = makeLedger(s)
const step = (i: number) => {
  const prev = s
  s = trainer.step(s, batch, key(i)).state
  ledger.commit([s, prev])
}
for (let i = 0; i < 20; i++) step(i) // warm-up

const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.setSamplingInterval', { interval: 200 })
await session.post('Profiler.start')
const t0 = performance.now()
for (let i = 0; i < steps; i++) step(100 + i)
const ms = (performance.now() - t0) / steps
const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile }
session.disconnect()

const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
const fn = new Map<string, number>()
const file = new Map<string, number>()
let total = 0
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0
  const f = byId.get(id)
  const where = f === undefined ? '?' : f.url.split('/').slice(-2).join('/') || '(native)'
  const name = f === undefined ? '?' : `${f.functionName || '(anonymous)'}  ${where}:${f.lineNumber + 1}`
  fn.set(name, (fn.get(name) ?? 0) + dt)
  file.set(where, (file.get(where) ?? 0) + dt)
  total += dt
})
const top = (m: Map<string, number>, n: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n')
console.log(
  `profile of ${steps} steps, batch ${batchSize}, Adam (${way}), kernels ${getKernels()}, ${getThreads()} thread(s): ${ms.toFixed(2)} ms/step (with the profiler on)`,
)
console.log(`\nself time by function (top 25)\n${top(fn, 25)}`)
console.log(`\nself time by file (top 15)\n${top(file, 15)}`)
