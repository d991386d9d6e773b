// Walking a layer's params and state the way Keras lists weights, and the trainable mask's
// structure. Not exported from the package.
import { isTensor, key, type Tensor, type Tree, type TreeOf, tree, zeros } from '@purenn/tensor'
import type { AnyLayer, Shape } from '../layer.js'
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
  layer: AnyLayer,
  params: unknown,
  state: unknown,
  prefix = '',
): WeightEntry[] => {
  if (isSequentialLayer(layer))
    return layer.layers.flatMap((l, i) => {
      const n = layer.names[i]!
      return weightEntries(l, child(params, n), child(state, n), join(prefix, n))
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
  layer: AnyLayer,
  params: unknown,
  state: unknown,
  next: (e: WeightEntry) => Tensor,
  prefix = '',
): { params: Tree; state: Tree } => {
  if (isSequentialLayer(layer)) {
    const p: Record<string, Tree> = {}
    const s: Record<string, Tree> = {}
    layer.layers.forEach((l, i) => {
      const n = layer.names[i]!
      const r = mapWeights(l, child(params, n), child(state, n), next, join(prefix, n))
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
 * The value of a trainable mask at a dotted path of the params: a boolean met on the way
 * covers the whole subtree below it. Undefined when the mask has no entry there.
 */
export const maskAt = (mask: TreeOf<boolean>, path: string): boolean | undefined => {
  let m: unknown = mask
  for (const k of path === '' ? [] : path.split('.')) {
    if (typeof m === 'boolean') return m
    m = typeof m === 'object' && m !== null ? (m as Obj)[k] : undefined
  }
  return typeof m === 'boolean' ? m : undefined
}

/**
 * The mask with the full structure of `params` (one boolean per tensor), or a message naming
 * the first path where the mask does not fit the params.
 */
export const fullMask = (params: Tree, mask: unknown, where = 'trainable'): TreeOf<boolean> | string => {
  const go = (p: unknown, m: unknown, path: string): unknown => {
    const at = path === '' ? where : `${where}.${path}`
    if (typeof m === 'boolean') return isTensor(p) ? m : tree.map(p as Tree, () => m)
    if (isTensor(p))
      throw new Error(`${at}: expected a boolean for this weight, got ${JSON.stringify(m) ?? 'nothing'}`)
    if (typeof m !== 'object' || m === null)
      throw new Error(
        `${at}: expected a boolean or a tree of booleans, got ${JSON.stringify(m) ?? 'nothing'}`,
      )
    const pk = Object.keys(p as Obj)
    const extra = Object.keys(m as Obj).filter((k) => !pk.includes(k))
    if (Array.isArray(p) !== Array.isArray(m) || extra.length > 0)
      throw new Error(
        `${at}: the mask has ${extra.length > 0 ? `an entry "${extra[0]}" that the params do not` : 'another structure than the params'}`,
      )
    const out: Record<string, unknown> = {}
    for (const k of pk) out[k] = go((p as Obj)[k], (m as Obj)[k], path === '' ? k : `${path}.${k}`)
    return Array.isArray(p) ? Object.values(out) : out
  }
  try {
    return go(params, mask, '') as TreeOf<boolean>
  } catch (e) {
    return (e as Error).message
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
