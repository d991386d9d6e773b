/**
 * The `pnpm train` command: one of the chapter's models on Fashion-MNIST, with curves and the saved model.
 *
 * `pnpm train --help` (or `pnpm example train --help`) lists the options, among them
 * `--model`, `--epochs` and `--subset`.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { type layers, tensor, train } from 'purenn'
import {
  type ByteSplit,
  bnAfter,
  bnBefore,
  dropoutModel,
  l2Model,
  leakyReluModel,
  loadByteSplits,
  loadSplits,
  type Split,
  swishModel,
} from './lib/chapter.js'
import { type ModelName, type OptimizerName, parseTrainArgs, usage } from './lib/cli.js'
import { firstRows, subsetSplits } from './lib/flags.js'
import { checkOutDir } from './lib/out.js'
import { makeOptimizer, run } from './lib/run.js'
import { transferExperiment } from './lib/transfer.js'

/** The chapter's settings for each model: architecture, optimizer, learning rate, epochs. */
const recipes: Record<
  Exclude<ModelName, 'transfer'>,
  { build: () => layers.AnyLayer; optimizer: OptimizerName; learningRate: number; epochs: number }
> = {
  'bn-after': { build: bnAfter, optimizer: 'sgd', learningRate: 0.01, epochs: 2 },
  'bn-before': { build: bnBefore, optimizer: 'sgd', learningRate: 0.01, epochs: 2 },
  'leaky-relu': { build: leakyReluModel, optimizer: 'sgd', learningRate: 0.01, epochs: 2 },
  swish: { build: swishModel, optimizer: 'sgd', learningRate: 0.01, epochs: 2 },
  l2: { build: l2Model, optimizer: 'sgd', learningRate: 0.02, epochs: 2 },
  dropout: { build: dropoutModel, optimizer: 'momentum', learningRate: 0.01, epochs: 10 },
  'mc-dropout': { build: dropoutModel, optimizer: 'momentum', learningRate: 0.01, epochs: 10 },
}

/** `--subset N` on the byte splits: the first N rows of each split, as `subsetSplits` does. */
const subsetByteSplits = <D extends { train: ByteSplit; valid: ByteSplit; test: Split }>(
  d: D,
  n: number | undefined,
): D => {
  const first = (s: ByteSplit): ByteSplit =>
    n === undefined || n >= s.x.shape[0]! ? s : { x: s.x.slice(0, n), y: train.rows(s.y, 0, n) }
  return { ...d, train: first(d.train), valid: first(d.valid), test: firstRows(d.test, n) }
}

const main = async (argv: readonly string[]): Promise<number> => {
  const parsed = parseTrainArgs(argv)
  if (E.isLeft(parsed)) {
    console.error(`pnpm train: ${parsed.left} (see --help)`)
    return 2
  }
  if (parsed.right === 'help') {
    console.log(usage)
    return 0
  }
  const o = parsed.right
  if (o.threads !== undefined) tensor.setThreads(o.threads)
  const out = o.out ?? join('out', o.model)
  const unusable = await checkOutDir(out)
  if (unusable !== undefined) {
    console.error(`pnpm train: ${unusable}`)
    return 2
  }
  const rootKey = tensor.key(o.seed)
  const threads = tensor.getThreads()
  console.log(
    `kernels: ${tensor.getKernels()} (${tensor.getKernels() === 'wasm' ? 'WebAssembly SIMD, generated at start-up' : 'plain TypeScript'}),` +
      ` ${threads} thread${threads === 1 ? '' : 's'} (--threads, PURENN_KERNELS=js|wasm)`,
  )
  console.log('loading Fashion-MNIST ...')
  const count = (d: {
    train: { x: { shape: readonly number[] } }
    valid: typeof d.train
    test: typeof d.train
  }) =>
    console.log(
      `train ${d.train.x.shape[0]} / validation ${d.valid.x.shape[0]} / test ${d.test.x.shape[0]} images`,
    )
  if (o.model === 'transfer') {
    // the transfer experiment selects classes of float tensors
    const data = subsetSplits(await loadSplits(o.dataDir), o.subset)
    count(data)
    const result = await transferExperiment(data, {
      key: rootKey,
      verbose: 2,
      ...(o.epochs === undefined ? {} : { epochs: o.epochs }),
    })
    await mkdir(out, { recursive: true })
    await writeFile(join(out, 'transfer.json'), `${JSON.stringify(result, null, 2)}\n`)
    console.log(`wrote ${out}/transfer.json`)
    return 0
  }
  // the training and validation images stay bytes, scaled to [0, 1] one batch at a time
  const data = subsetByteSplits(await loadByteSplits(o.dataDir), o.subset)
  count(data)

  const recipe = recipes[o.model]
  const optimizer = makeOptimizer({
    optimizer: o.optimizer ?? recipe.optimizer,
    learningRate: o.learningRate ?? recipe.learningRate,
    ...(o.clipNorm === undefined ? {} : { clipNorm: o.clipNorm }),
    ...(o.clipValue === undefined ? {} : { clipValue: o.clipValue }),
  })
  const [runKey, mcKey] = tensor.split(rootKey, 2) as [tensor.Key, tensor.Key]
  const result = await run({
    name: o.model,
    architecture: recipe.build(),
    optimizer,
    epochs: o.epochs ?? recipe.epochs,
    batchSize: o.batchSize,
    key: runKey,
    data,
    out,
    checkpoint: join(out, 'checkpoint'),
    ...(o.resume === undefined ? {} : { resumeFrom: o.resume }),
  })
  if (result.history.fault === true) {
    console.error(`pnpm train: training stopped on a fault: ${result.history.stopReason}`)
    return 3
  }
  if (o.model === 'mc-dropout') {
    // the chapter's last cells: 100 stochastic predictions, averaged
    const { mean, std } = train.mcPredict(result.model, data.test.x, { samples: 100, key: mcKey })
    const first = (t: tensor.Tensor) => Array.from(t.data.subarray(0, 10), (v) => v.toFixed(2)).join(' ')
    console.log(`MC dropout, first test image: mean ${first(mean)}`)
    console.log(`                               std ${first(std)}`)
    const predicted = tensor.argmax(mean, -1)
    const acc = tensor.mean(tensor.equal(predicted, data.test.y)).item()
    console.log(
      `MC dropout test accuracy ${acc.toFixed(4)} (plain inference ${result.test.accuracy!.toFixed(4)})`,
    )
    await writeFile(join(out, 'mc-dropout.json'), `${JSON.stringify({ accuracy: acc }, null, 2)}\n`)
  }
  return 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    console.error(`pnpm train: ${e instanceof Error ? e.message : String(e)}`)
    process.exitCode = 1
  },
)
