/**
 * One epoch of training in a process of its own, for the peak-RSS measurement of
 * `bench/compare.ts`: `rss-child.ts purenn|tfjs-wasm THREADS [--quick]`. The chapter's
 * batch-norm model with Adam, batch 32, on Fashion-MNIST's 55,000 training images with the
 * last 5,000 for validation (`--quick`: 1,000 synthetic images, 200 for validation).
 *
 * purenn trains as `pnpm train` does (images kept as bytes, scaled per batch); TF.js as its
 * users do (float tensors of all images, `model.fit`). Prints one JSON line: the peak RSS
 * (`process.resourceUsage().maxRSS`, which counts the worker threads too), the RSS right after
 * loading the data, and the epoch's wall time.
 */
import { bnAfter, loadByteSplits } from '../examples/lib/chapter.js'
import { byteImages } from '../packages/data/dist/index.js'
import { initModel } from '../packages/layers/dist/index.js'
import { adam } from '../packages/optim/dist/index.js'
import { key, setThreads, slice, tensor } from '../packages/tensor/dist/index.js'
import { fit } from '../packages/train/dist/index.js'

const [who, threadsArg] = process.argv.slice(2)
const quick = process.argv.includes('--quick')
const threads = Number(threadsArg)
if ((who !== 'purenn' && who !== 'tfjs-wasm') || !Number.isInteger(threads) || threads < 1)
  throw new Error('usage: rss-child.ts purenn|tfjs-wasm THREADS [--quick]')
const mib = (bytes: number) => bytes / 2 ** 20

const loadData = async () => {
  if (!quick) return loadByteSplits()
  const n = 1000
  let s = 1
  const bytes = Uint8Array.from({ length: n * 784 }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s >>> 24
  })
  const images = byteImages(bytes, [n, 28, 28])
  const labels = tensor(Float32Array.from({ length: n }, (_, i) => i % 10))
  return {
    train: { x: images.slice(0, 800), y: slice(labels, [0], [800]) },
    valid: { x: images.slice(800, 200), y: slice(labels, [800], [200]) },
  }
}

const d = await loadData()
let epochSeconds: number
let rssAfterData: number
if (who === 'purenn') {
  setThreads(threads)
  rssAfterData = process.memoryUsage().rss
  const t0 = performance.now()
  await fit(initModel(bnAfter(), { key: key(0) }), d.train.x, d.train.y, {
    loss: 'sparseCategoricalCrossentropy',
    optimizer: adam(),
    metrics: ['accuracy'],
    epochs: 1,
    batchSize: 32,
    validationData: [d.valid.x, d.valid.y],
    verbose: 0,
  })
  epochSeconds = (performance.now() - t0) / 1000
} else {
  const { initTf, tf, tfBnModel } = await import('./tfjs.js')
  await initTf()
  const model = await tfBnModel('wasm')
  // as a TF.js user holds Fashion-MNIST: float tensors of all images (made from the bytes)
  const toTf = (images: { bytes: Uint8Array; shape: readonly number[] }) =>
    tf.tensor3d(
      Float32Array.from(images.bytes, (b) => b / 255),
      [images.shape[0]!, 28, 28],
    )
  const x = toTf(d.train.x)
  const vx = toTf(d.valid.x)
  const y = tf.tensor1d(d.train.y.data as Float32Array)
  const vy = tf.tensor1d(d.valid.y.data as Float32Array)
  rssAfterData = process.memoryUsage().rss
  const t0 = performance.now()
  await model.fit(x, y, { batchSize: 32, epochs: 1, shuffle: true, validationData: [vx, vy], verbose: 0 })
  epochSeconds = (performance.now() - t0) / 1000
}
console.log(
  JSON.stringify({
    peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    rssAfterDataMiB: mib(rssAfterData),
    epochSeconds,
  }),
)
process.exit(0)
