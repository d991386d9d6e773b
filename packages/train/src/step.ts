import type { Loss, Metric, Model } from '@purenn/layers'
import type { GradientTransformation } from '@purenn/optim'
import { masked, updateAndApply } from '@purenn/optim'
import {
  add,
  type Key,
  type Tensor,
  type Tree,
  type TreeOf,
  tree,
  valueAndGrad,
  zerosLike,
} from '@purenn/tensor'
import { openStepScope, releaseFloats, unscoped } from '@purenn/tensor/internal'
import { buffersOf, ownedIn } from './ledger.js'

/**
 * Everything a training step reads and writes: the model (params, state, trainable mask),
 * the optimizer state and the step count. A step maps one to the next; nothing is mutated.
 * @category Training
 */
export interface TrainingState {
  /** The model as of this step. */
  readonly model: Model
  /** The optimizer's state (a plain tree of tensors and numbers). */
  readonly optState: unknown
  /** Number of steps taken so far. */
  readonly step: number
}

/**
 * One batch of inputs and targets.
 * @category Training
 */
export interface Batch {
  /** Inputs, batch axis first. */
  readonly x: Tensor
  /** Targets (class indices for sparse losses), batch axis first. */
  readonly y: Tensor
}

/**
 * What a training step reports besides the new state: the batch loss (including
 * regularization penalties, as Keras reports it) and the batch metrics.
 * @category Training
 */
export interface StepLogs {
  /** Loss of the batch, penalties included. */
  readonly loss: number
  /** Each metric's value on the batch, by name. */
  readonly metrics: Readonly<Record<string, number>>
}

/**
 * The pure training step and the initial state it starts from.
 * @category Training
 */
export interface Trainer {
  /** The state before the first step: optimizer initialized on the model's params. */
  readonly init: (model: Model) => TrainingState
  /**
   * One step on one batch with one key (for dropout): returns the next state and the logs.
   * `learningRateFactor` (default 1) scales the updates (see `learningRateScheduler`).
   */
  readonly step: (
    s: TrainingState,
    batch: Batch,
    key: Key,
    learningRateFactor?: number,
  ) => { readonly state: TrainingState; readonly logs: StepLogs }
}

/** The leaves of `params` split by the trainable mask, as flat path → tensor records. */
const partition = (params: Tree, mask: TreeOf<boolean>) => {
  const flat = tree.flatten(params)
  const maskLeaves = tree.maskLeaves(params, mask, { missing: true, extra: 'ignore', op: 'fit: trainable' })
  const trainable: Record<string, Tensor> = {}
  const frozen: Record<string, Tensor> = {}
  flat.forEach(([path, leaf], i) => {
    if (maskLeaves[i]) trainable[path] = leaf
    else frozen[path] = leaf
  })
  return { flat, trainable, frozen, maskLeaves }
}

/**
 * The params after the layers' weight constraints (Keras applies them right after the
 * optimizer's update, to the variables it updated): frozen params stay as they are.
 */
const project = (model: Model, params: Tree, maskLeaves: readonly boolean[]): Tree => {
  if (model.layer.constrain === undefined) return params
  const projected = tree.leaves(model.layer.constrain(params))
  const before = tree.leaves(params)
  return tree.unflatten(
    params,
    before.map((leaf, i) => (maskLeaves[i] ? projected[i]! : leaf)),
  )
}

/**
 * Builds the training step of a model, a loss, metrics and an optimizer.
 *
 * @remarks
 * The step computes, with one `valueAndGrad`, the loss of the batch in training mode plus
 * the layers' regularization penalties, and its gradient with respect to the *trainable*
 * params only: frozen params enter the computation as constants, so the backward pass skips
 * every part of the graph that depends only on them. The optimizer runs under
 * `masked(optimizer, trainableMask)`, so frozen params get no update and no weight decay;
 * the update and its application are `updateAndApply`, one pass per parameter for the
 * built-in optimizers (bitwise the same as `update` then `applyUpdates`).
 * Batch-norm statistics come back from the layers' `apply` as the new state. After the
 * update, the layers' weight constraints (`kernelConstraint: maxNorm(1)`, ...) project the
 * trainable params, Keras' place for them (projected gradient descent). The step is a
 * pure function `(state, batch, key) -> state`; `fit` loops over it.
 *
 * @param opts - the loss, the metrics (reported per batch) and the optimizer
 * @returns `init` and `step`
 * @example
 * ```ts
 * import { dense, initModel, sequential, sparseCategoricalCrossentropy } from '@purenn/layers'
 * import { sgd } from '@purenn/optim'
 * import { key, tensor } from '@purenn/tensor'
 * import { makeTrainer } from '@purenn/train'
 * const model = initModel(sequential([dense({ units: 2, activation: 'softmax' })], { inputShape: [2] }), { key: key(0) })
 * const trainer = makeTrainer({ loss: sparseCategoricalCrossentropy(), metrics: [], optimizer: sgd({ learningRate: 0.5 }) })
 * let s = trainer.init(model)
 * const batch = { x: tensor([[1, 0], [0, 1]]), y: tensor([0, 1]) }
 * const first = trainer.step(s, batch, key(1))
 * for (let i = 0; i < 20; i++) s = trainer.step(s, batch, key(i)).state
 * console.log(trainer.step(s, batch, key(99)).logs.loss < first.logs.loss) // true
 * ```
 * @category Training
 */
