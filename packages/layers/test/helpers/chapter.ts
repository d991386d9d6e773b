/**
 * The chapter's models, shared by the tests of several packages and by
 * `scripts/fixtures/keras-export-sample.ts` (the examples have their own copy in
 * `examples/lib/chapter.ts`, built from the public `purenn` package). Imported by package name,
 * as the scripts import the packages, so that a script using these helpers loads one copy of
 * each package (vitest resolves the names to the sources).
 */

import { batchNormalization, dense, flatten, initModel, type Model, sequential } from '@purenn/layers'
import { key, split, type Tensor, type Tree, uniform } from '@purenn/tensor'

/**
 * The chapter's batch-normalization model: batch norm on the input and after each hidden
 * layer's activation. 271,346 params, 2,368 of them non-trainable (the moving statistics).
 */
export const chapterModel = () =>
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
 * {@link chapterModel} initialized (key 1) with trained-looking batch norms: γ in [0.5, 1.5],
 * β in [−0.3, 0.3], moving means in [0, 0.6] and variances in [0.05, 2] (drawn from key 2), so
 * that every constant of a saved or exported model matters.
 */
export const jitteredChapterModel = (): Model => {
  const model = initModel(chapterModel(), { key: key(1) })
  const ks = split(key(2), 12)
  let k = 0
  const u = (t: Tensor, minval: number, maxval: number) => uniform(ks[k++]!, t.shape, { minval, maxval })
  const params: Record<string, Tree> = { ...(model.params as Record<string, Tree>) }
  const state: Record<string, Tree> = { ...(model.state as Record<string, Tree>) }
  for (const name of ['batch_normalization', 'batch_normalization_1', 'batch_normalization_2']) {
    const p = params[name] as { gamma: Tensor; beta: Tensor }
    const s = state[name] as { movingMean: Tensor; movingVariance: Tensor }
    params[name] = { gamma: u(p.gamma, 0.5, 1.5), beta: u(p.beta, -0.3, 0.3) }
    state[name] = { movingMean: u(s.movingMean, 0, 0.6), movingVariance: u(s.movingVariance, 0.05, 2) }
  }
  return { ...model, params, state }
}
