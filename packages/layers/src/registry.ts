import * as E from 'fp-ts/lib/Either.js'
import { activationLayer, leakyRelu } from './activation.js'
import { batchNormalization } from './batchNormalization.js'
import { conv2d } from './conv2d.js'
import type { ConfigSchema } from './define.js'
import { dense } from './dense.js'
import { dropout, mcDropout } from './dropout.js'
import { embedding } from './embedding.js'
import { flatten } from './flatten.js'
import type { AnyBlock, AnyLayer, Json } from './layer.js'
import { layerNormalization } from './layerNormalization.js'
import { add, concatenate } from './merge.js'
import { alphaDropout, gaussianDropout, gaussianNoise, mcAlphaDropout } from './noise.js'
import { normalization } from './normalization.js'
import { averagePooling2d, globalAveragePooling2d, maxPooling2d } from './pooling.js'
import { prelu, rrelu } from './prelu.js'
import { reshape } from './reshape.js'
import {
  fanInConcat,
  fanInSum,
  fanOutKind,
  identity,
  parallelKind,
  residualFromConfig,
  sequentialKind,
  serialKind,
} from './serial.js'

// ---------------------------------------------------------------------------------------
// Types

/**
 * A layer as plain data: its kind (Keras class name) and its config, as saved in
 * `model.json` (Keras' `{class_name, config}`).
 *
 * @example
 * ```ts
 * import { dense, type LayerSpec, toSpec } from '@purenn/layers'
 * const spec: LayerSpec = toSpec(dense({ units: 3 }))
 * console.log(spec.kind, spec.config.units) // Dense 3
 * ```
 * @category Registry
 */
export interface LayerSpec {
  /** The kind: `Dense`, `Flatten`, `BatchNormalization`, `Sequential`, ... */
  readonly kind: string
  /** The layer's config (decoded by the kind's rebuilder). */
  readonly config: { readonly [key: string]: unknown }
}

/**
 * A layer's spec as plain JSON, as {@link toSpec} returns it and `model.json` stores it.
 *
 * @example
 * ```ts
 * import { flatten, type LayerJson, toSpec } from '@purenn/layers'
 * const spec: LayerJson = toSpec(flatten())
 * console.log(JSON.stringify(spec)) // {"kind":"Flatten","config":{}}
 * ```
 * @category Registry
 */
export interface LayerJson extends LayerSpec {
  /** The kind: `Dense`, `Flatten`, `BatchNormalization`, `Sequential`, ... */
  readonly kind: string
  /** The layer's config, plain JSON. */
  readonly config: { readonly [key: string]: Json }
  /** Plain JSON: a spec fits wherever a {@link Json} value does (a container's config). */
  readonly [key: string]: Json
}

/**
 * Rebuilds a layer of one kind from its config, for {@link fromConfig} and `loadModel`.
 *
 * @remarks
 * It may return the layer (and throw an `Error` when the config is invalid: the message is
 * reported with where the layer sits), or a `Right(layer)` / `Left(message)` as fp-ts
 * `Either` users prefer. A container kind rebuilds its children with `rebuild(spec)`. A
 * layer kind made with `defineLayer` / `defineContainer` is its own rebuilder: pass the
 * factory itself (`{ Scale: scale }`).
 *
 * @example
 * ```ts
 * import { activation, type LayerFromConfig, layerFromConfig } from '@purenn/layers'
 * const relu: LayerFromConfig = () => activation('relu')
 * console.log(layerFromConfig({ kind: 'MyReLU', config: {} }, { MyReLU: relu }).kind) // Activation
 * ```
 * @category Registry
 */
export type LayerFromConfig = (
  config: unknown,
  rebuild: (spec: { readonly kind: string; readonly config: unknown }) => AnyBlock,
) => AnyBlock | E.Either<string, AnyBlock>

