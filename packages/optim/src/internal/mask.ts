/** Resolving a mask (a tree of booleans or a predicate on paths) against a parameter tree. */

import { isTensor, type Tensor, type Tree, type TreeOf, tree } from '@purenn/tensor'

/** A mask as `masked`, `freeze` and `addDecayedWeights` accept it (see `Mask` in mask.ts). */
export type MaskLike = TreeOf<boolean> | ((path: string, leaf: Tensor) => boolean)

const join = (path: string, key: string): string => (path === '' ? key : key === '' ? path : `${path}.${key}`)

/**
 * The dotted paths of the leaves of `params` the mask selects. A tree mask may stop early:
 * a boolean where `params` has a subtree applies to every leaf under it. Entries the params
 * do not have are ignored, so that a mask written for all the params also reads the pruned
 * trees that a masked transformation inside another one sees.
 * @throws ShapeError naming the path where the mask and the params disagree.
 */
export const selectedPaths = (op: string, params: Tree, mask: MaskLike): Set<string> => {
  const flat = tree.flatten(params)
  const flags =
    typeof mask === 'function'
      ? flat.map(([path, leaf]) => mask(path, leaf))
      : tree.maskLeaves(params, mask, { extra: 'ignore', op })
  return new Set(flat.filter((_, i) => flags[i]).map(([path]) => path))
}

/**
 * The subtree of the leaves whose paths are in `keep`, with the paths unchanged: objects lose
 * the keys of dropped leaves, an array that loses elements becomes an object keyed by the
 * remaining indices, and subtrees left without leaves disappear.
 */
export const prune = (t: Tree, keep: ReadonlySet<string>): Tree => prunePath(t, keep, '') ?? {}

const prunePath = (t: Tree, keep: ReadonlySet<string>, path: string): Tree | undefined => {
  if (isTensor(t)) return keep.has(path) ? t : undefined
  const entries = Object.entries(t as Readonly<Record<string, Tree>>)
  if (entries.length === 0) return t
  const kept: [string, Tree][] = []
  for (const [k, c] of entries) {
    const p = prunePath(c, keep, join(path, k))
    if (p !== undefined) kept.push([k, p])
  }
  if (kept.length === 0) return undefined
  if (Array.isArray(t) && kept.length === entries.length) return kept.map(([, c]) => c)
  return Object.fromEntries(kept)
}
