import { type Key, type Tree, type TreeOf, tree } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { isContainer } from './container.js'
import { fullMask, isSequentialLayer, outputShapes, trainableFlags, withName } from './internal/walk.js'
import type { AnyBlock, AnyLayer, Shape } from './layer.js'
import { initModel, type Model } from './model.js'
import { fromConfig } from './registry.js'
import { type Sequential, sequential } from './sequential.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * Which params {@link freeze} and {@link unfreeze} touch: a list of layer names (`['dense',
 * 'dense_1']`) or paths into nested containers (`'block1/dense'`, names joined by `/`), or
 * a predicate on each weight's dotted path (`'dense_1.kernel'`).
 *
 * @example
 * ```ts
 * import type { Selector } from '@purenn/layers'
 * const hidden: Selector = ['dense', 'dense_1']
 * const kernels: Selector = (path) => path.endsWith('.kernel')
 * console.log(Array.isArray(hidden), kernels('dense.kernel')) // true true
 * ```
 * @category Transfer learning
 */
export type Selector = readonly string[] | ((path: string) => boolean)

/**
 * Options of {@link append} and {@link cloneModel}.
 *
 * @example
 * ```ts
 * import type { KeyOptions } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const opts: KeyOptions = { key: key(7) }
 * console.log(opts.key.words) // [ 0, 7 ]
 * ```
 * @category Transfer learning
 */
export interface KeyOptions {
  /** The PRNG key the new weights are drawn from. */
  readonly key: Key
}

// ---------------------------------------------------------------------------------------
// Helpers: a model seen as a list of children with their values

/** A child of a sequential with its values; `name` pins its name (absent: named the Keras way). */
interface Child {
  readonly layer: AnyLayer
  readonly name?: string
  readonly params: Tree
  readonly state: Tree
  readonly trainable: TreeOf<boolean>
}

type Keyed = { readonly [name: string]: Tree }
const keyed = (t: unknown): Keyed => t as Keyed

/** The model as a sequential (a single-layer model is a one-child sequential) with its children. */
const childrenOf = (
  model: Model,
): { readonly seq: Model<Sequential>; readonly children: readonly Child[] } => {
  const mask = fullMask(model.params, model.trainable)
  if (typeof mask === 'string') throw new Error(`the model's ${mask}`)
  const seq: Model<Sequential> = isSequentialLayer(model.layer)
    ? { ...model, layer: model.layer, trainable: mask }
    : fromChildren('sequential', model.inputShape, [{ ...model, trainable: mask }])
  const children = seq.layer.layers.map((layer, i): Child => {
    const name = seq.layer.names[i]!
    return {
      layer,
      name,
      params: keyed(seq.params)[name]!,
      state: keyed(seq.state)[name]!,
      trainable: (seq.trainable as { readonly [k: string]: TreeOf<boolean> })[name]!,
    }
  })
  return { seq, children }
}

/**
 * A sequential model of these children, which keep their values and, when given, their names
 * (pinned into their config, as Keras layers keep theirs when put into a new model).
 */
const fromChildren = (
  name: string,
  inputShape: Shape | undefined,
  children: readonly Child[],
): Model<Sequential> => {
  const seq = sequential(
    children.map((c) => (c.name === undefined ? c.layer : withName(c.layer, c.name))),
    inputShape === undefined ? { name } : { name, inputShape },
  )
  const pick = <T>(f: (c: Child) => T) => Object.fromEntries(children.map((c, i) => [seq.names[i]!, f(c)]))
  return {
    layer: seq,
    params: pick((c) => c.params),
    state: pick((c) => c.state),
    trainable: pick((c) => c.trainable),
    inputShape: [...(inputShape ?? [])],
  }
}

/** The input shape of each child: the model's input shape pushed through the children before it. */
const inputShapes = (seq: Model<Sequential>): Shape[] => {
  const out = outputShapes(seq.layer, seq.params, seq.state, seq.inputShape)
  return [seq.inputShape, ...out.slice(0, -1)]
}

// ---------------------------------------------------------------------------------------
// Taking layers

