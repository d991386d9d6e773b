import { add, isTensor, type Key, scalar, split, type Tensor, type Tree } from '@purenn/tensor'
import {
  type ChildParams,
  type Children,
  type ChildState,
  type Container,
  checkDepth,
  checkUnique,
  childNames,
  childOptions,
  type Tagged,
  tag,
  type Wiring,
} from './container.js'
import { show } from './internal/config.js'
import { type BaseField, type FieldValue, fieldChecks } from './internal/fieldTypes.js'
import type {
  AnyBlock,
  Applied,
  ApplyOptions,
  Empty,
  Flow,
  FlowShape,
  Init,
  Json,
  Layer,
  Shape,
  ShapeOf,
} from './layer.js'
import { empty } from './layer.js'
import type { LayerFromConfig, Rebuildable } from './registry.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * The type of one config field of a `defineLayer` schema: `'number'`, `'integer'`,
 * `'string'`, `'boolean'`, `'number[]'` or `'json'` (any JSON value), with a final `?` when
 * the field may be left out.
 *
 * @example
 * ```ts
 * import type { FieldType } from '@purenn/layers'
 * const f: FieldType = 'integer?'
 * console.log(f) // integer?
 * ```
 * @category Custom layers
 */
export type FieldType = BaseField | `${BaseField}?`

/**
 * A config schema: field name → {@link FieldType}.
 *
 * @example
 * ```ts
 * import type { ConfigSchema } from '@purenn/layers'
 * const schema: ConfigSchema = { factor: 'number', axis: 'integer?' }
 * console.log(Object.keys(schema)) // [ 'factor', 'axis' ]
 * ```
 * @category Custom layers
 */
export type ConfigSchema = { readonly [field: string]: FieldType | AnyField }

/**
 * A config field that is more than a JSON value: what the factory takes for it (`In`: an
 * {@link Activation} or its name, ...), the value `build` receives (`Val`), and how that
 * value is saved in and read back from the layer's JSON config. The built-in layers are made
 * of these (`activationField`, `initializerField`, `regularizerField`, `constraintField`,
 * `jsonField`); {@link field} makes new ones.
 * @category Custom layers
 */
export interface Field<In, Val, Opt extends boolean = boolean> {
  /** Whether the field may be left out (then `build` gets `absent()`, or `undefined`). */
  readonly optional: Opt
  /** The value of an option given to the factory; throws an `Error` naming `path` when it is bad. */
  readonly fromOption: (input: In, path: string) => Val
  /** The value of a field of a saved config; throws an `Error` naming `path` when it is bad. */
  readonly fromJson: (json: unknown, path: string) => Val
  /** The value as saved in the config; `undefined` leaves the field out. */
  readonly toJson: (value: Val) => Json | undefined
  /** The value of a left-out optional field (a default, stored in the config by `toJson`). */
  readonly absent?: () => Val
  /**
   * The value of a left-out optional field computed from the values of the fields before it
   * in the schema (as `build` receives them): a default that depends on other fields, as
   * pooling's `strides` defaults to `poolSize`. Used instead of `absent` when given; stored in
   * the config by `toJson`. {@link defaultFrom} makes such a field.
   */
  readonly absentFrom?: (earlier: EarlierValues) => Val
}

/**
 * What a field's `absentFrom` receives: the values of the fields before it in the schema,
 * by name (a left-out field without a default is not there).
 *
 * @example
 * ```ts
 * import type { EarlierValues } from '@purenn/layers'
 * const earlier: EarlierValues = { poolSize: [2, 2] }
 * console.log(earlier.poolSize) // [ 2, 2 ]
 * ```
 * @category Custom layers
 */
export type EarlierValues = { readonly [field: string]: unknown }

// biome-ignore lint/suspicious/noExplicitAny: a schema holds fields of different types
type AnyField = Field<any, any, boolean>

