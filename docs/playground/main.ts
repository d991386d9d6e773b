/**
 * The playground page: trains the chapter's batch-norm model on a Fashion-MNIST subset in the
 * browser, with live learning curves, the model summary, and MC-dropout predictions on a few
 * test images; the reader changes the options and trains again. Plain DOM, no framework.
 *
 * Built by the docs site's typedoc plugin (scripts/typedoc/playground.mjs) with esbuild, which
 * picks the packages' browser entries. The page reports its progress in
 * `globalThis.purennPlayground` for the browser test (scripts/browser-test.mjs).
 */
import { batches, decodeIdxAsync, type IdxArray } from '@purenn/data'
import {
  accuracy,
  countParams,
  initModel,
  type Model,
  sparseCategoricalCrossentropy,
  summary,
} from '@purenn/layers'
import { foldIn, getThreads, key, split, type Tensor, tensor } from '@purenn/tensor'
import { evaluate, type LineSeries, lineChartSvg, makeTrainer, mcPredict, rows } from '@purenn/train'
import {
  buildArchitecture,
  buildOptimizer,
  choices,
  classNames,
  defaultLearningRate,
  defaultOptions,
  optionProblems,
  type PlaygroundOptions,
} from './model.js'

/** A labelled split of the subset: images in [0, 1] as `[n, 28, 28]`, labels as `[n]`. */
interface Split {
  readonly x: Tensor
  readonly y: Tensor
  readonly pixels: Uint8Array
}

/** One evaluation on the test subset, after `epoch` epochs (0: before training). */
interface Evaluation {
  readonly epoch: number
  readonly loss: number
  readonly accuracy: number
}

/** What the page reports for the browser test and the curious reader's console. */
interface PlaygroundReport {
  state: 'loading' | 'ready' | 'training' | 'done' | 'stopped' | 'error'
  steps: number
  threads: number
  evaluations: Evaluation[]
  error?: string
}

const report: PlaygroundReport = { state: 'loading', steps: 0, threads: 1, evaluations: [] }
;(globalThis as { purennPlayground?: PlaygroundReport }).purennPlayground = report

const $ = <E extends HTMLElement>(id: string): E => {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`playground: the page has no #${id}`)
  return el as E
}

const setState = (state: PlaygroundReport['state'], message: string) => {
  report.state = state
  document.body.dataset.state = state
  $('status').textContent = message
}

// ---------------------------------------------------------------- data

/** The subset's files sit in `data/` beside the bundle. */
const dataUrl = (name: string) => new URL(`data/${name}.gz`, import.meta.url).href

/** One IDX file of the subset, fetched and decoded by `@purenn/data` (gunzip by `DecompressionStream`). */
const fetchIdx = async (name: string): Promise<IdxArray> => {
  const res = await fetch(dataUrl(name))
  if (!res.ok) throw new Error(`${dataUrl(name)}: HTTP ${res.status}`)
  const bytes = new Uint8Array(await res.arrayBuffer())
  // a server that sent the file with `Content-Encoding: gzip` has already unpacked it
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b
  const decoded = await decodeIdxAsync(bytes, gzipped ? `${name}.gz` : name)
  if (decoded._tag === 'Left') throw new Error(`${dataUrl(name)}: ${decoded.left}`)
  if (decoded.right.type !== 'uint8') throw new Error(`${dataUrl(name)}: expected uint8 data`)
  return decoded.right
}

const loadSplit = async (prefix: 'train' | 't10k'): Promise<Split> => {
  const [images, labels] = await Promise.all([
    fetchIdx(`${prefix}-images-idx3-ubyte`),
    fetchIdx(`${prefix}-labels-idx1-ubyte`),
  ])
  const pixels = images.data as Uint8Array
  // as loadFashionMnist does in Node: grey levels / 255 as float32, labels as they are
  const scaled = new Float32Array(pixels.length)
  for (let i = 0; i < pixels.length; i++) scaled[i] = pixels[i]! / 255
  return { x: tensor(scaled, images.shape), y: tensor(labels.data as Uint8Array, labels.shape), pixels }
}

// ---------------------------------------------------------------- the form

