import {
  getLoss,
  getMetric,
  type Loss,
  type LossName,
  type Metric,
  type MetricName,
  type Model,
} from '@purenn/layers'
import type { GradientTransformation } from '@purenn/optim'
import { foldIn, gather, type Key, key as makeKey, permutation, split, type Tensor } from '@purenn/tensor'
import { type AnyCallback, type Callback, type EpochEnd, terminateOnNaN } from './callbacks.js'
import { evaluate, forEachBatch, rows } from './predict.js'
import { formatEpochLine, formatEpochLineVerbose2, formatLiveLine, type Logs } from './progress.js'
import { makeTrainer, type TrainingState } from './step.js'

/**
 * Where `fit` writes its progress: anything with a `write(text)` method, such as
 * `process.stdout` or a Node writable stream. It is treated as a terminal (a live bar, redrawn
 * in place) when `isTTY` is true.
 *
 * @example
 * ```ts
 * import type { ProgressOutput } from '@purenn/train'
 * const lines: string[] = []
 * const output: ProgressOutput = { write: (text) => { lines.push(text); return true } }
 * output.write('Epoch 1/1\n')
 * console.log(lines.length) // 1
 * ```
 * @category Training
 */
export interface ProgressOutput {
  /** Writes text (whole lines when `isTTY` is not true). */
  write(text: string): unknown
  /** True for a terminal. */
  readonly isTTY?: boolean
}

/**
 * The per-epoch record of a `fit` call, as Keras' `History`.
 * @category Training
 */
export interface History {
  /** Values per epoch: `loss`, each metric, and `val_loss`, `val_<metric>` with validation. */
  readonly history: Readonly<Record<string, readonly number[]>>
  /** The epochs run, counting from 0. */
  readonly epoch: readonly number[]
  /** Why training stopped before the last epoch, if it did (early stopping, NaN loss). */
  readonly stopReason?: string
}

/**
 * Options of {@link fit}, named as Keras' `compile` and `fit` arguments in camelCase.
 * @category Training
 */
export interface FitOptions {
  /** The loss, by name (`'sparseCategoricalCrossentropy'`) or value. */
  readonly loss: Loss | LossName
  /** The optimizer: any gradient transformation (`sgd(...)`, `adam(...)`, a `chain`). */
  readonly optimizer: GradientTransformation<unknown>
  /** Metrics to report, e.g. `['accuracy']`. Default none. */
  readonly metrics?: readonly (Metric | MetricName)[]
  /** Number of passes over the data. Default 1. */
  readonly epochs?: number
  /** Rows per step. Default 32. */
  readonly batchSize?: number
  /** Data to validate on after each epoch (`val_loss`, `val_accuracy`). */
  readonly validationData?: readonly [Tensor, Tensor]
  /**
   * Fraction of the rows, taken from the END before shuffling, to validate on: as Keras, the first
   * `⌊n·(1 − validationSplit)⌋` rows train and the rest validate.
   */
  readonly validationSplit?: number
  /** Shuffle the rows before each epoch. Default true. */
  readonly shuffle?: boolean
  /** The key for shuffling and dropout. Default `key(0)`: runs are reproducible. */
  readonly key?: Key
  /** Callbacks, in order (`earlyStopping`, `modelCheckpoint`, ...). */
  readonly callbacks?: readonly AnyCallback[]
  /** Add {@link terminateOnNaN} (Keras' TerminateOnNaN) unless already given. Default true. */
  readonly terminateOnNaN?: boolean
  /** 0 silent, 1 progress bar (one line per epoch when not on a terminal), 2 one line per epoch. Default 1. */
  readonly verbose?: 0 | 1 | 2
  /** Where progress goes. Default `process.stdout`. */
  readonly output?: ProgressOutput
}

const checkRows = (op: string, x: Tensor, y: Tensor): number => {
  const n = x.shape[0]
  if (n === undefined || n === 0) throw new Error(`${op}: x has no rows (shape [${x.shape.join(',')}])`)
  if (y.shape[0] !== n) throw new Error(`${op}: x has ${n} rows but y has ${y.shape[0] ?? 0}`)
  return n
}