/**
 * What a layer made by `defineLayer` / `defineContainer` carries: its kind and how to
 * rebuild it, so the factory itself can be listed in {@link CustomLayers}.
 *
 * @example
 * ```ts
 * import type { Rebuildable } from '@purenn/layers'
 * const r: Rebuildable = { kind: 'Nothing', fromConfig: () => { throw new Error('never') } }
 * console.log(r.kind) // Nothing
 * ```
 * @category Registry
 */
export interface Rebuildable {
  /** The kind it rebuilds. */
  readonly kind: string
  /** Rebuilds it from its config; throws an `Error` naming the field when the config is invalid. */
  readonly fromConfig: LayerFromConfig
}

/**
 * User-defined kinds, by name, for {@link fromConfig} and `loadModel`: the TypeScript
 * counterpart of Keras' `custom_objects`, passed explicitly instead of registered globally.
 *
 * @example
 * ```ts
 * import { activation, type CustomLayers } from '@purenn/layers'
 * const custom: CustomLayers = { Relu6: () => activation('relu') }
 * console.log(Object.keys(custom)) // [ 'Relu6' ]
 * ```
 * @category Registry
 */
export type CustomLayers = { readonly [kind: string]: LayerFromConfig | Rebuildable }

// ---------------------------------------------------------------------------------------
// The built-in kinds

/** Rebuilds a child spec at a path (`layers[3]`), for container kinds. */
type ChildFromConfig = (spec: { kind: string; config: unknown }, where: string) => E.Either<string, AnyBlock>

/**
 * The rebuilder of a built-in kind made with `defineLayer`: its schema's fields are decoded
 * (a bad one is a `Left` naming it); fields it does not know are left to `fromConfig`, which
 * refuses them naming the layer (docs/format.md).
 */
const builtin =
  (defined: Rebuildable & { readonly schema: ConfigSchema }) =>
  (u: unknown): E.Either<string, AnyBlock> =>
    E.tryCatch(
      () =>
        defined.fromConfig(knownFields(u, defined.schema, false), () => {
          throw new Error(`${defined.kind} has no children`)
        }) as AnyBlock,
      (e) => `${defined.kind} config: ${e instanceof Error ? e.message : String(e)}`,
    )

const isEither = (r: unknown): r is E.Either<string, AnyBlock> =>
  typeof r === 'object' &&
  r !== null &&
  ((r as { _tag?: unknown })._tag === 'Left' || (r as { _tag?: unknown })._tag === 'Right')

/**
 * Runs a rebuilder that may throw or return a layer (a user's, or a built-in container's);
 * its children are rebuilt by `rebuild`, which throws a marked error so that the child's own
 * message (with its place) wins.
 */
