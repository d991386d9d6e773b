import {
  getLoss,
  getMetric,
  LabelError,
  type Loss,
  type LossName,
  type Metric,
  type MetricName,
  type Model,
} from '@purenn/layers'
import { type GradientTransformation, getOptimizer, type OptimizerName } from '@purenn/optim'
import {
  foldIn,
  gather,
  type Key,
  key as makeKey,
  permutation,
  split,
  type Tensor,
  type Tree,
  tree,
} from '@purenn/tensor'
import { openStepScope, unscoped } from '@purenn/tensor/internal'
import { type AnyCallback, type Callback, type EpochEnd, terminateOnNaN } from './callbacks.js'
import type { CheckpointOptions, readCheckpoint, TrainingCheckpoint, writeCheckpoint } from './checkpoint.js'
import { buffersOf, detached, makeLedger } from './ledger.js'
import { evaluate, rows } from './predict.js'
import { formatEpochLine, formatEpochLineVerbose2, formatLiveLine, type Logs } from './progress.js'
import { gatherRows, type Rows, sliceRows, takeRows } from './rowSource.js'
import { type Batch, makeTrainer, type TrainingState } from './step.js'

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
  /**
   * True when training stopped on a fault (a non-finite loss or state, a divergence guard):
   * the model returned is then the last one whose loss was finite.
   */
  readonly fault?: boolean
  /**
   * The learning rate of each epoch's last step: the optimizer's rate (its schedule at that
   * step) times the callbacks' factors. Present when the optimizer says its rate (every
   * built-in optimizer and name does; a hand-built `chain` does not). Checkpoints keep it, so a
   * resumed run has the same history.
   */
  readonly learningRate?: readonly number[]
  /**
   * The final state of each callback that asks for it (`reportState`, as
   * `recordDiagnostics`), by the callback's name: where a recording callback leaves its data.
   */
  readonly callbackStates?: Readonly<Record<string, unknown>>
}

/**
 * Options of {@link fit}, named as Keras' `compile` and `fit` arguments in camelCase.
 * @category Training
 */
export interface FitOptions {
  /** The loss, by name (`'sparseCategoricalCrossentropy'`) or value. */
  readonly loss: Loss | LossName
  /**
   * The optimizer: any gradient transformation (`sgd(...)`, `adam(...)`, a `chain`), or a
   * name (`'adam'`, `'sgd'`, ...: Keras' defaults, see `getOptimizer`).
   */
  readonly optimizer: GradientTransformation<unknown> | OptimizerName
  /** Metrics to report, e.g. `['accuracy']`. Default none. */
  readonly metrics?: readonly (Metric | MetricName)[]
  /** Number of passes over the data. Default 1. */
  readonly epochs?: number
  /** Rows per step. Default 32. */
  readonly batchSize?: number
  /** Data to validate on after each epoch (`val_loss`, `val_accuracy`). */
  readonly validationData?: readonly [Rows, Tensor]
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
  /**
   * Add {@link terminateOnNaN} (Keras' TerminateOnNaN) unless already given, and stop on
   * non-finite values in the model's state or weights. Default true.
   */
  readonly terminateOnNaN?: boolean
  /** 0 silent, 1 progress bar (one line per epoch when not on a terminal), 2 one line per epoch. Default 1. */
  readonly verbose?: 0 | 1 | 2
  /**
   * The epoch to start at, counting from 0 (Keras' `initial_epoch`): epochs `initialEpoch` to
   * `epochs - 1` are run, each with the shuffle order and dropout keys it has in a run from 0.
   */
  readonly initialEpoch?: number
  /** Write a training checkpoint after each epoch (and every `everySteps` steps) into `dir`. */
  readonly checkpoint?: CheckpointOptions
  /**
   * Continue from the checkpoint in this folder (written by `checkpoint`): model, optimizer
   * state, key, epoch, position in the epoch's order, history and callback states all come
   * from it, so the run ends bit for bit as one that was never interrupted. The data, batch
   * size, shuffle and callbacks must be the same as in the run that wrote it.
   */
  readonly resumeFrom?: string
  /** Where progress goes. Default `process.stdout`. */
  readonly output?: ProgressOutput
}

