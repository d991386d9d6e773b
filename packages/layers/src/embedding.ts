import { gather, ShapeError, type Tensor } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { type DefinedLayer, defineLayer } from './define.js'
import { initializerField, jsonField, regularizerField } from './fields.js'
import { type Initializer, type InitializerName, initializers } from './initializers.js'
import { penaltyOf, positive } from './internal/fields.js'
import { type Empty, empty, type Layer, type NameOption } from './layer.js'
import type { Regularizer } from './regularizers.js'

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

/** The options of embedding, in the order Keras saves them. */
const embeddingSchema = {
  inputDim: jsonField('number', { check: positive }),
  outputDim: jsonField('number', { check: positive }),
  // Keras' default, U(−0.05, 0.05), is not a named initializer
  embeddingsInitializer: { ...initializerField('zeros'), absent: () => initializers.randomUniform() },
  embeddingsRegularizer: regularizerField(),
} as const

// the options embedding takes are the schema's
const _options: (o: EmbeddingOptions) => unknown = (o) => embedding(o)

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
export const embedding: DefinedLayer<'Embedding', typeof embeddingSchema, EmbeddingParams, Empty> =
  defineLayer({
    kind: 'Embedding',
    fn: 'embedding',
    config: embeddingSchema,
    build: ({ inputDim, outputDim, embeddingsInitializer, embeddingsRegularizer }) => ({
      init: (key, inputShape) => ({
        params: { embeddings: embeddingsInitializer.init(key, [inputDim, outputDim]) },
        state: empty,
        outputShape: [...inputShape, outputDim],
      }),
      apply: (params, _state, x) => {
        for (let i = 0; i < x.size; i++) {
          const v = x.data[i]!
          if (!Number.isInteger(v) || v < 0 || v >= inputDim)
            throw new ShapeError(
              `embedding: input element ${i} is ${v}; indices must be integers in [0, ${inputDim}) (inputDim ${inputDim})`,
            )
        }
        return gather(params.embeddings, x)
      },
      ...penaltyOf<EmbeddingParams>({ embeddings: embeddingsRegularizer }),
    }),
  })

/** Rebuilds an embedding layer from its `config`. @internal */
export const embeddingFromConfig = (u: unknown): E.Either<string, Layer<EmbeddingParams, Empty>> =>
  E.tryCatch(
    () =>
      embedding.fromConfig(u, () => {
        throw new Error('Embedding has no children')
      }) as Layer<EmbeddingParams, Empty>,
    (e) => `Embedding config: ${e instanceof Error ? e.message : String(e)}`,
  )
