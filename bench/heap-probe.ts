/**
 * Probe of the kernels' heap (not part of `pnpm bench`): training steps of the chapter's BN
 * model with Adam, rounds of `steps` steps alternating heap budgets, medians of ms/step.
 * Run: npx tsc -b && npx tsx bench/heap-probe.ts [batch] [steps] [rounds] [yield 0|1] [budgets MiB, comma-separated]
 */
import { bnAfter } from '../examples/lib/chapter.js'
import { accuracy, initModel, sparseCategoricalCrossentropy } from '../packages/layers/dist/index.js'
import { adam } from '../packages/optim/dist/index.js'
import { key, tensor, uniform } from '../packages/tensor/dist/index.js'
import { heapStats, setHeapBudget } from '../packages/tensor/dist/internal/wasm/heap.js'
import { makeTrainer } from '../packages/train/dist/index.js'

const [batchArg = '32', stepsArg = '50', roundsArg = '7', yieldArg = '1', budgetsArg = '0,128'] =
  process.argv.slice(2)
const batchSize = Number(batchArg)
const steps = Number(stepsArg)
const budgets = budgetsArg.split(',').map(Number)
const model = initModel(bnAfter(), { key: key(0) })
const batch = {
  x: uniform(key(1), [batchSize, 28, 28]),
  y: tensor(Float32Array.from({ length: batchSize }, (_, i) => i % 10)),
}
const trainer = makeTrainer({ loss: sparseCategoricalCrossentropy(), metrics: [accuracy], optimizer: adam() })
let s = trainer.init(model)
for (let i = 0; i < 20; i++) s = trainer.step(s, batch, key(i)).state
const times = budgets.map((): number[] => [])
let k = 100
for (let r = 0; r < Number(roundsArg); r++)
  for (const [b, budget] of budgets.entries()) {
    setHeapBudget(budget * 2 ** 20)
    const t0 = performance.now()
    for (let i = 0; i < steps; i++) {
      s = trainer.step(s, batch, key(k++)).state
      if (yieldArg === '1') await new Promise((res) => setImmediate(res))
    }
    times[b]!.push((performance.now() - t0) / steps)
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const h = heapStats()
console.log(
  JSON.stringify({
    batchSize,
    ms: Object.fromEntries(budgets.map((b, i) => [`budget${b}MiB`, +median(times[i]!).toFixed(2)])),
    topMiB: +(h.top / 2 ** 20).toFixed(1),
    servedShare: +(h.served / (h.served + h.refused)).toFixed(2),
    rssMiB: +(process.resourceUsage().maxRSS / 1024).toFixed(0),
  }),
)