type IsOptional<E> =
  E extends Field<infer _I, infer _V, infer O>
    ? O
    : E extends `${infer B}?`
      ? B extends BaseField
        ? true
        : false
      : false
type Required<Sc> = { [K in keyof Sc]: IsOptional<Sc[K]> extends true ? never : K }[keyof Sc]
type Optional<Sc> = { [K in keyof Sc]: IsOptional<Sc[K]> extends true ? K : never }[keyof Sc]
type OptionOf<E> =
  E extends Field<infer I, infer _V, infer _O> ? I : FieldValue<E extends `${infer B}?` ? B : E>
type BuildOf<E> =
  E extends Field<infer _I, infer V, infer _O> ? V : FieldValue<E extends `${infer B}?` ? B : E>

/**
 * The config type a schema describes: `{ factor: 'number', axis: 'integer?' }` →
 * `{ factor: number; axis?: number }`.
 *
 * @example
 * ```ts
 * import type { ConfigOf } from '@purenn/layers'
 * const c: ConfigOf<{ factor: 'number'; axis: 'integer?' }> = { factor: 2 }
 * console.log(c.factor) // 2
 * ```
 * @category Custom layers
 */
export type ConfigOf<Sc extends ConfigSchema> = {
  readonly [K in Required<Sc>]: OptionOf<Sc[K]>
} & { readonly [K in Optional<Sc>]?: OptionOf<Sc[K]> }

/**
 * What `build` receives for a schema: {@link ConfigOf} for the JSON fields, and the value of
 * each {@link Field} (an `Activation` for an `activationField`, ...), its default filled in.
 *
 * @example
 * ```ts
 * import { activationField, type BuildConfigOf } from '@purenn/layers'
 * const schema = { units: 'integer', activation: activationField('linear') } as const
 * const c: BuildConfigOf<typeof schema> = { units: 2, activation: { name: 'relu', config: {}, fn: (x) => x } }
 * console.log(c.activation.name) // relu
 * ```
 * @category Custom layers
 */
export type BuildConfigOf<Sc extends ConfigSchema> = {
  readonly [K in Required<Sc>]: BuildOf<Sc[K]>
} & {
  readonly [K in Optional<Sc>]: Sc[K] extends AnyField ? BuildOf<Sc[K]> : BuildOf<Sc[K]> | undefined
}

/**
 * The maths of a layer, as `defineLayer`'s `build` returns it: `init` (default: no params,
 * no state, output shape = input shape) and `apply`, which may return the output tensor
 * alone when the state does not change. `X` and `Y`, the input and output types, are tensors
 * unless the layer takes or returns a list of them (a merge layer such as `add`).
 * @category Custom layers
 */
export interface LayerBody<P extends Tree, S extends Tree, X extends Flow = Tensor, Y extends Flow = Tensor> {
  /** Creates params and state for an input shape (no batch axis). */
  readonly init?: (key: Key, inputShape: ShapeOf<X>) => Init<P, S, ShapeOf<Y>>
  /** Runs the layer on a batch: the output, or `{ y, state }`. */
  readonly apply: (params: P, state: S, x: X, opts: ApplyOptions) => Y | Applied<S, Y>
  /** The regularization penalty of these params, if any (`fit` adds it to the loss). */
  readonly penalty?: (params: P) => Tensor
  /** The params projected onto the layer's weight constraints, if any (after each update). */
  readonly constrain?: (params: P) => P
}

/**
 * What `defineLayer` takes: the kind, the config schema, and `build`, which turns a
 * validated config into the layer's maths.
 * @category Custom layers
 */
export interface LayerDefinition<
  K extends string,
  Sc extends ConfigSchema,
  P extends Tree,
  S extends Tree,
  X extends Flow = Tensor,
  Y extends Flow = Tensor,
