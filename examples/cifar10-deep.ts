/**
 * The chapter's exercise on CIFAR-10: a 20×100 deep net with swish, then BN, SELU, MC dropout and 1cycle.
 *
 * Five runs of the exercise that closes the chapter, each reported with its best validation
 * accuracy, its test accuracy and its time:
 * 1. 20 hidden dense layers of 100 units, He initialization and swish, Nadam, early stopping
 *    (patience 5, best weights restored);
 * 2. the same with batch normalization before each activation (and on the inputs);
 * 3. SELU with LeCun-normal initialization on standardized inputs (a `normalization` layer
 *    adapted to the training images), with AlphaDropout (rate 0.1) before the output;
 * 4. Monte Carlo dropout on model 3: the average of 20 stochastic predictions, AlphaDropout on;
 * 5. model 3's architecture trained from scratch with SGD (momentum 0.9) on a 1cycle schedule.
 *
 * It runs on CIFAR-10 when `cifar-10-binary.tar.gz` is found (`--data-dir`, `PURENN_DATA`, the
 * user cache: see `loadCifar10`; nothing is downloaded) and otherwise, saying so, on a synthetic
 * data set of the same shape (32×32×3 images in [0, 1], 10 classes: a faint random template
 * per class under Gaussian noise), 5,000 training images unless `--subset` asks for another number. CIFAR-10 is
 * split as the chapter does: the last 5,000 training images validate.
 *
 * Run: pnpm example cifar10-deep [--epochs 10] [--subset N] [--batch-size 32] [--data-dir DIR]
 */
import { data as D, layers as L, optim, tensor as T, train } from 'purenn'
import type { Split } from './lib/chapter.js'
import { exampleArgs, firstRows } from './lib/flags.js'

const args = exampleArgs({
  name: 'cifar10-deep',
  epochs: { default: 10 },
  subset: { what: 'training images (5,000 synthetic ones by default)', max: 45_000 },
  batchSize: 32,
  dataDir: true,
})
const depth = 20
const units = 100
const [kData, kRuns] = T.split(T.key(42), 2) as [T.Key, T.Key]

/** Ten classes, each a random template image; an image is its class's template plus noise, in [0, 1]. */
const synthetic = (k: T.Key, trainRows: number, otherRows: number) => {
  const [kt, ...ks] = T.split(k, 7) as [T.Key, ...T.Key[]]
  const templates = T.uniform(kt, [10, 3072]).data
  const make = (kl: T.Key, kn: T.Key, n: number): Split => {
    const labels = Array.from(T.uniform(kl, [n]).data, (u) => Math.min(9, Math.floor(u * 10)))
    const noise = T.normal(kn, [n, 3072]).data
    const x = new Float32Array(n * 3072)
    for (let r = 0; r < n; r++)
      for (let i = 0; i < 3072; i++) {
        const v = 0.5 + 0.06 * (templates[labels[r]! * 3072 + i]! - 0.5) + 0.2 * noise[r * 3072 + i]!
        x[r * 3072 + i] = Math.min(1, Math.max(0, v))
      }
    return { x: T.tensor(x, [n, 32, 32, 3]), y: T.tensor(labels) }
  }
  return {
    train: make(ks[0]!, ks[1]!, trainRows),
    valid: make(ks[2]!, ks[3]!, otherRows),
    test: make(ks[4]!, ks[5]!, otherRows),
  }
}

const loadData = async (): Promise<{ train: Split; valid: Split; test: Split; source: string }> => {
  try {
    const c = await D.loadCifar10({
      ...(args.dataDir === undefined ? {} : { dir: args.dataDir }),
      download: false,
    })
    const { train: tr, valid } = D.trainValidSplit({ x: c.train.images, y: c.train.labels }, 5000)
    const n = args.subset
    return {
      train: firstRows(tr, n),
      valid: firstRows(valid, n),
      test: firstRows({ x: c.test.images, y: c.test.labels }, n),
      source: 'CIFAR-10',
    }
  } catch (e) {
    // only a missing file falls back; a corrupt one is an error
    if (!(e instanceof D.DataError) || !/not found|lacks/.test(e.message)) throw e
    const reason = e.message.split('\n')[0]
    const n = args.subset ?? 5000
    const other = Math.min(n, 1000)
    console.log(`CIFAR-10 not found (${reason}).`)
    console.log(
      `Using a SYNTHETIC data set of the same shape instead: ${n} training, ${other} validation and ${other} test images of 32×32×3, 10 classes.`,
    )
    return { ...synthetic(kData, n, other), source: 'synthetic' }
  }
}

const d = await loadData()
const nTrain = d.train.x.shape[0]!
console.log(
  `${d.source}: train ${nTrain} / validation ${d.valid.x.shape[0]} / test ${d.test.x.shape[0]} images`,
)

const hidden = (f: (i: number) => L.AnyLayer[]) => Array.from({ length: depth }, (_, i) => f(i)).flat()
const output = () => L.dense({ units: 10, activation: 'softmax' })

