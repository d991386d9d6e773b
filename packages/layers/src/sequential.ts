import { add, type Key, scalar, split, type Tensor, type TreeOf } from '@purenn/tensor'
import * as A from 'fp-ts/lib/Array.js'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { checkOptions, decodeWith } from './internal/config.js'
import type { AnyLayer, ApplyOptions, Json, Layer, Shape } from './layer.js'

/**
 * Params or state of a sequential model: one entry per child, keyed by the child's name.
 * @category Layers
 */
// biome-ignore lint/suspicious/noExplicitAny: each child has its own tree type
export type Children = { readonly [name: string]: any }

/**
 * Options of {@link sequential}.
 * @category Layers
 */
export interface SequentialOptions {
  /** Shape of one input, without the batch axis (Keras' `input_shape`), e.g. `[28, 28]`. */
  readonly inputShape?: Shape
  /** Model name shown by `summary`. Default `'sequential'`. */
  readonly name?: string
}

/**
 * A layer made of layers applied one after the other. Besides the `Layer` fields, it keeps
 * its children and their names so models can be sliced, extended and summarized.
 * @category Layers
 */
export interface Sequential extends Layer<Children, Children> {
  readonly kind: 'Sequential'
  /** The children, in order. */
  readonly layers: readonly AnyLayer[]
  /** The children's names, Keras style: `dense`, `dense_1`, `batch_normalization`, ... */
  readonly names: readonly string[]
  /** The model name. */
  readonly name: string
  /** The declared input shape, if any. */
  readonly inputShape?: Shape
}

/**
 * Keras' `to_snake_case` of a class name: `Dense` → `dense`, `BatchNormalization` →
 * `batch_normalization`, `LeakyReLU` → `leaky_re_lu`.
 * @internal
 */
export const snakeCase = (kind: string): string =>
  kind
    .replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()

/**
 * Names children the Keras way: an explicit `config.name` is kept; otherwise the snake-case
 * kind, with `_1`, `_2`, ... for the second and later layers of a kind.
 * @internal
 */
export const childNames = (layers: readonly AnyLayer[]): string[] => {
  const used = new Set(layers.flatMap((l) => (typeof l.config.name === 'string' ? [l.config.name] : [])))
  const counts = new Map<string, number>()
  return layers.map((l) => {
    if (typeof l.config.name === 'string') return l.config.name
    const base = snakeCase(l.kind)
    for (;;) {
      const n = counts.get(base) ?? 0
      counts.set(base, n + 1)
      const candidate = n === 0 ? base : `${base}_${n}`
      if (!used.has(candidate)) {
        used.add(candidate)
        return candidate
      }
    }
  })
}

const subMask = (mask: TreeOf<boolean> | undefined, name: string): TreeOf<boolean> | undefined => {
  if (mask === undefined || typeof mask === 'boolean') return mask
  if (Array.isArray(mask)) return undefined
  return (mask as { readonly [k: string]: TreeOf<boolean> })[name]
}

/**
 * Chains layers: the output of each is the input of the next (Keras' `Sequential`).
 *
 * @remarks
 * `init` splits the key once per child and passes shapes forward; params and state are
 * keyed by child name (`{ dense: { kernel, bias }, batch_normalization: {...} }`).
 * `apply` splits its key (when given) once per child and threads the state through, so
 * batch-norm layers return their new moving statistics; a child's part of the `trainable`
 * mask is passed down. The penalty is the sum of the children's penalties; `constrain`
 * projects each child's params with the child's own `constrain`.
 *
 * @throws Error when two children share an explicit name.
 * @example
 * ```ts
 * import { dense, flatten, sequential } from '@purenn/layers'
 * const model = sequential([flatten(), dense({ units: 300, activation: 'relu' }), dense({ units: 10 })], {
 *   inputShape: [28, 28],
 * })
 * console.log(model.names) // [ 'flatten', 'dense', 'dense_1' ]
 * ```
 * @category Layers
 */