const runUser = (
  user: LayerFromConfig | Rebuildable,
  kind: string,
  config: unknown,
  child: ChildFromConfig,
): E.Either<string, AnyBlock> => {
  const f = 'fromConfig' in user ? user.fromConfig : user
  let childError: string | undefined
  let n = 0
  const rebuild = (c: { readonly kind: string; readonly config: unknown }): AnyBlock => {
    const r = child(c, `layers[${n++}]`)
    if (E.isRight(r)) return r.right
    childError = r.left
    throw new Error(r.left)
  }
  try {
    const r = f(config, rebuild)
    return isEither(r) ? r : E.right(r)
  } catch (e) {
    return E.left(childError ?? `${kind} config: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/** The fields of `u` a schema knows (and `name`, and `layers` for a container); the rest is left to `fromConfig`. */
const knownFields = (u: unknown, schema: ConfigSchema, container: boolean): unknown =>
  typeof u === 'object' && u !== null && !Array.isArray(u)
    ? Object.fromEntries(
        Object.entries(u).filter(
          ([k]) => k === 'name' || (container && k === 'layers') || Object.hasOwn(schema, k),
        ),
      )
    : u

/**
 * The rebuilder of a built-in container kind made with `defineContainer`'s machinery: its
 * children are rebuilt by the registry (their errors say where they are), its own fields are
 * checked by its schema; unknown fields are left to `fromConfig`, as for layers.
 */
const builtinContainer =
  (defined: Rebuildable & { readonly schema: ConfigSchema }) =>
  (u: unknown, child: ChildFromConfig): E.Either<string, AnyBlock> =>
    runUser(defined, defined.kind, knownFields(u, defined.schema, true), child)

/** One rebuilder per built-in kind: constant, never mutated (no global registry). */
const builtins: {
  readonly [kind: string]: (config: unknown, child: ChildFromConfig) => E.Either<string, AnyBlock>
} = Object.freeze({
  Dense: builtin(dense),
  Flatten: builtin(flatten),
  Activation: builtin(activationLayer),
  LeakyReLU: builtin(leakyRelu),
  BatchNormalization: builtin(batchNormalization),
  Dropout: builtin(dropout),
  MCDropout: builtin(mcDropout),
  Sequential: builtinContainer(sequentialKind),
  PReLU: builtin(prelu),
  RReLU: builtin(rrelu),
  AlphaDropout: builtin(alphaDropout),
  MCAlphaDropout: builtin(mcAlphaDropout),
  GaussianDropout: builtin(gaussianDropout),
  GaussianNoise: builtin(gaussianNoise),
  Normalization: builtin(normalization),
  Conv2D: builtin(conv2d),
  MaxPooling2D: builtin(maxPooling2d),
  AveragePooling2D: builtin(averagePooling2d),
  GlobalAveragePooling2D: builtin(globalAveragePooling2d),
  LayerNormalization: builtin(layerNormalization),
  Reshape: builtin(reshape),
  Embedding: builtin(embedding),
  Serial: builtinContainer(serialKind),
  Parallel: builtinContainer(parallelKind),
  FanOut: builtin(fanOutKind),
  FanInSum: builtin(fanInSum),
  FanInConcat: builtin(fanInConcat),
  Identity: builtin(identity),
  Residual: residualFromConfig,
  Add: builtin(add),
  Concatenate: builtin(concatenate),
})

/**
 * The kinds {@link fromConfig} knows without help: `Dense`, `Flatten`, `Activation`,
 * `LeakyReLU`, `BatchNormalization`, `Dropout`, `MCDropout`, `Sequential`, `PReLU`, `RReLU`,
 * `AlphaDropout`, `MCAlphaDropout`, `GaussianDropout`, `GaussianNoise`, `Normalization`, `Conv2D`,
 * `MaxPooling2D`, `AveragePooling2D`, `GlobalAveragePooling2D`, `LayerNormalization`,
 * `Reshape`, `Embedding`, and the combinators `Serial`, `Parallel`, `FanOut`, `FanInSum`,
 * `FanInConcat`, `Identity`, `Residual`, and the merge layers `Add` and `Concatenate`, which
 * take lists of inputs ({@link MergeLayer}) inside the combinators.
 *
 * @example
 * ```ts
 * import { layerKinds } from '@purenn/layers'
 * console.log(layerKinds.includes('PReLU'), layerKinds.includes('Residual')) // true true
 * ```
 * @category Registry
 */
export const layerKinds: readonly string[] = Object.freeze(Object.keys(builtins))

// ---------------------------------------------------------------------------------------
// Functions

/**
 * The plain-data description of a layer: `{ kind, config }`.
 *
 * @param layer - any layer
 * @returns its kind and config (the config object itself, which is plain JSON)
 * @example
 * ```ts
 * import { flatten, toSpec } from '@purenn/layers'
 * console.log(toSpec(flatten({ name: 'f' }))) // { kind: 'Flatten', config: { name: 'f' } }
 * ```
 * @category Registry
 */
export const toSpec = (layer: AnyBlock): LayerJson => ({
  kind: layer.kind,
  config: layer.config,
})

/**
 * Rebuilds a layer from `{ kind, config }`: the inverse of {@link toSpec}, used by
 * `loadModel` and available for any JSON architecture.
 *
 * @remarks
 * Looks the kind up in `custom` first (so a user may also override a built-in kind), then
 * in the constant map of built-in kinds ({@link layerKinds}); sequentials rebuild their
 * children the same way, recursively. There is no global, mutable registry: a custom kind
 * is known exactly where it is passed. Errors say where: `unknown layer kind "Conv3D" at
 * layers[3]; known kinds: Dense, ...` or `layers[1]: Dense config: units: ...`.
 *
 * @param spec - the kind and the config
 * @param custom - rebuilders of user-defined kinds, by kind name
 * @returns `Right(layer)` or `Left(message)`
 * @example
 * ```ts
 * import { fromConfig } from '@purenn/layers'
 * const ok = fromConfig({ kind: 'Flatten', config: {} })
 * console.log(ok._tag === 'Right' && ok.right.kind) // Flatten
 * const bad = fromConfig({ kind: 'Sequential', config: { name: 's', layers: [{ kind: 'Conv3D', config: {} }] } })
 * console.log(bad._tag === 'Left' && bad.left.startsWith('unknown layer kind "Conv3D" at layers[0]')) // true
 * ```
 * @category Registry
 */
export const fromConfig = (spec: LayerSpec, custom: CustomLayers = {}): E.Either<string, AnyLayer> => {
  const known = [...layerKinds, ...Object.keys(custom).filter((k) => !Object.hasOwn(builtins, k))]
  const go = (
    s: { readonly kind: string; readonly config: unknown },
    where: string,
  ): E.Either<string, AnyLayer> => {
    const user = Object.hasOwn(custom, s.kind) ? custom[s.kind] : undefined
    const builtin = Object.hasOwn(builtins, s.kind) ? builtins[s.kind] : undefined
    if (user === undefined && builtin === undefined)
      return E.left(
        `unknown layer kind "${s.kind}"${where === '' ? '' : ` at ${where}`}; known kinds: ${known.join(', ')}`,
      )
    // a child's message already says where it is; the layer's own message gets `where`
    let childFailed = false
    const child: ChildFromConfig = (c, w) => {
      const r = go(c, where === '' ? w : `${where}.config.${w}`)
      if (E.isLeft(r)) childFailed = true
      return r
    }
    const r = user !== undefined ? runUser(user, s.kind, s.config, child) : builtin!(s.config, child)
    if (E.isLeft(r)) return !childFailed && where !== '' ? E.left(`${where}: ${r.left}`) : r
    // a field a built-in layer does not know is an error (docs/format.md): the rebuilt
    // layer's config has every field it reads
    if (user === undefined && typeof s.config === 'object' && s.config !== null) {
      const extra = Object.keys(s.config).find((k) => !Object.hasOwn(r.right.config, k))
      if (extra !== undefined)
        return E.left(
          `${where === '' ? '' : `${where}.`}config.${extra}: unknown field of a ${s.kind} config (it has ${Object.keys(r.right.config).join(', ')})`,
        )
    }
    return r
  }
  return go(spec, '')
}

/**
 * Rebuilds a layer from `{ kind, config }`, or throws: {@link fromConfig} for code that
 * does not use fp-ts.
 *
 * @param spec - the kind and the config
 * @param custom - rebuilders of user-defined kinds, by kind name
 * @returns the layer
 * @throws Error with the message of {@link fromConfig}'s `Left` (which layer, which field)
 * @example
 * ```ts
 * import { dense, layerFromConfig, toSpec } from '@purenn/layers'
 * console.log(layerFromConfig(toSpec(dense({ units: 3 }))).config.units) // 3
 * try {
 *   layerFromConfig({ kind: 'Dense', config: { units: 'three' } })
 * } catch (e) {
 *   console.log((e as Error).message.startsWith('Dense config: units')) // true
 * }
 * ```
 * @category Registry
 */
export const layerFromConfig = (spec: LayerSpec, custom: CustomLayers = {}): AnyLayer => {
  const r = fromConfig(spec, custom)
  if (E.isLeft(r)) throw new Error(r.left)
  return r.right
}