const selects = ['initializer', 'activation', 'bn', 'optimizer', 'clipping'] as const
const numbers = ['learningRate', 'clipThreshold', 'dropoutRate', 'epochs', 'batchSize', 'seed'] as const

const labels: Record<string, string> = {
  after: 'after each activation (the chapter)',
  before: 'before each activation',
  none: 'none',
  momentum: 'sgd, momentum 0.9',
  nesterov: 'sgd, Nesterov momentum 0.9',
}

const buildForm = () => {
  $('options').addEventListener('submit', (e) => e.preventDefault())
  for (const name of selects) {
    const select = $<HTMLSelectElement>(name)
    for (const value of choices[name]) {
      const option = document.createElement('option')
      option.value = value
      option.textContent = labels[value] ?? value
      select.append(option)
    }
    select.value = defaultOptions[name]
  }
  for (const name of numbers) $<HTMLInputElement>(name).value = String(defaultOptions[name])
  $<HTMLSelectElement>('optimizer').addEventListener('change', (e) => {
    const o = (e.target as HTMLSelectElement).value as PlaygroundOptions['optimizer']
    $<HTMLInputElement>('learningRate').value = String(defaultLearningRate(o))
  })
  const syncClip = () => {
    $<HTMLInputElement>('clipThreshold').disabled = $<HTMLSelectElement>('clipping').value === 'none'
  }
  $('clipping').addEventListener('change', syncClip)
  syncClip()
}

const readForm = (): PlaygroundOptions => {
  const value = (name: string) => $<HTMLInputElement | HTMLSelectElement>(name).value
  return {
    initializer: value('initializer') as PlaygroundOptions['initializer'],
    activation: value('activation') as PlaygroundOptions['activation'],
    bn: value('bn') as PlaygroundOptions['bn'],
    optimizer: value('optimizer') as PlaygroundOptions['optimizer'],
    clipping: value('clipping') as PlaygroundOptions['clipping'],
    learningRate: Number(value('learningRate')),
    clipThreshold: Number(value('clipThreshold')),
    dropoutRate: Number(value('dropoutRate')),
    epochs: Number(value('epochs')),
    batchSize: Number(value('batchSize')),
    seed: Number(value('seed')),
  }
}

const setFormEnabled = (enabled: boolean) => {
  for (const el of document.querySelectorAll<HTMLInputElement | HTMLSelectElement>(
    '#options :is(input, select)',
  ))
    el.disabled = !enabled || (el.id === 'clipThreshold' && $<HTMLSelectElement>('clipping').value === 'none')
  $<HTMLButtonElement>('train').disabled = !enabled
  $<HTMLButtonElement>('stop').disabled = enabled
}

// ---------------------------------------------------------------- views

const showSummary = (model: Model) => {
  $('summary').textContent = summary(model)
  $('params').textContent = `${countParams(model).total.toLocaleString('en')} parameters`
}

interface TrainPoint {
  readonly x: number
  readonly loss: number
  readonly accuracy: number
}

const showCurves = (train: readonly TrainPoint[], evals: readonly Evaluation[]) => {
  const chart = (metric: 'loss' | 'accuracy', title: string) => {
    const lines: LineSeries[] = [
      { name: `training ${metric}`, points: train.map((p) => [p.x, p[metric]] as const) },
      { name: `test ${metric}`, points: evals.map((e) => [e.epoch, e[metric]] as const) },
    ]
    return lineChartSvg(lines, {
      title,
      width: 460,
      height: 300,
      xLabel: 'epoch',
      integerXTicks: true,
      points: false,
      ...(metric === 'accuracy' ? { yDomain: [0, 1] as const } : {}),
    })
  }
  $('loss-chart').innerHTML = chart('loss', 'Loss')
  $('accuracy-chart').innerHTML = chart('accuracy', 'Accuracy')
}

/** The first test images, with the mean and standard deviation of their MC-dropout predictions. */
const predictionCount = 8

