import { add as addOp, concat, type Key, ShapeError, type Tensor } from '@purenn/tensor'
import { type DefinedLayer, defineLayer } from './define.js'
import { jsonField } from './fields.js'
import {
  type Applied,
  type ApplyOptions,
  type Empty,
  empty,
  type Init,
  type Json,
  type NameOption,
  type Shape,
} from './layer.js'

/**
 * A layer with several inputs and one output (Keras' merge layers `Add`, `Concatenate`).
 *
 * @remarks
 * The input convention: `init` takes the list of the input shapes (each without the batch
 * axis) and `apply` the list of the input tensors, in the same order; both lists hold at
 * least one entry. This is the shape of a layer at the end of a fan-in (stax's `FanInSum`
 * / `FanInConcat`): what a `parallel` block returns goes in as the list. It has no params
 * and no state.
 *
 * @example
 * ```ts
 * import { add, type MergeLayer } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const layer: MergeLayer = add()
 * console.log(layer.init(key(0), [[3], [3]]).outputShape) // [ 3 ]
 * ```
 * @category Layers
 */
export interface MergeLayer {
  /** `Add` or `Concatenate`. */
  readonly kind: string
  /** Everything needed to rebuild the layer, as plain JSON. */
  readonly config: { readonly [key: string]: Json }
  /** The output shape of inputs of shapes `inputShapes` (no batch axis), in order. */
  init(key: Key, inputShapes: readonly Shape[]): Init<Empty, Empty>
  /** Merges the batches `xs`, in the order of `init`'s shapes. */
  apply(params: Empty, state: Empty, xs: readonly Tensor[], opts: ApplyOptions): Applied<Empty>
}

/**
 * Options of the {@link concatenate} layer.
 * @category Layers
 */
export interface ConcatenateOptions extends NameOption {
  /** The axis joined along, counted WITH the batch axis as Keras. Default −1. */
  readonly axis?: number
}

const concatenateSchema = {
  axis: jsonField('number', {
    default: -1,
    check: (a) => (Number.isInteger(a) ? undefined : `must be an integer, got ${a}`),
  }),
} as const

const nonEmpty = (fn: string, n: number): void => {
  if (n === 0) throw new ShapeError(`${fn}: a merge layer needs a list of at least one input, got none`)
}

/**
 * Sums its inputs elementwise (Keras' `Add`): the merge of a residual connection.
 *
 * @remarks
 * `y = x₀ + x₁ + …`, added in list order. The shapes must be equal or broadcast against each
 * other (as Keras' merge layers, a 1 stretches). No params. Input convention: see
 * {@link MergeLayer}. The gradient of each input is the output's cotangent (summed back
 * over broadcast axes).
 *
 * @param opts - `{ name? }`
 * @returns the merge layer
 * @throws ShapeError (at `init` and `apply`) when the list is empty or the shapes do not broadcast,
 * naming the input.
 * @example
 * ```ts
 * import { add } from '@purenn/layers'
 * import { tensor } from '@purenn/tensor'
 * const y = add().apply({}, {}, [tensor([[1, 2]]), tensor([[10, 20]]), tensor([[100, 200]])], { training: false }).y
 * console.log(y.toString()) // tensor([[111, 222]])
 * ```
 * @category Layers
 */
// biome-ignore lint/complexity/noBannedTypes: the empty schema
export const add: DefinedLayer<'Add', {}, Empty, Empty, readonly Tensor[], Tensor> = defineLayer({
  kind: 'Add',
  fn: 'add',
  config: {},
  build: () => ({
    init: (_key, shapes: readonly Shape[]) => {
      nonEmpty('add', shapes.length)
      const out = shapes.reduce((acc: Shape, s, i) => {
        const r = Math.max(acc.length, s.length)
        return Array.from({ length: r }, (_, k) => {
          const a = acc[acc.length - r + k] ?? 1
          const b = s[s.length - r + k] ?? 1
          if (a !== b && a !== 1 && b !== 1)
            throw new ShapeError(
              `add: input ${i} has shape (${s.join(', ')}), which does not match (${acc.join(', ')}) of the inputs before it`,
            )
          return a === 1 ? b : a
        })
      })
      return { params: empty, state: empty, outputShape: out }
    },
    apply: (_params, _state, xs: readonly Tensor[]) => {
      nonEmpty('add', xs.length)
      return xs.slice(1).reduce((s, x) => addOp(s, x), xs[0]!)
    },
  }),
})

/**
 * Joins its inputs along an axis (Keras' `Concatenate`): the merge of an inception-style
 * or DenseNet-style block.
 *
 * @remarks
 * `axis` counts the batch axis, as Keras (−1, the channels, by default; the batch axis
 * itself cannot be joined). Every other axis must agree. No params. Input convention: see
 * {@link MergeLayer}. Each input's gradient is its slice of the output's cotangent.
 *
 * @param opts - `{ axis = -1, name? }`
 * @returns the merge layer
 * @throws Error when `axis` is not an integer; ShapeError (at `init` and `apply`) when the
 * list is empty, the axis is out of range or the batch axis, or the other axes differ.
 * @example
 * ```ts
 * import { concatenate } from '@purenn/layers'
 * import { key, ones, zeros } from '@purenn/tensor'
 * const layer = concatenate()
 * console.log(layer.init(key(0), [[4, 4, 8], [4, 4, 16]]).outputShape) // [ 4, 4, 24 ]
 * console.log(layer.apply({}, {}, [ones([1, 2]), zeros([1, 1])], { training: false }).y.toString()) // tensor([[1, 1, 0]])
 * ```
 * @category Layers
 */
export const concatenate: DefinedLayer<
  'Concatenate',
  typeof concatenateSchema,
  Empty,
  Empty,
  readonly Tensor[],
  Tensor
> = defineLayer({
  kind: 'Concatenate',
  fn: 'concatenate',
  config: concatenateSchema,
  build: ({ axis }) => {
    /** The axis of a shape WITHOUT batch axis. */
    const at = (rank: number): number => {
      const a = axis < 0 ? axis + rank + 1 : axis
      if (a <= 0 || a > rank)
        throw new ShapeError(
          `concatenate: axis ${axis} is ${a === 0 ? 'the batch axis' : 'out of range'} for inputs of rank ${rank + 1} (batch axis included)`,
        )
      return a - 1
    }
    return {
      init: (_key, shapes: readonly Shape[]) => {
        nonEmpty('concatenate', shapes.length)
        const first = shapes[0]!
        const a = at(first.length)
        shapes.forEach((s, i) => {
          if (s.length !== first.length || s.some((d, k) => k !== a && d !== first[k]))
            throw new ShapeError(
              `concatenate: input ${i} has shape (${s.join(', ')}), input 0 has (${first.join(', ')}); all axes but axis ${axis} must agree`,
            )
        })
        const outputShape = first.map((d, k) => (k === a ? shapes.reduce((s, x) => s + x[k]!, 0) : d))
        return { params: empty, state: empty, outputShape }
      },
      apply: (_params, _state, xs: readonly Tensor[]) => {
        nonEmpty('concatenate', xs.length)
        return concat(xs, at(xs[0]!.shape.length - 1) + 1)
      },
    }
  },
})

// the options the merge layers take are the schemas'
const _addOptions: (o: NameOption) => MergeLayer = add
const _concatenateOptions: (o: ConcatenateOptions) => MergeLayer = concatenate