/** Running means of the step values, weighted by batch size, as Keras' progress bar shows them. */
const runningMeans = () => {
  let rowsSeen = 0
  const sums = new Map<string, number>()
  return {
    add(size: number, values: Logs) {
      rowsSeen += size
      for (const [k, v] of Object.entries(values)) sums.set(k, (sums.get(k) ?? 0) + v * size)
    },
    get(): Logs {
      return Object.fromEntries([...sums].map(([k, v]) => [k, v / rowsSeen]))
    },
  }
}

/**
 * A live progress bar on a terminal, redrawn in place (Node's entry gives `fit` one made with
 * cli-progress; elsewhere there is none and `fit` writes one line per epoch).
 * @internal
 */
export interface LiveBar {
  start(total: number, value: number): void
  update(value: number): void
  stop(): void
}

/**
 * Makes a {@link LiveBar} writing to `out`, each redraw the text of `line(step)`.
 * @internal
 */
export type MakeLiveBar = (out: ProgressOutput, line: (step: number) => string) => LiveBar

/** Where progress goes by default: Node's standard output, or the console (one line per call). */
const defaultOutput = (): ProgressOutput => {
  const stdout = (globalThis as { process?: { stdout?: ProgressOutput } }).process?.stdout
  return stdout ?? { write: (text: string) => console.log(text.replace(/\n$/, '')) }
}

/**
 * The loop of `fit`, with the live bar it may draw on a terminal.
 * @internal
 */