const showPredictions = (model: Model, test: Split, o: PlaygroundOptions) => {
  const x = rows(test.x, 0, predictionCount)
  const samples = o.dropoutRate > 0 ? 50 : 1
  const { mean, std } = mcPredict(model, x, { samples, key: foldIn(key(o.seed), 7) })
  const m = mean.data
  const s = std.data
  const container = $('predictions')
  container.replaceChildren()
  for (let i = 0; i < predictionCount; i++) {
    const card = document.createElement('figure')
    card.className = 'prediction'
    const canvas = document.createElement('canvas')
    canvas.width = 28
    canvas.height = 28
    const ctx = canvas.getContext('2d')
    if (ctx !== null) {
      const img = ctx.createImageData(28, 28)
      for (let p = 0; p < 784; p++) {
        const v = 255 - test.pixels[i * 784 + p]!
        img.data.set([v, v, v, 255], p * 4)
      }
      ctx.putImageData(img, 0, 0)
    }
    const truth = test.y.data[i]!
    const probs = Array.from({ length: 10 }, (_, c) => ({ c, mean: m[i * 10 + c]!, std: s[i * 10 + c]! }))
    const top = [...probs].sort((a, b) => b.mean - a.mean).slice(0, 3)
    const caption = document.createElement('figcaption')
    const title = document.createElement('div')
    title.className = top[0]!.c === truth ? 'truth right' : 'truth wrong'
    title.textContent = `${classNames[truth]}`
    caption.append(title)
    for (const p of top) {
      const row = document.createElement('div')
      row.className = 'bar'
      const fill = document.createElement('span')
      fill.className = p.c === truth ? 'fill right' : 'fill'
      fill.style.width = `${(100 * p.mean).toFixed(1)}%`
      const band = document.createElement('span')
      band.className = 'band'
      band.style.left = `${(100 * Math.max(0, p.mean - p.std)).toFixed(1)}%`
      band.style.width = `${(100 * (Math.min(1, p.mean + p.std) - Math.max(0, p.mean - p.std))).toFixed(1)}%`
      const text = document.createElement('span')
      text.className = 'label'
      text.textContent = `${classNames[p.c]} ${p.mean.toFixed(2)} ± ${p.std.toFixed(2)}`
      const track = document.createElement('div')
      track.className = 'track'
      track.append(fill, band)
      row.append(text, track)
      caption.append(row)
    }
    card.append(canvas, caption)
    container.append(card)
  }
  $('predictions-note').textContent =
    o.dropoutRate > 0
      ? `Mean ± standard deviation of the class probabilities over ${samples} forward passes with dropout on (rate ${o.dropoutRate}) and batch norm on its moving statistics: mcPredict.`
      : 'Dropout rate 0: every pass gives the same prediction, so the standard deviation is 0. Set a rate above 0 to see MC-dropout uncertainty.'
}

// ---------------------------------------------------------------- training

/** Lets the page paint and handle clicks between training steps. */
const yieldToPage = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

let stopRequested = false

const evaluateTest = (model: Model, test: Split, epoch: number): Evaluation => {
  const r = evaluate(model, test.x, test.y, {
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
    batchSize: 250,
  })
  return { epoch, loss: r.loss!, accuracy: r.accuracy! }
}

