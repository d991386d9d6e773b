/**
 * By hand, not in CI (needs ~6 GB of memory): a Dense 784→684,785 (2,150,224,900 bytes of
 * weights, above Node's 2 GiB limit for one `readFile`) is saved, loaded back, and compared
 * bit for bit. Issue 12 found that such a model saved but could not be loaded. Run with
 * `pnpm build && pnpm exec tsx scripts/big-model.ts [units]` (the packages as users import
 * them, from dist; `units` defaults to 684,785, and a small one, such as 10, is a quick check
 * that the script runs); it prints the times, the files and the result.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dense, initModel, loadModel, publishedModelFolder, saveModel } from '@purenn/layers'
import { key } from '@purenn/tensor'

const units = Number(process.argv[2] ?? 684_785)
if (!Number.isSafeInteger(units) || units < 1)
  throw new Error(`usage: big-model.ts [units], got ${process.argv[2]}`)
const seconds = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1)
const root = await mkdtemp(join(tmpdir(), 'purenn-big-'))
const dir = join(root, 'model')
try {
  let t0 = performance.now()
  const model = initModel(dense({ units }), { key: key(0), inputShape: [784] })
  console.log(`init: ${seconds(t0)} s`)
  t0 = performance.now()
  await saveModel(model, dir)
  console.log(`save: ${seconds(t0)} s`)
  const folder = await publishedModelFolder(dir)
  for (const f of (await readdir(folder)).sort())
    console.log(`  ${f}: ${(await stat(join(folder, f))).size} bytes`)
  t0 = performance.now()
  const back = await loadModel(dir)
  console.log(`load: ${seconds(t0)} s`)
  const same = (a: { data: ArrayLike<number> }, b: { data: ArrayLike<number> }) => {
    const fa = a.data as Float32Array
    const fb = b.data as Float32Array
    const x = new Uint32Array(fa.buffer, fa.byteOffset, fa.length) // views, no copies
    const y = new Uint32Array(fb.buffer, fb.byteOffset, fb.length)
    if (x.length !== y.length) return false
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false
    return true
  }
  const p = model.params as {
    kernel: { data: ArrayLike<number>; shape: readonly number[] }
    bias: { data: ArrayLike<number> }
  }
  const q = back.params as typeof p
  console.log(
    `kernel ${p.kernel.shape.join('x')}: bitwise equal ${same(p.kernel, q.kernel)}; bias: bitwise equal ${same(p.bias, q.bias)}`,
  )
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 2 ** 20).toFixed(2)} GiB`)
} finally {
  await rm(root, { recursive: true, force: true })
}
