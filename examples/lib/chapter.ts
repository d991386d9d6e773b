/**
 * The chapter's data split and models, shared by the example scripts and `pnpm train`.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { data, layers, tensor, type train } from 'purenn'

const { activation, batchNormalization, dense, dropout, flatten, leakyRelu, l2, sequential } = layers
type DenseOptions = layers.DenseOptions

/** Inputs and labels. */
export type Split = { readonly x: tensor.Tensor; readonly y: tensor.Tensor }

/**
 * Where the examples look first when neither `--data-dir` nor `PURENN_DATA` is given: the
 * official files kept beside this checkout on the project's own machines
 * (`../shared/data/fashion-mnist`). Elsewhere the loader's own lookup order applies (user
 * cache, Debian's `/usr/share/datasets/fashion-mnist`, then a verified download).
 */
const besideCheckout = fileURLToPath(new URL('../../../shared/data/fashion-mnist/', import.meta.url))

/**
 * Fashion-MNIST as the chapter splits it: 55,000 training images, the last 5,000 of the
 * official training set for validation, and the 10,000 test images; pixels in [0, 1].
 */
export const loadSplits = async (
  dir?: string,
): Promise<{ train: Split; valid: Split; test: Split; classNames: readonly string[] }> => {
  const source =
    dir ?? (process.env.PURENN_DATA === undefined && existsSync(besideCheckout) ? besideCheckout : undefined)
  const fm = await data.loadFashionMnist(source === undefined ? {} : { dir: source })
  const { train, valid } = data.trainValidSplit({ x: fm.train.images, y: fm.train.labels }, 5000)
  return { train, valid, test: { x: fm.test.images, y: fm.test.labels }, classNames: fm.classNames }
}

/** Inputs kept as bytes (scaled to [0, 1] per batch) or as a tensor, and labels. */
export type RowsSplit = { readonly x: train.Rows; readonly y: tensor.Tensor }

/** Images kept as bytes ({@link data.ByteImages}) and labels. */
export type ByteSplit = { readonly x: data.ByteImages; readonly y: tensor.Tensor }

/**
 * The chapter's split as {@link loadSplits} makes it, with the training and validation images
 * kept as bytes and scaled to [0, 1] one batch at a time (55 MB instead of 220 MB of floats;
 * the same values bit for bit); the test images are a float tensor, as in {@link loadSplits}.
 */
export const loadByteSplits = async (
  dir?: string,
): Promise<{ train: ByteSplit; valid: ByteSplit; test: Split; classNames: readonly string[] }> => {
  const source =
    dir ?? (process.env.PURENN_DATA === undefined && existsSync(besideCheckout) ? besideCheckout : undefined)
  const fm = await data.loadFashionMnistBytes(source === undefined ? {} : { dir: source })
  const images = fm.train.images
  const n = images.shape[0]!
  const nValid = 5000
  const labels = (start: number, count: number) => tensor.slice(fm.train.labels, [start], [count])
  return {
    train: { x: images.slice(0, n - nValid), y: labels(0, n - nValid) },
    valid: { x: images.slice(n - nValid, nValid), y: labels(n - nValid, nValid) },
    test: { x: fm.test.images.rows(0, fm.test.images.shape[0]!), y: fm.test.labels },
    classNames: fm.classNames,
  }
}

/** Batch norm after each hidden layer's activation (the chapter's first BN model). */
export const bnAfter = () =>
  sequential(
    [
      flatten(),
      batchNormalization(),
      dense({ units: 300, activation: 'relu', kernelInitializer: 'heNormal' }),
      batchNormalization(),
      dense({ units: 100, activation: 'relu', kernelInitializer: 'heNormal' }),
      batchNormalization(),
      dense({ units: 10, activation: 'softmax' }),
    ],
    { inputShape: [28, 28] },
  )

/**
 * Batch norm between the linear part and the activation: no bias in the dense layers, and
 * no batch norm on the input (267,810 params, 800 non-trainable).
 */
export const bnBefore = () =>
  sequential(
    [
      flatten(),
      dense({ units: 300, kernelInitializer: 'heNormal', useBias: false }),
      batchNormalization(),
      activation('relu'),
      dense({ units: 100, kernelInitializer: 'heNormal', useBias: false }),
      batchNormalization(),
      activation('relu'),
      dense({ units: 10, activation: 'softmax' }),
    ],
    { inputShape: [28, 28] },
  )

/** Leaky ReLU as a layer after He-initialized dense layers (alpha 0.2, as the chapter). */
export const leakyReluModel = () =>
  sequential(
    [
      flatten(),
      dense({ units: 300, kernelInitializer: 'heNormal' }),
      leakyRelu({ alpha: 0.2 }),
      dense({ units: 100, kernelInitializer: 'heNormal' }),
      leakyRelu({ alpha: 0.2 }),
      dense({ units: 10, activation: 'softmax' }),
    ],
    { inputShape: [28, 28] },
  )

/** Swish activations with He initialization. */
export const swishModel = () =>
  sequential(
    [
      flatten(),
      dense({ units: 300, activation: 'swish', kernelInitializer: 'heNormal' }),
      dense({ units: 100, activation: 'swish', kernelInitializer: 'heNormal' }),
      dense({ units: 10, activation: 'softmax' }),
    ],
    { inputShape: [28, 28] },
  )

/**
 * The chapter's `RegularizedDense = partial(Dense, activation="relu",
 * kernel_initializer="he_normal", kernel_regularizer=l2(0.01))`, by partial application.
 */
export const regularizedDense = (opts: DenseOptions) =>
  dense({ activation: 'relu', kernelInitializer: 'heNormal', kernelRegularizer: l2(0.01), ...opts })

/** Three l2-regularized dense layers built with the factory above. */
export const l2Model = () =>
  sequential(
    [
      flatten(),
      regularizedDense({ units: 100 }),
      regularizedDense({ units: 100 }),
      regularizedDense({ units: 10, activation: 'softmax' }),
    ],
    { inputShape: [28, 28] },
  )

/** Dropout 0.2 before each dense layer (the chapter's dropout model). */
export const dropoutModel = () =>
  sequential(
    [
      flatten(),
      dropout({ rate: 0.2 }),
      dense({ units: 100, activation: 'relu', kernelInitializer: 'heNormal' }),
      dropout({ rate: 0.2 }),
      dense({ units: 100, activation: 'relu', kernelInitializer: 'heNormal' }),
      dropout({ rate: 0.2 }),
      dense({ units: 10, activation: 'softmax' }),
    ],
    { inputShape: [28, 28] },
  )

/** Model A of the transfer-learning experiment: 8 classes. */
export const transferModelA = () =>
  sequential(
    [
      flatten(),
      dense({ units: 100, activation: 'relu', kernelInitializer: 'heNormal' }),
      dense({ units: 100, activation: 'relu', kernelInitializer: 'heNormal' }),
      dense({ units: 100, activation: 'relu', kernelInitializer: 'heNormal' }),
      dense({ units: 8, activation: 'softmax' }),
    ],
    { inputShape: [28, 28] },
  )