/**
 * A model made of children `start` (inclusive) to `end` (exclusive) of a sequential model,
 * with their params, state and trainable mask (`model_A.layers[start:end]` in Keras).
 *
 * @remarks
 * Negative indices count from the end, as `Array.prototype.slice`. The kept layers keep
 * their names. The new model's input shape is the output shape of the layer before
 * `start`. The original model is unchanged, and so it stays: the new model shares its
 * tensors, which are immutable, not its variables (there are none).
 *
 * @param model - the source model (a single-layer model counts as one child)
 * @param start - index of the first child kept
 * @param end - index after the last child kept; default: all the rest
 * @returns the new model
 * @throws Error when the slice is empty
 * @example
 * ```ts
 * import { dense, flatten, initModel, sequential, sliceLayers } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const a = initModel(sequential([flatten(), dense({ units: 30 }), dense({ units: 10 })], { inputShape: [4, 4] }), { key: key(0) })
 * const tail = sliceLayers(a, 1)
 * console.log(tail.layer.names, tail.inputShape, tail.params.dense === a.params.dense) // [ 'dense', 'dense_1' ] [ 16 ] true
 * ```
 * @category Transfer learning
 */
export const sliceLayers = (model: Model, start: number, end?: number): Model<Sequential> => {
  const c = childrenOf(model)
  const n = c.children.length
  const norm = (i: number) => Math.min(Math.max(i < 0 ? n + i : i, 0), n)
  const from = norm(start)
  const to = end === undefined ? n : norm(end)
  if (to <= from)
    throw new Error(`sliceLayers: the slice [${start}, ${end ?? n}) of a model of ${n} layers is empty`)
  return fromChildren(c.seq.layer.name, inputShapes(c.seq)[from]!, c.children.slice(from, to))
}

/**
 * All but the last layer of a sequential model, with their values: the base of transfer
 * learning (`Sequential(model_A.layers[:-1])` in Keras).
 *
 * @param model - the source model
 * @returns the model without its output layer
 * @throws Error when the model has a single layer
 * @example
 * ```ts
 * import { dense, initModel, popLayer, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const a = initModel(sequential([dense({ units: 30 }), dense({ units: 10 })], { inputShape: [8] }), { key: key(0) })
 * console.log(popLayer(a).layer.names) // [ 'dense' ]
 * ```
 * @category Transfer learning
 */
export const popLayer = (model: Model): Model<Sequential> => {
  const c = childrenOf(model)
  if (c.children.length < 2) throw new Error('popLayer: the model has a single layer; nothing would be left')
  return fromChildren(c.seq.layer.name, model.inputShape, c.children.slice(0, -1))
}

/**
 * A model with one more layer at the end, initialized from `key`; every existing weight is
 * kept as it is (`model_B_on_A.add(Dense(1, activation='sigmoid'))`).
 *
 * @remarks
 * Only the new layer is initialized, for the model's current output shape; its params are
 * trainable. Without an explicit name it is named the Keras way after the others (a dense
 * layer after `dense` and `dense_1` is `dense_2`).
 *
 * @param model - the model to extend (a single-layer model becomes a two-layer sequential)
 * @param layer - the new layer
 * @param opts - `{ key }`
 * @returns the new model
 * @example
 * ```ts
 * import { append, dense, initModel, popLayer, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const a = initModel(sequential([dense({ units: 30 }), dense({ units: 10 })], { inputShape: [8] }), { key: key(0) })
 * const b = append(popLayer(a), dense({ units: 1, activation: 'sigmoid' }), { key: key(1) })
 * console.log(b.layer.names, b.params.dense_1.kernel.shape, b.params.dense === a.params.dense) // [ 'dense', 'dense_1' ] [ 30, 1 ] true
 * ```
 * @category Transfer learning
 */
export const append = (model: Model, layer: AnyLayer, opts: KeyOptions): Model<Sequential> => {
  const c = childrenOf(model)
  const inputShape = outputShapes(c.seq.layer, c.seq.params, c.seq.state, c.seq.inputShape).at(-1)!
  const fresh = initModel(layer, { key: opts.key, inputShape })
  return fromChildren(c.seq.layer.name, model.inputShape, [...c.children, fresh])
}