export const makeTrainer = (opts: {
  readonly loss: Loss
  readonly metrics: readonly Metric[]
  readonly optimizer: GradientTransformation<unknown>
  /**
   * The optimizer's new params and state go to buffers whose lifetime the caller manages
   * (`StepOptions.ownedBuffers` of `@purenn/optim`; not with weight constraints, whose
   * projection makes new params): for a loop that frees them with a ledger, as `fit` does.
   * The gradients too (`valueAndGrad`'s `ownedGradients`), which the step frees itself once
   * the optimizer has used them, unless the new state holds one (a transformation of your
   * own may keep a gradient in its state).
   * @internal
   */
  readonly ownedBuffers?: boolean
}): Trainer => {
  const { loss, metrics } = opts
  const optimizerFor = (model: Model) => masked(opts.optimizer, model.trainable as never)
  // The zero gradient of each frozen param, made once: applyUpdates returns a param with a
  // zero update as it is, so a frozen param is the same tensor from step to step.
  const zeroGrads = new WeakMap<Tensor, Tensor>()
  const zeroGradOf = (leaf: Tensor): Tensor => {
    let z = zeroGrads.get(leaf)
    if (z === undefined) zeroGrads.set(leaf, (z = zerosLike(leaf)))
    return z
  }
  return {
    init: (model) => ({ model, optState: optimizerFor(model).init(model.params), step: 0 }),
    step: (s, batch, key, learningRateFactor = 1) => {
      const { model } = s
      const { flat, trainable, frozen, maskLeaves } = partition(model.params, model.trainable)
      const objective = (free: Record<string, Tensor>) => {
        const params = tree.unflatten(
          model.params,
          flat.map(([path]) => free[path] ?? frozen[path]!),
        )
        const r = model.layer.apply(params, model.state, batch.x, {
          training: true,
          key,
          trainable: model.trainable,
        })
        const dataLoss = loss.fn(batch.y, r.y)
        const total =
          model.layer.penalty === undefined ? dataLoss : add(dataLoss, model.layer.penalty(params))
        return [total, { state: r.state, yPred: r.y }] as const
      }
      // not when the state has values whose insides cannot be seen (a Map, a class instance):
      // they might keep a gradient or a param, which must then never be freed
      const owned =
        opts.ownedBuffers === true && ownedIn(s.optState, new Set()) && ownedIn(model.state, new Set())
      // kept from step to step, so made outside the step's scope
      const zeros = flat.map(([, leaf], i) => (maskLeaves[i] ? undefined : unscoped(() => zeroGradOf(leaf))))
      // every op's result of this step on an owned block, freed when the step ends unless the
      // new state holds it (the loop's ledger frees it then): the step is a pure function of
      // its arguments, nothing else can hold them (an exception frees nothing)
      const scope = owned ? openStepScope() : undefined
      try {
        const { value, grad, aux } = valueAndGrad(objective, { hasAux: true, ownedGradients: owned })(
          trainable,
        )
        const grads = tree.unflatten(
          model.params,
          flat.map(([path], i) => zeros[i] ?? grad[path]!),
        )
        // the optimizer's fused step where it has one (one pass per parameter), else update then
        // applyUpdates: the same bits either way
        const { params: updated, state: optState } = updateAndApply(
          optimizerFor(model),
          grads,
          s.optState as never,
          model.params,
          {
            learningRateFactor,
            ownedBuffers: owned && model.layer.constrain === undefined,
          },
        )
        const next: Model = { ...model, params: project(model, updated, maskLeaves), state: aux.state }
        const metricValues: Record<string, number> = {}
        for (const m of metrics) metricValues[m.name] = m.fn(batch.y, aux.yPred).item()
        const logs = { loss: value.item(), metrics: metricValues }
        const state = { model: next, optState, step: s.step + 1 }
        if (scope !== undefined) {
          // the gradients and the step's intermediates are dead now, unless the new state
          // holds one (a transformation of your own may keep a gradient in its state)
          const held = new Set<object>()
          const seen = buffersOf(state, held)
          if (seen)
            for (const g of Object.values(grad)) if (!held.has(g.data)) releaseFloats(g.data as Float32Array)
          scope.close(seen ? held : undefined)
        }
        return { state, logs }
      } finally {
        scope?.close(undefined)
      }
    },
  }
}