> {
  /** The kind (a Keras-style class name): `Scale`, `LayerNorm`, ... */
  readonly kind: K
  /** The config's fields and their types; `fromConfig` checks a saved config against it. */
  readonly config: Sc
  /** The maths of the layer for one config. */
  readonly build: (config: BuildConfigOf<Sc>) => LayerBody<P, S, X, Y>
  /**
   * The factory's name in its error messages (`dense: units must be ...`); default
   * `<kind> config` (`Scale config: factor: ...`), as when a saved config is rebuilt.
   */
  readonly fn?: string
}

/**
 * A layer factory made by {@link defineLayer}: call it with a config (plus an optional
 * `name`) to get a layer; list it in `customLayers` to load saved models that use it.
 * @category Custom layers
 */
export interface DefinedLayer<
  K extends string,
  Sc extends ConfigSchema,
  P extends Tree,
  S extends Tree,
  X extends Flow = Tensor,
  Y extends Flow = Tensor,
> extends Rebuildable {
  /** A layer of this kind; throws an `Error` naming the field when the config is invalid. */
  <const N extends string = never>(
    ...config: ConfigArgs<ConfigOf<Sc> & { readonly name?: N }>
  ): Tagged<Layer<P, S, X, Y>, K, N>
  /** The kind. */
  readonly kind: K
  /** The config schema. */
  readonly schema: Sc
}

/** The factory's argument: optional when the schema has no required field. */
// biome-ignore lint/complexity/noBannedTypes: `{}` is what a config with no required field extends
type ConfigArgs<C> = {} extends C ? [config?: C] : [config: C]

/**
 * How a container runs its children, given to `defineContainer`'s `apply`: `run(i, x)`
 * applies child `i` to `x` with its own params, state, key and trainable mask, and records
 * its new state.
 * @category Custom layers
 */
export type RunChild = (i: number, x: Tensor) => Tensor

/**
 * How a container initializes its children, given to `defineContainer`'s `init`:
 * `initChild(i, shape)` draws child `i`'s params from its own key and returns its output
 * shape.
 * @category Custom layers
 */
export type InitChild = (i: number, inputShape: Shape) => Shape

/**
 * The wiring of a container, as `defineContainer`'s `build` returns it: the output shape
 * from the input shape (initializing every child once), and the output from the input.
 * @category Custom layers
 */
export interface ContainerBody {
  /** Initializes every child (with `initChild`) and returns the output shape. */
  readonly init: (inputShape: Shape, initChild: InitChild) => Shape
  /** Computes the output, running children with `run`. */
  readonly apply: (x: Tensor, run: RunChild, opts: ApplyOptions) => Tensor
}

/**
 * What `defineContainer` takes: the kind, the config schema of its own options, and
 * `build`, which receives the config and the (already built or rebuilt) children.
 * @category Custom layers
 */
export interface ContainerDefinition<K extends string, Sc extends ConfigSchema> {
  /** The kind: `TwoTower`, `Highway`, ... */
  readonly kind: K
  /** The container's own options (its children are saved in `layers`). */
  readonly config: Sc
  /** The wiring for one config and list of children. */
  readonly build: (config: BuildConfigOf<Sc>, children: readonly AnyBlock[]) => ContainerBody
}

/**
 * A container factory made by {@link defineContainer}: call it with a config and the
 * children; params are typed by child name as in `serial`.
 * @category Custom layers
 */
export interface DefinedContainer<K extends string, Sc extends ConfigSchema> extends Rebuildable {
  /** A container of this kind over `children`; throws an `Error` naming the field when the config is invalid. */
  <const L extends readonly AnyBlock[], const N extends string = never>(
    config: ConfigOf<Sc> & { readonly name?: N },
    children: L,
  ): Tagged<Container<ChildParams<L>, ChildState<L>>, K, N>
  /** The kind. */
  readonly kind: K
  /** The config schema (the container's own options; its children are saved in `layers`). */
  readonly schema: Sc
}

/**
 * What the built-in combinators (`serial`, `parallel`, `sequential`) add to a
 * {@link ContainerDefinition}: they are defined by the same code as a user's container, with
 * these few differences.
 * @internal
 */
