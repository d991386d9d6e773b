/**
 * The playground's model and optimizer, built from the reader's choices: the chapter's
 * batch-norm model (two hidden dense layers of 300 and 100 units on 28×28 images, softmax
 * over the 10 classes) with the initializer, activation, batch-norm placement and dropout
 * rate chosen in the page, and one of purenn's optimizers with optional gradient clipping.
 * Plain functions of the options, so the page and the tests build the same thing.
 */
import {
  type ActivationName,
  type AnyLayer,
  activation,
  batchNormalization,
  dense,
  dropout,
  flatten,
  type InitializerName,
  sequential,
} from '@purenn/layers'
import {
  adam,
  adamw,
  type ClipOptions,
  type GradientTransformation,
  nadam,
  rmsprop,
  sgd,
} from '@purenn/optim'

/**
 * The ten Fashion-MNIST classes by label: `fashionMnistClassNames` of `@purenn/data`, which
 * only its Node entry exports (a test checks that the two lists agree).
 */
export const classNames: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]

/** Where batch normalization goes: after each hidden activation (the chapter's first BN model), before it, or nowhere. */
export type BnPlacement = 'after' | 'before' | 'none'

/** The optimizers the page offers (`momentum` and `nesterov` are `sgd` with momentum 0.9). */
export type OptimizerChoice = 'sgd' | 'momentum' | 'nesterov' | 'rmsprop' | 'adam' | 'adamw' | 'nadam'

/** No clipping, or one of the three clipping options of every purenn optimizer. */
export type ClippingChoice = 'none' | keyof ClipOptions

/** Everything the reader can change. */
export interface PlaygroundOptions {
  readonly initializer: InitializerName
  readonly activation: ActivationName
  readonly bn: BnPlacement
  readonly optimizer: OptimizerChoice
  readonly learningRate: number
  readonly clipping: ClippingChoice
  /** The threshold of the chosen clipping. */
  readonly clipThreshold: number
  /** Dropout rate before each dense layer, in [0, 1); 0 for none. */
  readonly dropoutRate: number
  readonly epochs: number
  readonly batchSize: number
  readonly seed: number
}

/** The choices offered in the page, in the order shown. */
export const choices = {
  initializer: ['heNormal', 'heUniform', 'glorotUniform', 'glorotNormal', 'lecunNormal', 'lecunUniform'],
  activation: ['relu', 'leakyRelu', 'elu', 'selu', 'gelu', 'swish', 'tanh', 'sigmoid'],
  bn: ['after', 'before', 'none'],
  optimizer: ['sgd', 'momentum', 'nesterov', 'rmsprop', 'adam', 'adamw', 'nadam'],
  clipping: ['none', 'clipValue', 'clipNorm', 'globalClipNorm'],
} as const satisfies {
  readonly initializer: readonly InitializerName[]
  readonly activation: readonly ActivationName[]
  readonly bn: readonly BnPlacement[]
  readonly optimizer: readonly OptimizerChoice[]
  readonly clipping: readonly ClippingChoice[]
}

/** A learning rate that works for each optimizer on this model (Keras' defaults, SGD's as the chapter). */
export const defaultLearningRate = (o: OptimizerChoice): number =>
  o === 'sgd' || o === 'momentum' || o === 'nesterov' ? 0.01 : 0.001

/** The chapter's batch-norm model trained with SGD, with dropout 0.2 added so MC dropout has something to show. */
export const defaultOptions: PlaygroundOptions = {
  initializer: 'heNormal',
  activation: 'relu',
  bn: 'after',
  optimizer: 'sgd',
  learningRate: 0.01,
  clipping: 'none',
  clipThreshold: 1,
  dropoutRate: 0.2,
  epochs: 5,
  batchSize: 32,
  seed: 42,
}

/**
 * The model: flatten, then for each hidden layer (300 and 100 units) and the softmax output,
 * dropout (when the rate is above 0) before the dense layer; batch norm on the input and
 * after each hidden activation (`after`, the chapter's 271,346 params), or between each hidden
 * dense layer (then without bias) and its activation (`before`, 267,810 params), or none.
 */
export const buildArchitecture = (o: PlaygroundOptions) => {
  const drop = (): AnyLayer[] => (o.dropoutRate > 0 ? [dropout({ rate: o.dropoutRate })] : [])
  const hidden = (units: number): AnyLayer[] =>
    o.bn === 'before'
      ? [
          ...drop(),
          dense({ units, kernelInitializer: o.initializer, useBias: false }),
          batchNormalization(),
          activation(o.activation),
        ]
      : [
          ...drop(),
          dense({ units, activation: o.activation, kernelInitializer: o.initializer }),
          ...(o.bn === 'after' ? [batchNormalization()] : []),
        ]
  return sequential(
    [
      flatten(),
      ...(o.bn === 'after' ? [batchNormalization()] : []),
      ...hidden(300),
      ...hidden(100),
      ...drop(),
      dense({ units: 10, activation: 'softmax' }),
    ],
    { inputShape: [28, 28] },
  )
}

/** The optimizer, with the chosen clipping applied to the gradients first. */
export const buildOptimizer = (o: PlaygroundOptions): GradientTransformation<unknown> => {
  const clip: ClipOptions = o.clipping === 'none' ? {} : { [o.clipping]: o.clipThreshold }
  const learningRate = o.learningRate
  switch (o.optimizer) {
    case 'sgd':
      return sgd({ learningRate, ...clip }) as GradientTransformation<unknown>
    case 'momentum':
      return sgd({ learningRate, momentum: 0.9, ...clip }) as GradientTransformation<unknown>
    case 'nesterov':
      return sgd({ learningRate, momentum: 0.9, nesterov: true, ...clip }) as GradientTransformation<unknown>
    case 'rmsprop':
      return rmsprop({ learningRate, ...clip }) as GradientTransformation<unknown>
    case 'adam':
      return adam({ learningRate, ...clip }) as GradientTransformation<unknown>
    case 'adamw':
      return adamw({ learningRate, ...clip }) as GradientTransformation<unknown>
    case 'nadam':
      return nadam({ learningRate, ...clip }) as GradientTransformation<unknown>
  }
}

/** What is wrong with the options, one message per field, or none. */
export const optionProblems = (o: PlaygroundOptions): string[] => {
  const problems: string[] = []
  if (!(o.learningRate > 0 && Number.isFinite(o.learningRate)))
    problems.push(`learning rate must be a positive number, got ${o.learningRate}`)
  if (o.clipping !== 'none' && !(o.clipThreshold > 0 && Number.isFinite(o.clipThreshold)))
    problems.push(`clipping threshold must be a positive number, got ${o.clipThreshold}`)
  if (!(o.dropoutRate >= 0 && o.dropoutRate < 1))
    problems.push(`dropout rate must be in [0, 1), got ${o.dropoutRate}`)
  if (!(Number.isInteger(o.epochs) && o.epochs >= 1 && o.epochs <= 100))
    problems.push(`epochs must be a whole number from 1 to 100, got ${o.epochs}`)
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1 && o.batchSize <= 2000))
    problems.push(`batch size must be a whole number from 1 to 2000, got ${o.batchSize}`)
  if (!(Number.isInteger(o.seed) && o.seed >= 0 && o.seed < 2 ** 32))
    problems.push(`seed must be a whole number in [0, 2³²), got ${o.seed}`)
  return problems
}
