/**
 * Before/after in one process: the training step of the chapter's batch-norm model with Adam
 * (batch 32 and 512, 1 and 2 threads) on this checkout's built packages and on another
 * checkout's (`--base DIR`, e.g. a `git worktree` of main with `pnpm install && npx tsc -b`
 * run in it), interleaved round by round so that load from other processes hits both alike.
 * Each copy has its own tensor module, pool and kernels; the one not being timed sleeps. Odd
 * rounds run the variants in reverse order.
 * Prints the median ms/step of each variant and the load average before and after.
 *
 * Run: npx tsc -b && npx tsx bench/step-ab.ts --base ../main [--rounds 15] [--kernels wasm|js] [--model tiny]
 * `--model tiny`: the same layers with 3, 3 and 2 units on 2x2 inputs, the same parameter tree
 * with almost no arithmetic: what a step costs besides the maths (trees, tape, op overhead).
 */
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i < 0 ? undefined : process.argv[i + 1]
}
const baseDir = arg('--base')
if (baseDir === undefined)
  throw new Error('usage: step-ab.ts --base DIR [--rounds N]: DIR is a built checkout')
const rounds = Number(arg('--rounds') ?? 15)
const kernels = arg('--kernels') ?? 'wasm'
if (kernels !== 'wasm' && kernels !== 'js') throw new Error(`--kernels: expected wasm or js, got ${kernels}`)
const tiny = arg('--model') === 'tiny'
if (!tiny && arg('--model') !== undefined) throw new Error(`--model: expected tiny, got ${arg('--model')}`)
if (!Number.isInteger(rounds) || rounds < 1)
  throw new Error(`--rounds: expected a positive integer, got ${rounds}`)

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')

type Step = (batch: number, threads: number) => () => void

/** The step of the checkout at `root` (its built `dist/`), as a function of batch and threads. */
const checkout = async (root: string): Promise<Step> => {
  const at = (p: string) => import(pathToFileURL(resolve(root, p)).href)
  const chapter = await at('examples/lib/chapter.ts')
  const layers = await at('packages/layers/dist/index.js')
  const optim = await at('packages/optim/dist/index.js')
  const T = await at('packages/tensor/dist/index.js')
  const TI = await at('packages/tensor/dist/internal/index.js')
  // the batch on a block of the kernels' memory for good, as fit makes each batch (read in place)
  const resident = (t: { size: number; shape: number[]; data: Float32Array }) => {
    const data = TI.allocOwned(t.size)
    data.set(t.data)
    return TI.fromBuffer(t.shape, data)
  }
  const train = await at('packages/train/dist/index.js')
  // a checkout with the ledger runs the step as fit does (owned buffers, freed two steps on)
  const internal = await at('packages/train/dist/internal.js').catch(() => undefined)
  T.setKernels(kernels)
  const L = layers
  // bnAfter's layers, tiny
  const small = () =>
    L.sequential(
      [
        L.flatten(),
        L.batchNormalization(),
        L.dense({ units: 3, activation: 'relu' }),
        L.batchNormalization(),
        L.dense({ units: 3, activation: 'relu' }),
        L.batchNormalization(),
        L.dense({ units: 2, activation: 'softmax' }),
      ],
      { inputShape: [2, 2] },
    )
  const [side, classes] = tiny ? [2, 2] : [28, 10]
  const model = layers.initModel(tiny ? small() : chapter.bnAfter(), { key: T.key(0) })
  return (batch, threads) => {
    const trainer = train.makeTrainer({
      loss: layers.sparseCategoricalCrossentropy(),
      metrics: [],
      optimizer: optim.adam(),
      ownedBuffers: internal !== undefined,
    })
    const data = {
      x: resident(T.uniform(T.key(1), [batch, side, side])),
      y: resident(T.tensor(Float32Array.from({ length: batch }, (_, i) => i % classes))),
    }
    let state = trainer.init(model)
    const ledger = internal?.makeLedger(state)
    let r = 0
    return () => {
      T.setThreads(threads)
      const prev = state
      state = trainer.step(state, data, T.key(r++)).state
      ledger?.commit([state, prev])
    }
  }
}

const here = resolve(import.meta.dirname, '..')
const copies = [
  ['before', await checkout(resolve(baseDir))],
  ['after', await checkout(here)],
] as const
console.log(
  `step-ab: before = ${resolve(baseDir)}, after = ${here}${tiny ? ', tiny model' : ''}; load average ${load()}`,
)
for (const batch of [32, 512]) {
  const per = (batch === 32 ? 10 : 2) * (tiny ? 10 : 1)
  const digits = tiny ? 3 : 2
  const variants = copies.flatMap(([name, step]) =>
    [1, 2].map((threads) => ({
      name: `${name}, ${threads} thread${threads > 1 ? 's' : ''}`,
      run: step(batch, threads),
    })),
  )
  const ms = variants.map((): number[] => [])
  // odd rounds run the variants in reverse order, so that neither copy always follows the other
  const order = [...variants.keys()]
  for (let r = 0; r <= rounds; r++)
    for (const i of r % 2 === 0 ? order : [...order].reverse()) {
      const v = variants[i]!
      const t0 = performance.now()
      for (let k = 0; k < per; k++) v.run()
      if (r > 0) ms[i]!.push((performance.now() - t0) / per)
    }
  console.log(`\nbatch ${batch}: median ms/step over ${rounds} rounds of ${per} steps`)
  for (const [i, v] of variants.entries())
    console.log(`  ${v.name.padEnd(20)} ${median(ms[i]!).toFixed(digits).padStart(8)}`)
}
console.log(`\nload average at the end ${load()}`)
