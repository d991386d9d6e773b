/**
 * The optimizer passes of the 'wasm' kernel set against the plain loops ('js'), one thread:
 * median ms per update of one 262144-element leaf over 41 interleaved rounds, and the ratio
 * js / wasm. Run: `pnpm tsc -b && pnpm tsx bench/optim-passes.ts`.
 */
import {
  type GradientTransformation,
  scaleByNadam,
  scaleByRms,
  traceMomentum,
} from '../packages/optim/dist/index.js'
import { setKernels, setThreads, tensor } from '../packages/tensor/dist/index.js'

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
console.log(
  `optimizer passes, ${n} elements, 1 thread, load average ${(await import('node:os')).loadavg()[0]!.toFixed(2)}`,
)
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
