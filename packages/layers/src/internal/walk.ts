// Walking a layer's params and state the way Keras lists weights, and the trainable mask's
// structure. Not exported from the package.
import { isTensor, key, ShapeError, type Tensor, type Tree, type TreeOf, tree, zeros } from '@purenn/tensor'
import { childTree, isContainer } from '../container.js'
import type { AnyBlock, AnyLayer, Shape } from '../layer.js'
import type { Sequential } from '../sequential.js'

/** Whether a weight is trainable-capable (`params`) or non-trainable state (`state`). */
export type WeightGroup = 'params' | 'state'

/** One weight in Keras order: its dotted name (`dense_1.kernel`), its group and its value. */
export interface WeightEntry {
  readonly name: string
  readonly group: WeightGroup
  readonly tensor: Tensor
}

/** True for the layers made by `sequential` (they carry their children and names). */
export const isSequentialLayer = (layer: AnyLayer): layer is Sequential =>
  layer.kind === 'Sequential' && Array.isArray((layer as { layers?: unknown }).layers)

type Obj = { readonly [k: string]: unknown }
const child = (t: unknown, name: string): unknown =>
  typeof t === 'object' && t !== null && !isTensor(t) ? (t as Obj)[name] : undefined
const join = (prefix: string, path: string): string =>
  path === '' ? prefix : prefix === '' ? path : `${prefix}.${path}`

/**
 * The weights of a layer in Keras order: per leaf layer, its params then its state (a dense
 * layer's kernel, bias; a batch-norm layer's gamma, beta, moving mean, moving variance),
 * going into nested sequentials child by child.
 */
export const weightEntries = (
  layer: AnyBlock,
  params: unknown,
  state: unknown,
  prefix = '',
): WeightEntry[] => {
  if (isContainer(layer))
    return layer.layers.flatMap((l, i) => {
      const n = layer.names[i]!
      return weightEntries(l, childTree(params, n), childTree(state, n), join(prefix, n))
    })
  const of = (t: unknown, group: WeightGroup): WeightEntry[] =>
    tree.flatten(t as Tree).map(([path, tensor]) => ({ name: join(prefix, path), group, tensor }))
  return [...of(params, 'params'), ...of(state, 'state')]
}

/**
 * The same params and state with every weight replaced by `next(entry)`, visited in the
 * order of {@link weightEntries}.
 */
export const mapWeights = (
  layer: AnyBlock,
  params: unknown,
  state: unknown,
  next: (e: WeightEntry) => Tensor,
  prefix = '',
): { params: Tree; state: Tree } => {
  if (isContainer(layer)) {
    if (layer.names.length === 1 && layer.names[0] === '')
      return mapWeights(layer.layers[0]!, params, state, next, prefix)
    const p: Record<string, Tree> = {}
    const s: Record<string, Tree> = {}
    layer.layers.forEach((l, i) => {
      const n = layer.names[i]!
      const r = mapWeights(l, childTree(params, n), childTree(state, n), next, join(prefix, n))
      p[n] = r.params
      s[n] = r.state
    })
    return { params: p, state: s }
  }
  const of = (t: unknown, group: WeightGroup): Tree =>
    tree.map(t as Tree, (tensor, path) => next({ name: join(prefix, path), group, tensor }))
  const p = of(params, 'params')
  return { params: p, state: of(state, 'state') }
}

/**
 * Whether each leaf of `params` (in `tree.flatten` order) is trainable under the mask: a
 * boolean covers the whole subtree below it, a leaf the mask has no entry for is trainable,
 * entries the params do not have are ignored.
 */
export const trainableFlags = (params: Tree, mask: TreeOf<boolean>): boolean[] =>
  tree.maskLeaves(params, mask, { missing: true, extra: 'ignore' })

/**
 * The mask with the full structure of `params` (one boolean per tensor), or a message naming
 * the first path where the mask does not fit the params (an entry missing or extra, an array
 * against an object, anything but a boolean at a weight).
 */
export const fullMask = (params: Tree, mask: unknown, where = 'trainable'): TreeOf<boolean> | string => {
  try {
    const flags = tree.maskLeaves(params, mask as TreeOf<boolean>, { op: where })
    let i = 0
    return tree.map(params, () => flags[i++]!)
  } catch (e) {
    if (e instanceof ShapeError) return e.message
    throw e
  }
}

/**
 * The output shape (without batch axis) of each child of a sequential, or of the layer
 * itself, found by running a batch of one zero input through it (inference mode, fixed key):
 * cheap, and exact for any layer.
 */
export const outputShapes = (
  layer: AnyLayer,
  params: unknown,
  state: unknown,
  inputShape: Shape,
): Shape[] => {
  const opts = { training: false, key: key(0) }
  let y = zeros([1, ...inputShape])
  if (!isSequentialLayer(layer)) return [layer.apply(params, state, y, opts).y.shape.slice(1)]
  return layer.layers.map((l, i) => {
    const n = layer.names[i]!
    y = l.apply(child(params, n), child(state, n), y, opts).y
    return y.shape.slice(1)
  })
}

/** The layer with `name` as its explicit name, so that it keeps it inside a new sequential. */
export const withName = (layer: AnyLayer, name: string): AnyLayer =>
  layer.config.name === name ? layer : { ...layer, config: { ...layer.config, name } }