const trainOnce = async (trainSet: Split, test: Split) => {
  const o = readForm()
  const problems = optionProblems(o)
  if (problems.length > 0) {
    setState('ready', `Not trained: ${problems.join('; ')}.`)
    return
  }
  stopRequested = false
  setFormEnabled(false)
  setState('training', 'Initializing…')
  report.steps = 0
  report.evaluations = []
  try {
    const model = initModel(buildArchitecture(o), { key: key(o.seed) })
    showSummary(model)
    const trainer = makeTrainer({
      loss: sparseCategoricalCrossentropy(),
      metrics: [accuracy],
      optimizer: buildOptimizer(o),
    })
    let s = trainer.init(model)
    const trainPoints: TrainPoint[] = []
    const evals = [evaluateTest(model, test, 0)]
    report.evaluations = [...evals]
    showCurves(trainPoints, evals)
    const n = trainSet.y.shape[0]!
    const stepsPerEpoch = Math.ceil(n / o.batchSize)
    const pointEvery = Math.max(1, Math.round(stepsPerEpoch / 8))
    const started = performance.now()
    let lastPaint = started
    for (let epoch = 1; epoch <= o.epochs && !stopRequested; epoch++) {
      // a new order and new dropout masks each epoch, all from the seed
      const epochKeys = split(foldIn(key(o.seed), epoch), 2)
      const stepKeys = split(epochKeys[1]!, stepsPerEpoch)
      let sumLoss = 0
      let sumAccuracy = 0
      let count = 0
      let b = 0
      for (const batch of batches({ x: trainSet.x, y: trainSet.y }, o.batchSize, { key: epochKeys[0]! })) {
        if (stopRequested) break
        const size = batch.y.shape[0]!
        const r = trainer.step(s, batch, stepKeys[b]!)
        s = r.state
        report.steps++
        sumLoss += r.logs.loss * size
        sumAccuracy += r.logs.metrics.accuracy! * size
        count += size
        if (!Number.isFinite(r.logs.loss)) {
          setState(
            'done',
            `The loss became ${r.logs.loss} at step ${report.steps}: try a smaller learning rate or clipping.`,
          )
          stopRequested = true
          break
        }
        if ((b + 1) % pointEvery === 0 || b === stepsPerEpoch - 1) {
          trainPoints.push({
            x: epoch - 1 + (b + 1) / stepsPerEpoch,
            loss: sumLoss / count,
            accuracy: sumAccuracy / count,
          })
        }
        if (performance.now() - lastPaint > 200) {
          showCurves(trainPoints, evals)
          $('status').textContent =
            `Epoch ${epoch}/${o.epochs}, step ${b + 1}/${stepsPerEpoch}: training loss ${(sumLoss / count).toFixed(3)}, accuracy ${(sumAccuracy / count).toFixed(3)}`
          await yieldToPage()
          lastPaint = performance.now()
        }
        b++
      }
      if (count === 0) break
      // a stopped epoch is evaluated where it stopped
      evals.push(evaluateTest(s.model, test, epoch - 1 + b / stepsPerEpoch))
      report.evaluations = [...evals]
      showCurves(trainPoints, evals)
      await yieldToPage()
    }
    showPredictions(s.model, test, o)
    const last = evals.at(-1)!
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    if (report.state === 'training')
      setState(
        stopRequested ? 'stopped' : 'done',
        `${stopRequested ? 'Stopped' : 'Done'} after ${report.steps} steps in ${seconds} s: test accuracy ${evals[0]!.accuracy.toFixed(3)} → ${last.accuracy.toFixed(3)}, test loss ${evals[0]!.loss.toFixed(3)} → ${last.loss.toFixed(3)}.`,
      )
  } catch (e) {
    report.error = String(e)
    setState('error', `Training failed: ${String(e)}`)
    throw e
  } finally {
    setFormEnabled(true)
  }
}

// ---------------------------------------------------------------- start

const main = async () => {
  buildForm()
  setFormEnabled(false)
  $<HTMLButtonElement>('stop').disabled = true
  report.threads = getThreads()
  $('threads').textContent = globalThis.crossOriginIsolated
    ? `${report.threads} threads (the page is cross-origin isolated: Web Workers share the kernels)`
    : '1 thread (the page is not cross-origin isolated, so purenn runs every kernel on the page’s thread)'
  setState('loading', 'Loading the Fashion-MNIST subset…')
  const [trainSet, test] = await Promise.all([loadSplit('train'), loadSplit('t10k')])
  const o = readForm()
  showSummary(initModel(buildArchitecture(o), { key: key(o.seed) }))
  const refreshSummary = () => {
    const current = readForm()
    if (optionProblems(current).length === 0)
      showSummary(initModel(buildArchitecture(current), { key: key(current.seed) }))
  }
  for (const name of ['initializer', 'activation', 'bn', 'dropoutRate'])
    $(name).addEventListener('change', refreshSummary)
  $('train').addEventListener('click', () => {
    void trainOnce(trainSet, test)
  })
  $('stop').addEventListener('click', () => {
    stopRequested = true
  })
  setFormEnabled(true)
  setState(
    'ready',
    `Loaded ${trainSet.y.shape[0]} training and ${test.y.shape[0]} test images. Choose the options and press Train.`,
  )
}

main().catch((e: unknown) => {
  report.error = String(e)
  setState('error', `The playground could not start: ${String(e)}`)
  throw e
})