/**
 * The same architecture with fresh weights drawn from `key` (Keras' `clone_model`).
 *
 * @remarks
 * A purenn layer holds no weights (it is a pair of functions plus its config), so the
 * architecture value itself is reused, which is what rebuilding it from its config would
 * give; only `init` runs again. As in Keras, where `trainable` is part of a layer's config,
 * the trainable mask is kept. To copy the weights too, as the chapter does before training
 * model B: `setWeights(cloneModel(a, { key }), getWeights(a))` (not needed here: see the
 * guide "Transfer learning").
 *
 * @param model - the model to clone
 * @param opts - `{ key }`
 * @returns a model with the same layer, input shape and trainable mask, and new weights
 * @example
 * ```ts
 * import { cloneModel, dense, initModel } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const a = initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] })
 * const b = cloneModel(a, { key: key(1) })
 * console.log(b.layer === a.layer, b.params.kernel.toString() === a.params.kernel.toString()) // true false
 * ```
 * @category Transfer learning
 */
export const cloneModel = <L extends AnyLayer>(model: Model<L>, opts: KeyOptions): Model<L> => ({
  ...initModel(model.layer, { key: opts.key, inputShape: model.inputShape }),
  trainable: model.trainable,
})

// ---------------------------------------------------------------------------------------
// Trainable mask

const setMask = (
  fn: string,
  model: Model,
  selector: Selector | undefined,
  value: boolean,
): TreeOf<boolean> => {
  const pick = selectorFor(fn, model, selector)
  const flags = trainableFlags(model.params, model.trainable)
  let i = 0
  return tree.map(model.params as Tree, (_t, path) => {
    const old = flags[i++]!
    return pick(path) ? value : old
  })
}

const selectorFor = (
  fn: string,
  model: Model,
  selector: Selector | undefined,
): ((path: string) => boolean) => {
  if (selector === undefined) return () => true
  if (typeof selector === 'function') return selector
  const prefixes = selector.map((p) => layerPrefix(fn, model.layer, p))
  return (path) => prefixes.some((q) => path === q || path.startsWith(`${q}.`))
}

/** The layers directly inside a container, looking through transparent ones (residual). */
const visible = (layer: AnyBlock): { names: string[]; layers: AnyBlock[] } => {
  if (!isContainer(layer)) return { names: [], layers: [] }
  if (layer.names.length === 1 && layer.names[0] === '') return visible(layer.layers[0]!)
  return { names: [...layer.names], layers: [...layer.layers] }
}

/** The weight-path prefix of the layer at `'block1/dense'` (`block1.dense`), or throws. */
const layerPrefix = (fn: string, root: AnyBlock, path: string): string => {
  let layer = root
  const done: string[] = []
  for (const part of path.split('/')) {
    const { names, layers } = visible(layer)
    const i = names.indexOf(part)
    if (i < 0) {
      const where = done.length === 0 ? "the model's layers are" : `the layers of ${done.join('/')} are`
      throw new Error(
        `${fn}: no layer named "${done.length === 0 ? part : [...done, part].join('/')}"; ${where} ${names.length === 0 ? '(none: it is not a container; select with a predicate on paths)' : names.join(', ')}`,
      )
    }
    done.push(part)
    layer = layers[i]!
  }
  return done.join('.')
}

/**
 * A model whose selected params are frozen: their trainable mask is false, so `fit` leaves
 * them unchanged and frozen batch-norm layers run in inference mode (Keras' `layer.trainable
 * = False`, with no `compile` step needed afterwards).
 *
 * @remarks
 * Only the mask changes; params, state and architecture are shared with `model`. The
 * optimizer applies the mask with Optax-style `masked` updates. Frozen params count as
 * non-trainable in {@link countParams} and {@link summary}.
 *
 * @param model - the model
 * @param selector - layer names or paths into nested containers (`'block1/dense'`), a
 *   predicate on weight paths, or nothing for every param
 * @returns the model with the new mask
 * @throws Error when a name is not a layer of the model
 * @example
 * ```ts
 * import { dense, freeze, initModel, sequential } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const m = initModel(sequential([dense({ units: 3 }), dense({ units: 1 })], { inputShape: [2] }), { key: key(0) })
 * console.log(JSON.stringify(freeze(m, ['dense']).trainable)) // {"dense":{"kernel":false,"bias":false},"dense_1":{"kernel":true,"bias":true}}
 * console.log(JSON.stringify(freeze(m, (path) => path.endsWith('bias')).trainable)) // {"dense":{"kernel":true,"bias":false},"dense_1":{"kernel":true,"bias":false}}
 * ```
 * @category Transfer learning
 */