export const sequential = (layers: readonly AnyLayer[], opts: SequentialOptions = {}): Sequential => {
  checkOptions('sequential', opts, ['inputShape', 'name'])
  const names = childNames(layers)
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  if (dup !== undefined)
    throw new Error(`sequential: two layers are named "${dup}"; layer names must be unique`)
  const name = opts.name ?? 'sequential'
  const config: { [key: string]: Json } = {
    name,
    layers: layers.map((l) => ({ kind: l.kind, config: l.config })),
  }
  if (opts.inputShape !== undefined) config.inputShape = [...opts.inputShape]
  const withPenalty = layers.some((l) => l.penalty !== undefined)
  const seq: Sequential = {
    kind: 'Sequential',
    config,
    layers,
    names,
    name,
    ...(opts.inputShape === undefined ? {} : { inputShape: opts.inputShape }),
    init: (key, inputShape) => {
      const keys = split(key, Math.max(layers.length, 1))
      const params: Record<string, unknown> = {}
      const state: Record<string, unknown> = {}
      let shape = inputShape
      layers.forEach((l, i) => {
        const r = l.init(keys[i]!, shape)
        params[names[i]!] = r.params
        state[names[i]!] = r.state
        shape = r.outputShape
      })
      return { params, state, outputShape: shape }
    },
    apply: (params, state, x, o) => {
      const keys: readonly (Key | undefined)[] =
        o.key === undefined ? layers.map(() => undefined) : split(o.key, Math.max(layers.length, 1))
      const newState: Record<string, unknown> = {}
      let y: Tensor = x
      layers.forEach((l, i) => {
        const n = names[i]!
        const k = keys[i]
        const mask = subMask(o.trainable, n)
        const childOpts: ApplyOptions = {
          training: o.training,
          ...(k === undefined ? {} : { key: k }),
          ...(o.dropout === undefined ? {} : { dropout: o.dropout }),
          ...(mask === undefined ? {} : { trainable: mask }),
        }
        const r = l.apply(params[n], state[n], y, childOpts)
        y = r.y
        newState[n] = r.state
      })
      return { y, state: newState }
    },
  }
  const constrained: Sequential = !layers.some((l) => l.constrain !== undefined)
    ? seq
    : {
        ...seq,
        constrain: (params) => {
          const out: Record<string, unknown> = { ...params }
          layers.forEach((l, i) => {
            const n = names[i]!
            if (l.constrain !== undefined) out[n] = l.constrain(params[n])
          })
          return out as typeof params
        },
      }
  if (!withPenalty) return constrained
  return {
    ...constrained,
    penalty: (params) =>
      layers.reduce<Tensor>(
        (s, l, i) => (l.penalty === undefined ? s : add(s, l.penalty(params[names[i]!]))),
        scalar(0),
      ),
  }
}

const SequentialConfig = t.intersection([
  t.type({ name: t.string, layers: t.array(t.type({ kind: t.string, config: t.UnknownRecord })) }),
  t.partial({ inputShape: t.array(t.number) }),
])

/**
 * Rebuilds a sequential layer from its `config`, rebuilding children with `fromConfig`
 * (passed in so that the registry, which knows every kind, stays the only place that does).
 * @internal
 */
export const sequentialFromConfig = (
  u: unknown,
  fromConfig: (spec: { kind: string; config: unknown }, where: string) => E.Either<string, AnyLayer>,
): E.Either<string, Sequential> =>
  pipe(
    decodeWith(SequentialConfig, 'Sequential config')(u),
    E.chain((c) =>
      pipe(
        c.layers.map((spec, i) => fromConfig(spec, `layers[${i}]`)),
        A.sequence(E.Applicative),
        E.chain((children) =>
          E.tryCatch(
            () =>
              sequential(children, {
                name: c.name,
                ...(c.inputShape === undefined ? {} : { inputShape: c.inputShape }),
              }),
            (e) => `Sequential config: ${(e as Error).message}`,
          ),
        ),
      ),
    ),
  )