/** 1. He initialization and swish. */
const swishNet = () =>
  L.sequential(
    [
      L.flatten(),
      ...hidden(() => [L.dense({ units, activation: 'swish', kernelInitializer: 'heNormal' })]),
      output(),
    ],
    { inputShape: [32, 32, 3] },
  )

/** 2. Batch normalization on the inputs and before each activation (no bias: BN's beta is the offset). */
const bnNet = () =>
  L.sequential(
    [
      L.flatten(),
      L.batchNormalization(),
      ...hidden(() => [
        L.dense({ units, kernelInitializer: 'heNormal', useBias: false }),
        L.batchNormalization(),
        L.activation('swish'),
      ]),
      output(),
    ],
    { inputShape: [32, 32, 3] },
  )

/** 3. SELU + LeCun normal on standardized inputs, AlphaDropout before the output. */
const standardize = L.adaptNormalization(T.reshape(d.train.x, [nTrain, 3072]))
const seluNet = () =>
  L.sequential(
    [
      L.flatten(),
      standardize,
      ...hidden(() => [L.dense({ units, activation: 'selu', kernelInitializer: 'lecunNormal' })]),
      L.alphaDropout({ rate: 0.1 }),
      output(),
    ],
    { inputShape: [32, 32, 3] },
  )

const compiled = { loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] } as const
const results: { name: string; epochs: number; valid: number; test: number; seconds: number }[] = []
const keys = T.split(kRuns, 5) as T.Key[]

const runOne = async (
  name: string,
  arch: L.AnyLayer,
  optimizer: optim.GradientTransformation<unknown>,
  k: T.Key,
  callbacks: readonly train.AnyCallback[],
) => {
  console.log(`\n== ${name}`)
  const [ki, kf] = T.split(k, 2) as [T.Key, T.Key]
  const started = performance.now()
  const { model, history } = await train.fit(L.initModel(arch, { key: ki }), d.train.x, d.train.y, {
    ...compiled,
    optimizer,
    epochs: args.epochs,
    batchSize: args.batchSize,
    validationData: [d.valid.x, d.valid.y],
    key: kf,
    verbose: 2,
    callbacks,
  })
  const seconds = (performance.now() - started) / 1000
  const test = train.evaluate(model, d.test.x, d.test.y, compiled)
  const valid = Math.max(...(history.history.val_accuracy ?? [Number.NaN]))
  results.push({ name, epochs: history.epoch.length, valid, test: test.accuracy!, seconds })
  console.log(`${name}: test accuracy ${test.accuracy!.toFixed(4)} (${seconds.toFixed(1)} s)`)
  return model
}

// Nadam at 5e-5 with early stopping: the exercise's settings (learning rate from its solution)
const earlyStop = () => [train.earlyStopping({ patience: 5, restoreBestWeights: true })]
await runOne('1. swish + He, Nadam', swishNet(), optim.nadam({ learningRate: 5e-5 }), keys[0]!, earlyStop())
await runOne('2. + batch normalization', bnNet(), optim.nadam({ learningRate: 5e-4 }), keys[1]!, earlyStop())
const selu = await runOne(
  '3. SELU + LeCun normal + AlphaDropout',
  seluNet(),
  optim.nadam({ learningRate: 7e-4 }),
  keys[2]!,
  earlyStop(),
)

// 4. MC dropout: AlphaDropout stays on at inference; 20 predictions averaged
console.log('\n== 4. MC dropout on model 3 (20 samples)')
const started = performance.now()
const { mean } = train.mcPredict(selu, d.test.x, { samples: 20, key: keys[3]! })
const mcAccuracy = T.mean(T.equal(T.argmax(mean, -1), d.test.y)).item()
results.push({
  name: '4. model 3 with MC dropout',
  epochs: 0,
  valid: Number.NaN,
  test: mcAccuracy,
  seconds: (performance.now() - started) / 1000,
})
console.log(`MC dropout test accuracy ${mcAccuracy.toFixed(4)}`)

// 5. 1cycle: the learning rate rises to its peak and falls back over the run, then anneals
const steps = args.epochs * Math.ceil(nTrain / args.batchSize)
await runOne(
  '5. model 3 trained with 1cycle (SGD)',
  seluNet(),
  optim.sgd({ learningRate: optim.oneCycle({ totalSteps: steps, maxLearningRate: 0.01 }), momentum: 0.9 }),
  keys[4]!,
  [],
)

console.log(`\nSummary (${d.source} data, at most ${args.epochs} epochs):`)
console.log(`${'run'.padEnd(40)} epochs  best val acc  test acc  seconds`)
for (const r of results)
  console.log(
    `${r.name.padEnd(40)} ${String(r.epochs).padStart(6)}  ${(Number.isNaN(r.valid) ? '-' : r.valid.toFixed(4)).padStart(12)}  ${r.test.toFixed(4).padStart(8)}  ${r.seconds.toFixed(1).padStart(7)}`,
  )