export interface ContainerInternals {
  /** The factory's name in its error messages (`serial: two layers are named "a"`). */
  readonly fn?: string
  /** How `summary` walks the children; default `'custom'`. */
  readonly wiring?: Wiring
  /** Whether children may take and return lists of tensors (`fanOut` inside a `serial`). */
  readonly flows?: boolean
  /** The order of the saved config's keys (configs saved before keep their bytes). */
  readonly order?: readonly string[]
  /** Adds fields to the built container (a `Sequential`'s `name` and `inputShape`). */
  readonly finish?: (
    layer: Container<Children, Children, Flow, Flow>,
    config: { readonly [k: string]: unknown },
  ) => AnyBlock
}

// ---------------------------------------------------------------------------------------
// Helpers

const isField = (f: FieldType | AnyField): f is AnyField => typeof f !== 'string'

/** How a config is read: options given to a factory, or a saved config (strict or not about unknown fields). */
type Source = 'option' | 'json' | 'json-lenient'

/**
 * Checks a config against its schema; throws naming the first bad field. Returns the JSON
 * config (schema order, then `name`) and the values `build` receives.
 */
const validate = (
  schema: ConfigSchema,
  u: unknown,
  extra: readonly string[],
  source: Source,
  fn?: string,
): { json: { [k: string]: Json }; values: { [k: string]: unknown } } => {
  if (typeof u !== 'object' || u === null || Array.isArray(u))
    throw new Error(`expected an object, got ${show(u)}`)
  const c = u as { readonly [k: string]: unknown }
  const json: { [k: string]: Json } = {}
  const values: { [k: string]: unknown } = {}
  for (const [name, type] of Object.entries(schema)) {
    const v = c[name]
    if (isField(type)) {
      if (v === undefined && !type.optional) throw new Error(`${name}: expected a value, got nothing`)
      const value =
        v === undefined
          ? type.absentFrom !== undefined
            ? type.absentFrom({ ...values })
            : type.absent?.()
          : source === 'option'
            ? type.fromOption(v, name)
            : type.fromJson(v, name)
      const saved = type.toJson(value)
      if (saved !== undefined) json[name] = saved
      values[name] = value
      continue
    }
    const optional = type.endsWith('?')
    const base = (optional ? type.slice(0, -1) : type) as BaseField
    if (v === undefined && optional) continue
    const [expected, ok] = fieldChecks[base]
    if (!ok(v)) throw new Error(`${name}: expected ${expected}, got ${show(v)}`)
    json[name] = v as Json
    values[name] = v
  }
  if (c.name !== undefined) {
    if (typeof c.name !== 'string') throw new Error(`name: expected a string, got ${show(c.name)}`)
    json.name = c.name
  }
  const known = [...Object.keys(schema), 'name']
  const unknown =
    source === 'json-lenient'
      ? undefined
      : Object.keys(c).find((k) => !known.includes(k) && !extra.includes(k))
  if (unknown !== undefined)
    throw new Error(
      source === 'option' && fn !== undefined
        ? `unknown option '${unknown}'; ${fn} takes ${known.join(', ')}`
        : `unknown field "${unknown}"; fields are ${known.join(', ')}`,
    )
  return { json, values }
}