export const freeze = <L extends AnyLayer>(model: Model<L>, selector?: Selector): Model<L> => ({
  ...model,
  trainable: setMask('freeze', model, selector, false),
})

/**
 * A model whose selected params are trainable again (Keras' `layer.trainable = True`):
 * the counterpart of {@link freeze}, for the fine-tuning phase of transfer learning.
 *
 * @param model - the model
 * @param selector - layer names, a predicate on weight paths, or nothing for every param
 * @returns the model with the new mask
 * @throws Error when a name is not a layer of the model
 * @example
 * ```ts
 * import { dense, freeze, initModel, unfreeze } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const m = freeze(initModel(dense({ units: 1 }), { key: key(0), inputShape: [2] }))
 * console.log(m.trainable, unfreeze(m).trainable) // { kernel: false, bias: false } { kernel: true, bias: true }
 * ```
 * @category Transfer learning
 */
export const unfreeze = <L extends AnyLayer>(model: Model<L>, selector?: Selector): Model<L> => ({
  ...model,
  trainable: setMask('unfreeze', model, selector, true),
})

// ---------------------------------------------------------------------------------------
// Monte Carlo dropout

/** A child with its dropout layers turned into MC-dropout layers (into nested sequentials). */
const toMcDropout = (c: Child): Child => {
  const { layer } = c
  if (isSequentialLayer(layer)) {
    const kids = layer.layers.map((l, i) => {
      const n = layer.names[i]!
      return toMcDropout({
        layer: l,
        name: n,
        params: keyed(c.params)[n]!,
        state: keyed(c.state)[n]!,
        trainable: (c.trainable as { readonly [k: string]: TreeOf<boolean> })[n]!,
      })
    })
    const { params, state, trainable, layer: seq } = fromChildren(layer.name, layer.inputShape, kids)
    return { layer: seq, params, state, trainable, ...(c.name === undefined ? {} : { name: c.name }) }
  }
  if (layer.kind !== 'Dropout') return c
  const { name: _name, ...config } = layer.config
  const mc = fromConfig({ kind: 'MCDropout', config })
  if (E.isLeft(mc)) throw new Error(`withMcDropout: ${mc.left}`)
  return { layer: mc.right, params: c.params, state: c.state, trainable: c.trainable }
}

/**
 * The same model with every `Dropout` layer replaced by an `MCDropout` layer of the same
 * rate, and every weight kept: the chapter's last cell, done on values.
 *
 * @remarks
 * The chapter builds `Sequential([MCDropout(layer.rate) if isinstance(layer, Dropout) else
 * layer for layer in model.layers])` and copies the weights with `set_weights`. Here the
 * other layers, their names, params, state and mask are kept as they are (dropout has no
 * weights); the new layers are named `mc_dropout`, `mc_dropout_1`, ... as in Keras, and
 * nested sequentials are converted too. Predictions then need a key on every call, and
 * averaging many of them gives the MC estimate (`mcPredict` in `@purenn/train`).
 * Alternatively, keep the model and call it with `{ training: false, dropout: true }`.
 *
 * @param model - a trained model with dropout layers
 * @returns the MC-dropout model
 * @example
 * ```ts
 * import { dense, dropout, initModel, sequential, withMcDropout } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const m = initModel(sequential([dropout({ rate: 0.2 }), dense({ units: 3 })], { inputShape: [4] }), { key: key(0) })
 * const mc = withMcDropout(m)
 * console.log(mc.layer.names, mc.layer.layers[0]!.config, mc.params.dense === m.params.dense) // [ 'mc_dropout', 'dense' ] { rate: 0.2 } true
 * ```
 * @category Transfer learning
 */
export const withMcDropout = (model: Model): Model<Sequential> => {
  const c = childrenOf(model)
  return fromChildren(c.seq.layer.name, model.inputShape, c.children.map(toMcDropout))
}
