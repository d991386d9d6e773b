import * as E from 'fp-ts/lib/Either.js'
import { activationLayerFromConfig, leakyReluFromConfig } from './activation.js'
import { batchNormalizationFromConfig } from './batchNormalization.js'
import { conv2dFromConfig } from './conv2d.js'
import { denseFromConfig } from './dense.js'
import { dropoutFromConfig, mcDropoutFromConfig } from './dropout.js'
import { embeddingFromConfig } from './embedding.js'
import { flattenFromConfig } from './flatten.js'
import type { AnyLayer, Json } from './layer.js'
import { layerNormalizationFromConfig } from './layerNormalization.js'
import {
  averagePooling2dFromConfig,
  globalAveragePooling2dFromConfig,
  maxPooling2dFromConfig,
} from './pooling.js'
import { reshapeFromConfig } from './reshape.js'
import { sequentialFromConfig } from './sequential.js'

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
}

/**
 * Rebuilds a layer of one kind from its config: `Left(message)` when the config is invalid.
 *
 * @example
 * ```ts
 * import { dense, type LayerFromConfig } from '@purenn/layers'
 * const myDense: LayerFromConfig = () => ({ _tag: 'Right', right: dense({ units: 1 }) })
 * console.log(myDense({})._tag) // Right
 * ```
 * @category Registry
 */
export type LayerFromConfig = (config: unknown) => E.Either<string, AnyLayer>

/**
 * User-defined kinds, by name, for {@link fromConfig} and `loadModel`: the TypeScript
 * counterpart of Keras' `custom_objects`, passed explicitly instead of registered globally.
 *
 * @example
 * ```ts
 * import { activation, type CustomLayers } from '@purenn/layers'
 * const custom: CustomLayers = { Relu6: () => ({ _tag: 'Right', right: activation('relu') }) }
 * console.log(Object.keys(custom)) // [ 'Relu6' ]
 * ```
 * @category Registry
 */
export type CustomLayers = { readonly [kind: string]: LayerFromConfig }

// ---------------------------------------------------------------------------------------
// The built-in kinds

/** Rebuilds a child spec at a path (`layers[3]`), for container kinds. */
type ChildFromConfig = (spec: { kind: string; config: unknown }, where: string) => E.Either<string, AnyLayer>

/** One rebuilder per built-in kind: constant, never mutated (no global registry). */
const builtins: {
  readonly [kind: string]: (config: unknown, child: ChildFromConfig) => E.Either<string, AnyLayer>
} = Object.freeze({
  Dense: denseFromConfig,
  Flatten: flattenFromConfig,
  Activation: activationLayerFromConfig,
  LeakyReLU: leakyReluFromConfig,
  BatchNormalization: batchNormalizationFromConfig,
  Dropout: dropoutFromConfig,
  MCDropout: mcDropoutFromConfig,
  Sequential: sequentialFromConfig,
  Conv2D: conv2dFromConfig,
  MaxPooling2D: maxPooling2dFromConfig,
  AveragePooling2D: averagePooling2dFromConfig,
  GlobalAveragePooling2D: globalAveragePooling2dFromConfig,
  LayerNormalization: layerNormalizationFromConfig,
  Reshape: reshapeFromConfig,
  Embedding: embeddingFromConfig,
})

/**
 * The kinds {@link fromConfig} knows without help: `Dense`, `Flatten`, `Activation`,
 * `LeakyReLU`, `BatchNormalization`, `Dropout`, `MCDropout`, `Sequential`, `Conv2D`,
 * `MaxPooling2D`, `AveragePooling2D`, `GlobalAveragePooling2D`, `LayerNormalization`,
 * `Reshape`, `Embedding`. The merge layers `Add` and `Concatenate` take lists of inputs
 * ({@link MergeLayer}) and are rebuilt by the combinators that hold them.
 *
 * @example
 * ```ts
 * import { layerKinds } from '@purenn/layers'
 * console.log(layerKinds.includes('BatchNormalization'), layerKinds.length) // true 15
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
export const toSpec = (layer: AnyLayer): LayerJson => ({
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
    const r = user !== undefined ? user(s.config) : builtin!(s.config, child)
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