/** Runs `f`, prefixing the message of what it throws with `prefix: ` (`Kind config: `, `dense: `). */
const prefixed = <A>(prefix: string, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    throw new Error(`${prefix}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

// ---------------------------------------------------------------------------------------
// Constructors

/**
 * Defines a layer kind from its maths and a config schema: the layer saves, loads and
 * clones with no config plumbing, no fp-ts and no casts.
 *
 * @remarks
 * The factory validates the config against the schema (a wrong or missing field throws an
 * `Error` naming it), stores it as the layer's JSON `config` (with `name` when given) and
 * calls `build(config)` for the maths. The factory is its own rebuilder: list it in
 * `customLayers` (`loadModel(dir, { customLayers: { Scale: scale } })`) and a saved config is
 * checked by the same schema. Compare Keras, where a custom layer subclasses `Layer`,
 * overrides `build`/`call`/`get_config` and is registered with `custom_objects`.
 *
 * @param def - `{ kind, config: schema, build: (config) => ({ init?, apply, penalty? }) }`
 * @returns the layer factory
 * @example
 * ```ts
 * import { defineLayer, layerFromConfig, toSpec } from '@purenn/layers'
 * import { key, mul, ones } from '@purenn/tensor'
 * const scale = defineLayer({
 *   kind: 'Scale',
 *   config: { factor: 'number' },
 *   build: ({ factor }) => ({ apply: (_params, _state, x) => mul(x, factor) }),
 * })
 * const layer = scale({ factor: 3 })
 * const { params, state } = layer.init(key(0), [2])
 * console.log(layer.apply(params, state, ones([1, 2]), { training: false }).y.toString()) // tensor([[3, 3]])
 * console.log(layerFromConfig(toSpec(layer), { Scale: scale }).config) // { factor: 3 }
 * ```
 * @category Custom layers
 */
export const defineLayer = <
  const K extends string,
  const Sc extends ConfigSchema,
  P extends Tree = Empty,
  S extends Tree = Empty,
  X extends Flow = Tensor,
  Y extends Flow = Tensor,
>(
  def: LayerDefinition<K, Sc, P, S, X, Y>,
): DefinedLayer<K, Sc, P, S, X, Y> => {
  const make = (u: unknown, source: Source): Layer<P, S, X, Y> => {
    const { json: config, values } = validate(def.config, u, [], source, def.fn)
    const body = def.build(values as BuildConfigOf<Sc>)
    const apply = body.apply
    return {
      kind: def.kind,
      config,
      init:
        body.init ??
        ((_key, inputShape) => ({
          params: empty as unknown as P,
          state: empty as unknown as S,
          outputShape: inputShape as unknown as ShapeOf<Y>,
        })),
      apply: (params, state, x, opts) => {
        const r = apply(params, state, x, opts)
        // a tensor or a list of them is the output alone; `{ y, state }` carries the new state
        return isTensor(r) || Array.isArray(r) ? { y: r as Y, state } : (r as Applied<S, Y>)
      },
      ...(body.penalty === undefined ? {} : { penalty: body.penalty }),
      ...(body.constrain === undefined ? {} : { constrain: body.constrain }),
    }
  }
  const factory = (config: unknown = {}) =>
    tag(prefixed(def.fn ?? `${def.kind} config`, () => make(config, 'option')))
  return Object.assign(factory, {
    kind: def.kind,
    schema: def.config,
    fromConfig: ((config: unknown) => make(config, 'json')) satisfies LayerFromConfig,
  }) as unknown as DefinedLayer<K, Sc, P, S, X, Y>
}

/**
 * Defines a container kind (a layer with children) from its wiring and a config schema:
 * the children's params, state, keys, trainable masks, saving and rebuilding are done for
 * you, and `build` receives the children already built (or rebuilt, when loading).
 *
 * @remarks
 * Children are named as in `serial` (`dense`, `dense_1`, ...) and their params and state
 * are keyed by these names, so weights, `freeze` paths and `summary` see inside the
 * container. The container has no params of its own (put them in a child). `init` must
 * initialize every child exactly once; `apply` may run a child several times or not at all
 * (a child that does not run keeps its state). The children are saved in the config's
 * `layers` field, next to the schema's fields.
 *
 * @param def - `{ kind, config: schema, build: (config, children) => ({ init, apply }) }`
 * @returns the container factory: `factory(config, children)`
 * @example
 * ```ts
 * import { defineContainer, dense } from '@purenn/layers'
 * import { add, key, mul, ones } from '@purenn/tensor'
 * // y = a(x) + weight·b(x)
 * const twoPath = defineContainer({
 *   kind: 'TwoPath',
 *   config: { weight: 'number' },
 *   build: ({ weight }) => ({
 *     init: (shape, initChild) => {
 *       initChild(1, shape)
 *       return initChild(0, shape)
 *     },
 *     apply: (x, run) => add(run(0, x), mul(run(1, x), weight)),
 *   }),
 * })
 * const layer = twoPath({ weight: 0.5 }, [dense({ units: 2, kernelInitializer: 'ones' }), dense({ units: 2, kernelInitializer: 'ones' })])
 * const { params, state } = layer.init(key(0), [3])
 * console.log(Object.keys(params), layer.apply(params, state, ones([1, 3]), { training: false }).y.toString()) // [ 'dense', 'dense_1' ] tensor([[4.5, 4.5]])
 * ```
 * @category Custom layers
 */
export const defineContainer = <const K extends string, const Sc extends ConfigSchema>(
  def: ContainerDefinition<K, Sc>,
): DefinedContainer<K, Sc> => containerKind(def, {})

/**
 * A container's wiring over flows: the built-in combinators' children may pass lists of
 * tensors (`fanOut` inside a `serial`, the inputs of a `parallel`).
 * @internal
 */
export interface FlowContainerBody {
  /** Initializes every child and returns the output shape. */
  readonly init: (inputShape: FlowShape, initChild: (i: number, shape: FlowShape) => FlowShape) => FlowShape
  /** Computes the output, running children with `run`. */
  readonly apply: (x: Flow, run: (i: number, x: Flow) => Flow, opts: ApplyOptions) => Flow
}

/** Checks that every child spec is `{ kind, config }`, naming the first that is not. */
const specsOf = (u: unknown): readonly { readonly kind: string; readonly config: unknown }[] => {
  const layers = (u as { layers?: unknown } | null)?.layers
  if (!Array.isArray(layers)) throw new Error(`layers: expected an array of layer specs, got ${show(layers)}`)
  layers.forEach((spec, i) => {
    const s = spec as { kind?: unknown; config?: unknown } | null
    if (
      typeof s !== 'object' ||
      s === null ||
      typeof s.kind !== 'string' ||
      typeof s.config !== 'object' ||
      s.config === null ||
      Array.isArray(s.config)
    )
      throw new Error(`layers[${i}]: expected a layer spec { kind, config }, got ${show(spec)}`)
  })
  return layers
}

/**
 * {@link defineContainer} with the internal options of the built-in combinators: one
 * implementation of containers for both.
 * @internal
 */
export const containerKind = <const K extends string, const Sc extends ConfigSchema>(
  def: {
    readonly kind: K
    readonly config: Sc
    readonly build: (
      config: BuildConfigOf<Sc>,
      children: readonly AnyBlock[],
    ) => ContainerBody | FlowContainerBody
  },
  internals: ContainerInternals,
): DefinedContainer<K, Sc> => {
  const fn = internals.fn ?? def.kind
  const flows = internals.flows === true
  // a user's body is typed over tensors; it runs here over flows, checked to be tensors
  const build = def.build as (config: BuildConfigOf<Sc>, children: readonly AnyBlock[]) => FlowContainerBody
  const make = (u: unknown, children: readonly AnyBlock[], source: Source, prefix: string): AnyBlock => {
    const names = childNames(children)
    checkUnique(fn, names)
    checkDepth(fn, children)
    const guarded = <A>(f: () => A): A => (prefix === '' ? f() : prefixed(prefix, f))
    const { json: own, values } = guarded(() => validate(def.config, u, ['layers'], source, internals.fn))
    const body = guarded(() => build(values as BuildConfigOf<Sc>, children))
    const saved: { [k: string]: Json } = {
      ...own,
      layers: children.map((l) => ({ kind: l.kind, config: l.config })),
    }
    const order = internals.order
    const config =
      order === undefined
        ? saved
        : Object.fromEntries(
            [...order, ...Object.keys(saved)]
              .filter((k, i, all) => k in saved && all.indexOf(k) === i)
              .map((k) => [k, saved[k]!]),
          )
    const withPenalty = children.some((l) => l.penalty !== undefined)
    const withConstraints = children.some((l) => l.constrain !== undefined)
    const container: Container<Children, Children, Flow, Flow> = {
      kind: def.kind,
      config,
      layers: children,
      names,
      wiring: internals.wiring ?? 'custom',
      init: (key, inputShape) => {
        const keys = split(key, Math.max(children.length, 1))
        const params: Record<string, unknown> = {}
        const state: Record<string, unknown> = {}
        const initChild = (i: number, shape: FlowShape): FlowShape => {
          const l = children[i]
          if (l === undefined) throw new Error(`${def.kind}.init: no child ${i}; it has ${children.length}`)
          if (Object.hasOwn(params, names[i]!))
            throw new Error(`${def.kind}.init: child ${i} initialized twice`)
          const r = l.init(keys[i]!, shape)
          params[names[i]!] = r.params
          state[names[i]!] = r.state
          const out = r.outputShape as FlowShape
          if (!flows && out.length > 0 && Array.isArray(out[0]))
            throw new Error(
              `${def.kind}.init: child ${i} (${names[i]}) returns a list of tensors; a container's children must return one`,
            )
          return out
        }
        const outputShape = body.init(inputShape, initChild)
        const missing = names.findIndex((n) => !Object.hasOwn(params, n))
        if (missing >= 0)
          throw new Error(`${def.kind}.init: child ${missing} (${names[missing]}) was not initialized`)
        // keyed in the children's order, whatever order `init` visited them in
        const inOrder = (t: Record<string, unknown>) => Object.fromEntries(names.map((n) => [n, t[n]]))
        return { params: inOrder(params), state: inOrder(state), outputShape }
      },
      apply: (params, state, x, o) => {
        const opts = childOptions(o, names)
        const newState: Record<string, unknown> = { ...state }
        const run = (i: number, input: Flow): Flow => {
          const l = children[i]
          if (l === undefined) throw new Error(`${def.kind}.apply: no child ${i}; it has ${children.length}`)
          const n = names[i]!
          const r = l.apply(params[n], newState[n], input, opts[i]!)
          newState[n] = r.state
          if (!flows && !isTensor(r.y))
            throw new Error(`${def.kind}.apply: child ${i} (${n}) returned a list of tensors`)
          return r.y
        }
        return { y: body.apply(x, run, o), state: newState }
      },
      ...(withPenalty
        ? {
            penalty: (params: Children): Tensor =>
              children.reduce<Tensor>(
                (s, l, i) => (l.penalty === undefined ? s : add(s, l.penalty(params[names[i]!]))),
                scalar(0),
              ),
          }
        : {}),
      // each child projects its own part of the params (training calls it after each update)
      ...(withConstraints
        ? {
            constrain: (params: Children): Children => {
              const out: Record<string, unknown> = { ...params }
              children.forEach((l, i) => {
                const n = names[i]!
                if (l.constrain !== undefined) out[n] = l.constrain(params[n])
              })
              return out
            },
          }
        : {}),
    }
    return internals.finish === undefined ? container : internals.finish(container, values)
  }
  const factory = (config: unknown, children: readonly AnyBlock[]) =>
    tag(
      make(
        config,
        children,
        internals.fn === undefined ? 'json' : 'option',
        internals.fn ?? `${def.kind} config`,
      ),
    )
  // the registry and `fromConfig`'s callers say which kind failed: no prefix here
  const fromConfig: LayerFromConfig = (u, rebuild) =>
    make(
      u,
      specsOf(u).map((spec) => rebuild(spec)),
      'json',
      '',
    )
  return Object.assign(factory, {
    kind: def.kind,
    schema: def.config,
    fromConfig,
  }) as unknown as DefinedContainer<K, Sc>
}