export const fitLoop = async (
  model: Model,
  x: Tensor,
  y: Tensor,
  opts: FitOptions,
  makeLiveBar: MakeLiveBar | undefined,
): Promise<{ model: Model; history: History }> => {
  const loss = getLoss(opts.loss)
  const metrics = (opts.metrics ?? []).map(getMetric)
  const epochs = opts.epochs ?? 1
  const batchSize = opts.batchSize ?? 32
  const verbose = opts.verbose ?? 1
  const out = opts.output ?? defaultOutput()
  if (!Number.isInteger(epochs) || epochs < 0)
    throw new Error(`fit: epochs must be a non-negative integer, got ${epochs}`)
  if (!Number.isInteger(batchSize) || batchSize <= 0)
    throw new Error(`fit: batchSize must be a positive integer, got ${batchSize}`)
  const nAll = checkRows('fit', x, y)

  // validation data: given, or the last fraction of the rows (taken before shuffling, as Keras)
  let trainX = x
  let trainY = y
  let valid: readonly [Tensor, Tensor] | undefined = opts.validationData
  if (opts.validationSplit !== undefined) {
    if (opts.validationData !== undefined)
      throw new Error('fit: give validationData or validationSplit, not both')
    const s = opts.validationSplit
    if (!(s > 0 && s < 1)) throw new Error(`fit: validationSplit must be in (0, 1), got ${s}`)
    const nTrain = Math.floor(nAll * (1 - s)) // Keras' split_at
    const nValid = nAll - nTrain
    if (nValid === 0 || nTrain === 0)
      throw new Error(`fit: validationSplit ${s} of ${nAll} rows leaves an empty split`)
    trainX = rows(x, 0, nTrain)
    trainY = rows(y, 0, nTrain)
    valid = [rows(x, nTrain, nValid), rows(y, nTrain, nValid)]
  }
  if (valid !== undefined) checkRows('fit: validationData', valid[0], valid[1])
  const n = trainX.shape[0]!
  const steps = Math.ceil(n / batchSize)

  const given: readonly Callback<unknown>[] = opts.callbacks ?? []
  const callbacks: readonly Callback<unknown>[] =
    (opts.terminateOnNaN ?? true) && !given.some((c) => c.name === 'terminateOnNaN')
      ? [...given, terminateOnNaN() as Callback<unknown>]
      : given
  const cbStates = callbacks.map((c) => c.init())
  const trainer = makeTrainer({ loss, metrics, optimizer: opts.optimizer })
  const rootKey = opts.key ?? makeKey(0)
  const historyValues: Record<string, number[]> = {}
  const epochList: number[] = []
  let state: TrainingState = trainer.init(model)
  let stopReason: string | undefined
  const say = (line: string) => {
    if (verbose > 0) out.write(`${line}\n`)
  }

  for (let epoch = 0; epoch < epochs && stopReason === undefined; epoch++) {
    const [shuffleKey, stepKey] = split(foldIn(rootKey, epoch), 2) as [Key, Key]
    const order = (opts.shuffle ?? true) ? permutation(shuffleKey, n) : undefined
    const factor = callbacks.reduce((f, c) => f * (c.learningRateFactor?.(epoch) ?? 1), 1)
    const means = runningMeans()
    const started = performance.now()
    say(`Epoch ${epoch + 1}/${epochs}`)
    const live =
      verbose === 1 && out.isTTY === true && makeLiveBar !== undefined
        ? makeLiveBar(out, (value) =>
            formatLiveLine(
              value,
              steps,
              ((performance.now() - started) / 1000 / Math.max(value, 1)) * (steps - value),
              means.get(),
            ),
          )
        : undefined
    live?.start(steps, 0)
    let step = 0
    forEachBatch(n, batchSize, (start, size) => {
      if (stopReason !== undefined) return
      const idx = order?.subarray(start, start + size)
      const batch =
        idx === undefined
          ? { x: rows(trainX, start, size), y: rows(trainY, start, size) }
          : { x: gather(trainX, idx), y: gather(trainY, idx) }
      const r = trainer.step(state, batch, foldIn(stepKey, step), factor)
      step++
      for (let i = 0; i < callbacks.length; i++) {
        const verdict = callbacks[i]!.onBatchEnd?.(cbStates[i], { epoch, step, steps, loss: r.logs.loss })
        if (verdict === undefined) continue
        cbStates[i] = verdict.state
        if (verdict.stop === true)
          stopReason ??=
            verdict.message ?? `Epoch ${epoch + 1}, step ${step}: stopped by ${callbacks[i]!.name}`
      }
      if (stopReason !== undefined) return // the update of a step that stops training is discarded
      state = r.state
      means.add(size, { loss: r.logs.loss, ...r.logs.metrics })
      live?.update(step)
    })
    live?.stop()
    if (stopReason !== undefined) {
      say(stopReason)
      break
    }
    const seconds = (performance.now() - started) / 1000
    const logs: Record<string, number> = { ...means.get() }
    if (valid !== undefined) {
      const v = evaluate(state.model, valid[0], valid[1], { loss, metrics, batchSize })
      for (const [k, val] of Object.entries(v)) logs[`val_${k}`] = val
    }
    for (const [k, v] of Object.entries(logs)) (historyValues[k] ??= []).push(v)
    epochList.push(epoch)
    if (verbose === 1) say(formatEpochLine(steps, seconds, logs))
    if (verbose === 2) say(formatEpochLineVerbose2(steps, seconds, logs))
    const info: EpochEnd = { epoch, logs, model: state.model }
    for (let i = 0; i < callbacks.length; i++) {
      const cb = callbacks[i]!
      if (cb.onEpochEnd === undefined) continue
      const verdict = await cb.onEpochEnd(cbStates[i], info)
      cbStates[i] = verdict.state
      if (verdict.stop === true && stopReason === undefined) {
        stopReason = verdict.message ?? `Epoch ${epoch + 1}: stopped by ${cb.name}`
        say(stopReason)
      }
    }
  }
  const finalModel = callbacks.reduce(
    (m, cb, i) => (cb.onTrainEnd === undefined ? m : cb.onTrainEnd(cbStates[i], m)),
    state.model,
  )
  const history: History =
    stopReason === undefined
      ? { history: historyValues, epoch: epochList }
      : { history: historyValues, epoch: epochList, stopReason }
  return { model: finalModel, history }
}