/** The path of the first leaf holding a NaN or an infinity, if any. */
const firstNonFinite = (t: unknown): string | undefined => {
  for (const [path, leaf] of tree.flatten(t as Tree)) {
    const d = leaf.data
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return path
  }
  return undefined
}

const checkRows = (op: string, x: Rows, y: Tensor): number => {
  const n = x.shape[0]
  if (n === undefined || n === 0) throw new Error(`${op}: x has no rows (shape [${x.shape.join(',')}])`)
  if (y.shape[0] !== n) throw new Error(`${op}: x has ${n} rows but y has ${y.shape[0] ?? 0}`)
  return n
}

/** Running means of the step values, weighted by batch size, as Keras' progress bar shows them. */
const runningMeans = (
  from: { rows: number; sums: Readonly<Record<string, number>> } = { rows: 0, sums: {} },
) => {
  let rowsSeen = from.rows
  const sums = new Map<string, number>(Object.entries(from.sums))
  return {
    snapshot: () => ({ rows: rowsSeen, sums: Object.fromEntries(sums) }),
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
 * How `fit` writes and reads training checkpoints (Node's entry gives the file-based ones;
 * elsewhere there are none and `checkpoint`/`resumeFrom` are refused).
 * @internal
 */
export interface CheckpointIO {
  readonly write: typeof writeCheckpoint
  readonly read: typeof readCheckpoint
}

/**
 * The loop of `fit`, with the live bar it may draw on a terminal and the checkpoint files it
 * may write and read.
 * @internal
 */
export const fitLoop = async (
  model: Model,
  x: Rows,
  y: Tensor,
  opts: FitOptions,
  makeLiveBar: MakeLiveBar | undefined,
  checkpointIO: CheckpointIO | undefined,
): Promise<{ model: Model; history: History }> => {
  if (checkpointIO === undefined && (opts.checkpoint !== undefined || opts.resumeFrom !== undefined))
    throw new Error(
      `fit: ${opts.checkpoint !== undefined ? 'checkpoint' : 'resumeFrom'} needs files: it is available from the Node entry of @purenn/train only`,
    )
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
  let valid: readonly [Rows, Tensor] | undefined = opts.validationData
  if (opts.validationSplit !== undefined) {
    if (opts.validationData !== undefined)
      throw new Error('fit: give validationData or validationSplit, not both')
    const s = opts.validationSplit
    if (!(s > 0 && s < 1)) throw new Error(`fit: validationSplit must be in (0, 1), got ${s}`)
    const nTrain = Math.floor(nAll * (1 - s)) // Keras' split_at
    const nValid = nAll - nTrain
    if (nValid === 0 || nTrain === 0)
      throw new Error(`fit: validationSplit ${s} of ${nAll} rows leaves an empty split`)
    trainX = sliceRows(x, 0, nTrain)
    trainY = rows(y, 0, nTrain)
    valid = [sliceRows(x, nTrain, nValid), rows(y, nTrain, nValid)]
  }
  if (valid !== undefined) checkRows('fit: validationData', valid[0], valid[1])
  const n = trainX.shape[0]!
  const steps = Math.ceil(n / batchSize)

  const given: readonly Callback<unknown>[] = opts.callbacks ?? []
  const checkFinite = opts.terminateOnNaN ?? true
  const callbacks: readonly Callback<unknown>[] =
    checkFinite && !given.some((c) => c.name === 'terminateOnNaN')
      ? [...given, terminateOnNaN() as Callback<unknown>]
      : given
  const cbStates = callbacks.map((c) => c.init())
  const optimizer = getOptimizer(opts.optimizer)
  const trainer = makeTrainer({ loss, metrics, optimizer, ownedBuffers: true })
  const baseRate = optimizer.learningRate
  const rateAt = (iteration: number, factor: number): number | undefined =>
    baseRate === undefined
      ? undefined
      : (typeof baseRate === 'number' ? baseRate : baseRate(iteration)) * factor
  const learningRates: number[] = []
  let rootKey = opts.key ?? makeKey(0)
  const historyValues: Record<string, number[]> = {}
  const epochList: number[] = []
  let state: TrainingState
  let lastFinite: TrainingState | undefined
  let stopReason: string | undefined
  let fault = false
  const say = (line: string) => {
    if (verbose > 0) out.write(`${line}\n`)
  }
  const shuffle = opts.shuffle ?? true
  let startEpoch = opts.initialEpoch ?? 0
  if (!Number.isInteger(startEpoch) || startEpoch < 0)
    throw new Error(`fit: initialEpoch must be a non-negative integer, got ${startEpoch}`)
  let startStep = 0
  let startMeans: TrainingCheckpoint['means'] | undefined
  if (opts.resumeFrom !== undefined) {
    const c = await checkpointIO!.read(opts.resumeFrom)
    const mine = { rows: n, batchSize, shuffle }
    const what = (d: typeof mine) => `${d.rows} rows, batch size ${d.batchSize}, shuffle ${d.shuffle}`
    if (what(c.data) !== what(mine))
      throw new Error(
        `fit: resumeFrom ${opts.resumeFrom}: the checkpoint was written for ${what(c.data)}; this call has ${what(mine)}`,
      )
    const names = (l: readonly { name: string }[]) => l.map((cb) => cb.name).join(', ')
    if (names(c.callbacks) !== names(callbacks))
      throw new Error(
        `fit: resumeFrom ${opts.resumeFrom}: the checkpoint holds the states of the callbacks [${names(c.callbacks)}]; this call has [${names(callbacks)}]`,
      )
    if (opts.key !== undefined && opts.key.words.join() !== c.key.words.join())
      throw new Error(`fit: resumeFrom ${opts.resumeFrom}: the key given differs from the checkpoint's`)
    if (opts.initialEpoch !== undefined && opts.initialEpoch !== c.epoch)
      throw new Error(
        `fit: resumeFrom ${opts.resumeFrom}: initialEpoch ${opts.initialEpoch} differs from the checkpoint's epoch ${c.epoch}`,
      )
    rootKey = c.key
    state = { model: c.model, optState: c.optState, step: c.step }
    startEpoch = c.epoch
    startStep = c.stepInEpoch
    startMeans = c.means
    for (const [k, v] of Object.entries(c.history.history)) historyValues[k] = [...v]
    epochList.push(...c.history.epoch)
    learningRates.push(...(c.history.learningRate ?? []))
    c.callbacks.forEach((cb, i) => {
      cbStates[i] = cb.state
    })
  } else state = trainer.init(model)
  // frees the params and optimizer state of each step once two later steps have replaced
  // them (the loop keeps the last finite state to fall back on); what callbacks, evaluations
  // and checkpoints see, and what fit returns, is a plain copy (`detached`)
  const ledger = makeLedger(state)
  const everySteps = opts.checkpoint?.everySteps
  if (everySteps !== undefined && !(Number.isInteger(everySteps) && everySteps > 0))
    throw new Error(`fit: checkpoint.everySteps must be a positive integer, got ${everySteps}`)
  const checkpoint = async (epoch: number, stepInEpoch: number, means: TrainingCheckpoint['means']) => {
    if (opts.checkpoint === undefined) return
    state = detached(state)
    await checkpointIO!.write(
      {
        model: state.model,
        optState: state.optState,
        key: rootKey,
        epoch,
        stepInEpoch,
        step: state.step,
        means,
        history: {
          history: historyValues,
          epoch: epochList,
          ...(baseRate === undefined ? {} : { learningRate: learningRates }),
        },
        callbacks: callbacks.map((cb, i) => ({ name: cb.name, state: cbStates[i] })),
        data: { rows: n, batchSize, shuffle },
      },
      opts.checkpoint.dir,
      opts.checkpoint.keepPrevious ?? 1,
    )
  }
  /** One pure step; a worker of the pool that died or got stuck is replaced and the step run again. */
  const stepOnce = (s: TrainingState, batch: Batch, k: Key, factor: number) => {
    try {
      return trainer.step(s, batch, k, factor)
    } catch (e) {
      const poolFault =
        e instanceof Error &&
        (e.message.startsWith('purenn worker pool: worker ') ||
          e.message.startsWith('purenn worker pool: the workers did not finish'))
      if (!poolFault) throw e
      say(`${e.message}; the pool was restarted and the step is run again`)
      return trainer.step(s, batch, k, factor)
    }
  }

  for (let epoch = startEpoch; epoch < epochs && stopReason === undefined; epoch++) {
    const [shuffleKey, stepKey] = split(foldIn(rootKey, epoch), 2) as [Key, Key]
    const order = shuffle ? permutation(shuffleKey, n) : undefined
    const factor = callbacks.reduce((f, c) => f * (c.learningRateFactor?.(epoch) ?? 1), 1)
    const firstStep = epoch === startEpoch ? startStep : 0
    const means = runningMeans(epoch === startEpoch ? startMeans : undefined)
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
    live?.start(steps, firstStep)
    let lastRate: number | undefined
    for (let step = firstStep; step < steps && stopReason === undefined; ) {
      const start = step * batchSize
      const size = Math.min(batchSize, n - start)
      const idx = order?.subarray(start, start + size)
      const at = { epoch, step: step + 1, steps, iteration: state.step }
      const stepFactor = callbacks.reduce(
        (f, c, i) => f * (c.learningRateFactorAt?.(cbStates[i], at) ?? 1),
        factor,
      )
      const rate = rateAt(state.step, stepFactor)
      if (rate !== undefined) lastRate = rate
      // the batch lives as long as its step: made on blocks of the kernels' memory (which the
      // step's first product reads in place) that are freed when the step returns, unless the
      // new state holds them
      const batchScope = openStepScope()
      let r: ReturnType<typeof stepOnce> | undefined
      try {
        const batch =
          idx === undefined
            ? { x: takeRows(trainX, start, size), y: rows(trainY, start, size) }
            : { x: gatherRows(trainX, idx), y: gather(trainY, idx) }
        r = unscoped(() => stepOnce(state, batch, foldIn(stepKey, step), stepFactor))
      } catch (e) {
        // a bad label is reported at its row of the dataset's y, not of the shuffled batch
        if (!(e instanceof LabelError) || e.context.op !== undefined) throw e
        const row = idx === undefined ? start + e.row : idx[e.row]!
        throw new LabelError(e.loss, e.label, row, e.classes, {
          op: 'fit',
          where: ` of y (epoch ${epoch + 1}, step ${step + 1}, row ${e.row} of its batch)`,
        })
      } finally {
        // the new state may hold the batch (a layer keeping its input in its state): keep
        // what it holds, or everything when it has something nobody can see into (a Map)
        const held = new Set<object>()
        const seen = r === undefined || buffersOf(r.state, held)
        batchScope.close(seen ? held : undefined)
      }
      step++
      for (let i = 0; i < callbacks.length; i++) {
        const verdict = callbacks[i]!.onBatchEnd?.(cbStates[i], {
          epoch,
          step,
          steps,
          loss: r.logs.loss,
          ...(rate === undefined ? {} : { learningRate: rate }),
        })
        if (verdict === undefined) continue
        cbStates[i] = verdict.state
        if (verdict.stop === true && stopReason === undefined) {
          stopReason = verdict.message ?? `Epoch ${epoch + 1}, step ${step}: stopped by ${callbacks[i]!.name}`
          fault = verdict.fault === true
        }
      }
      if (stopReason !== undefined) break // the update of a step that stops training is discarded
      // the loss of `state` was finite: it is the model to fall back on
      lastFinite = state
      const bad = checkFinite ? firstNonFinite(r.state.model.state) : undefined
      if (bad !== undefined) {
        stopReason = `Epoch ${epoch + 1}, step ${step}/${steps}: non-finite value in the model's state (${bad}), terminating training`
        fault = true
        break
      }
      state = r.state
      ledger.commit([state, lastFinite])
      means.add(size, { loss: r.logs.loss, ...r.logs.metrics })
      live?.update(step)
      // no checkpoint holds a non-finite weight (the next step's loss would stop the run)
      if (
        everySteps !== undefined &&
        step % everySteps === 0 &&
        step < steps &&
        firstNonFinite(state.model.params) === undefined
      )
        await checkpoint(epoch, step, means.snapshot())
    }
    live?.stop()
    if (stopReason === undefined && checkFinite) {
      // the last update of the epoch has no loss yet: its weights are checked before any
      // callback (a checkpoint) sees them
      const bad = firstNonFinite(state.model.params) ?? firstNonFinite(state.model.state)
      if (bad !== undefined) {
        stopReason = `Epoch ${epoch + 1}: non-finite value in the model's weights (${bad}) after the last step, terminating training`
        fault = true
        state = lastFinite ?? state
      }
    } else if (fault) state = lastFinite ?? state
    if (stopReason !== undefined) {
      say(stopReason)
      break
    }
    const seconds = (performance.now() - started) / 1000
    state = detached(state)
    const logs: Record<string, number> = { ...means.get() }
    if (valid !== undefined) {
      let v: Record<string, number>
      try {
        v = evaluate(state.model, valid[0], valid[1], { loss, metrics, batchSize })
      } catch (e) {
        if (!(e instanceof LabelError) || e.context.op !== 'evaluate') throw e
        // the validation split is the last rows of y; validationData has its own y
        throw new LabelError(
          e.loss,
          e.label,
          opts.validationSplit === undefined ? e.row : n + e.row,
          e.classes,
          {
            op: 'fit',
            where:
              opts.validationSplit === undefined ? ' of validationData' : ' of y (in the validation split)',
          },
        )
      }
      for (const [k, val] of Object.entries(v)) logs[`val_${k}`] = val
    }
    for (const [k, v] of Object.entries(logs)) (historyValues[k] ??= []).push(v)
    epochList.push(epoch)
    if (lastRate !== undefined) learningRates.push(lastRate)
    if (verbose === 1) say(formatEpochLine(steps, seconds, logs))
    if (verbose === 2) say(formatEpochLineVerbose2(steps, seconds, logs))
    const info: EpochEnd = {
      epoch,
      logs,
      model: state.model,
      ...(lastRate === undefined ? {} : { learningRate: lastRate }),
    }
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
    await checkpoint(epoch + 1, 0, { rows: 0, sums: {} })
  }
  // the state fit returns is plain, and every owned buffer is free again
  state = detached(state)
  ledger.commit([state])
  const finalModel = callbacks.reduce(
    (m, cb, i) => (cb.onTrainEnd === undefined ? m : cb.onTrainEnd(cbStates[i], m)),
    state.model,
  )
  const reported = callbacks.flatMap((cb, i) => (cb.reportState === true ? [i] : []))
  const history: History = {
    history: historyValues,
    epoch: epochList,
    ...(stopReason === undefined ? {} : { stopReason, ...(fault ? { fault } : {}) }),
    ...(baseRate === undefined ? {} : { learningRate: learningRates }),
    ...(reported.length === 0
      ? {}
      : { callbackStates: Object.fromEntries(reported.map((i) => [callbacks[i]!.name, cbStates[i]])) }),
  }
  return { model: finalModel, history }
}
