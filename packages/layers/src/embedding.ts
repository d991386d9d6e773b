import { gather, ShapeError, type Tensor } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import {
  getInitializer,
  type Initializer,
  type InitializerName,
  initializerFromConfig,
  initializers,
  initializerToConfig,
} from './initializers.js'
import { decodeWith } from './internal/config.js'
import type { Json, Layer, NameOption } from './layer.js'
import { type Regularizer, regularizerFromConfig, regularizerToConfig } from './regularizers.js'

/**
 * Options of the {@link embedding} layer, named as Keras' `Embedding` arguments.
 * @category Layers
 */
export interface EmbeddingOptions extends NameOption {
  /** Size of the vocabulary: indices run from 0 to `inputDim − 1`. */
  readonly inputDim: number
  /** Length of each embedding vector. */
  readonly outputDim: number
  /** Initializer of the table. Default `initializers.randomUniform()` (U(−0.05, 0.05)), as Keras. */
  readonly embeddingsInitializer?: InitializerName | Initializer
  /** Penalty on the table added to the loss. */
  readonly embeddingsRegularizer?: Regularizer
}

/**
 * Params of an embedding layer: the table `embeddings` `[inputDim, outputDim]`.
 * @category Layers
 */
export type EmbeddingParams = { readonly embeddings: Tensor }

/**
 * A lookup table (Keras' `Embedding`): each integer index of the input becomes row `index`
 * of a trainable `[inputDim, outputDim]` table, so `(batch, length)` becomes
 * `(batch, length, outputDim)`.
 *
 * @remarks
 * The input holds indices as float32 values (integers in `[0, inputDim)`; anything else
 * throws, naming the value). The gradient of the table adds up the cotangents of the rows
 * looked up, repeated indices accumulating (`gather` of `@purenn/tensor`); the indices get
 * none. `inputDim·outputDim` parameters. Keras' `mask_zero` is not supported.
 *
 * @param opts - `{ inputDim, outputDim, embeddingsInitializer = randomUniform(), embeddingsRegularizer?, name? }`
 * @returns the layer
 * @throws Error when `inputDim` or `outputDim` is not a positive integer.
 * @example
 * ```ts
 * import { embedding } from '@purenn/layers'
 * import { key, tensor } from '@purenn/tensor'
 * const layer = embedding({ inputDim: 10, outputDim: 4 })
 * const { params, state, outputShape } = layer.init(key(0), [3])
 * console.log(params.embeddings.shape, outputShape) // [ 10, 4 ] [ 3, 4 ]
 * const y = layer.apply(params, state, tensor([[1, 2, 1]]), { training: false }).y
 * console.log(y.shape, y.data[0] === y.data[8]) // [ 1, 3, 4 ] true
 * ```
 * @category Layers
 */
export const embedding = (opts: EmbeddingOptions): Layer<EmbeddingParams> => {
  for (const [what, v] of [
    ['inputDim', opts.inputDim],
    ['outputDim', opts.outputDim],
  ] as const)
    if (!Number.isInteger(v) || v <= 0)
      throw new Error(`embedding: ${what} must be a positive integer, got ${v}`)
  const { inputDim, outputDim, embeddingsRegularizer } = opts
  const init = getInitializer(opts.embeddingsInitializer ?? initializers.randomUniform())
  const config: { [key: string]: Json } = {
    inputDim,
    outputDim,
    embeddingsInitializer: initializerToConfig(init),
    embeddingsRegularizer:
      embeddingsRegularizer === undefined ? null : regularizerToConfig(embeddingsRegularizer),
  }
  if (opts.name !== undefined) config.name = opts.name
  const layer: Layer<EmbeddingParams> = {
    kind: 'Embedding',
    config,
    init: (key, inputShape) => ({
      params: { embeddings: init.init(key, [inputDim, outputDim]) },
      state: {},
      outputShape: [...inputShape, outputDim],
    }),
    apply: (params, state, x) => {
      for (let i = 0; i < x.size; i++) {
        const v = x.data[i]!
        if (!Number.isInteger(v) || v < 0 || v >= inputDim)
          throw new ShapeError(
            `embedding: input element ${i} is ${v}; indices must be integers in [0, ${inputDim}) (inputDim ${inputDim})`,
          )
      }
      return { y: gather(params.embeddings, x), state }
    },
  }
  return embeddingsRegularizer === undefined
    ? layer
    : { ...layer, penalty: (params) => embeddingsRegularizer.penalty(params.embeddings) }
}

const EmbeddingConfig = t.intersection([
  t.type({ inputDim: t.number, outputDim: t.number, embeddingsInitializer: t.unknown }),
  t.partial({ embeddingsRegularizer: t.unknown, name: t.string }),
])

/** Rebuilds an embedding layer from its `config`. @internal */
export const embeddingFromConfig = (u: unknown): E.Either<string, Layer<EmbeddingParams>> =>
  pipe(
    decodeWith(EmbeddingConfig, 'Embedding config')(u),
    E.chain((c) =>
      pipe(
        E.Do,
        E.bind('init', () => initializerFromConfig(c.embeddingsInitializer as Json, 'embeddingsInitializer')),
        E.bind('reg', () =>
          c.embeddingsRegularizer == null
            ? E.right(undefined)
            : regularizerFromConfig(c.embeddingsRegularizer as Json, 'embeddingsRegularizer'),
        ),
        E.chain((d) =>
          E.tryCatch(
            () =>
              embedding({
                inputDim: c.inputDim,
                outputDim: c.outputDim,
                embeddingsInitializer: d.init,
                ...(d.reg === undefined ? {} : { embeddingsRegularizer: d.reg }),
                ...(c.name === undefined ? {} : { name: c.name }),
              }),
            (e) => `Embedding config: ${(e as Error).message.replace(/^embedding: /, '')}`,
          ),
        ),
      ),
    ),
  )
