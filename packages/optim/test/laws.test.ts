import { checkTransformation } from '@purenn/testing'
import { describe, expect, it } from 'vitest'
import {
  adagrad,
  adam,
  adamw,
  addDecayedWeights,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  exponentialDecay,
  freeze,
  type GradientTransformation,
  masked,
  nadam,
  rmsprop,
  scale,
  scaleByAdagrad,
  scaleByAdam,
  scaleByLearningRate,
  scaleByNadam,
  scaleByRms,
  setToZero,
  sgd,
  traceMomentum,
} from '../src/index.js'

// The Optax laws of every transformation and optimizer of the package, by checkTransformation
// of @purenn/testing: purity, a state of stable structure and shapes, chain(identity(), tx) ≡ tx
// bitwise, and masking (frozen params bitwise unchanged, the others updated as by tx alone).
const all: [string, GradientTransformation<unknown>][] = [
  ['sgd', sgd({ learningRate: 0.1 })],
  ['sgd momentum nesterov', sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true })],
  ['rmsprop centered momentum clipNorm', rmsprop({ centered: true, momentum: 0.5, clipNorm: 2 })],
  ['adam clipValue', adam({ clipValue: 0.5 })],
  ['adamw', adamw()],
  ['nadam globalClipNorm', nadam({ globalClipNorm: 1 })],
  ['adagrad', adagrad()],
  ['clipByValue', clipByValue(0.5)],
  ['clipByNorm', clipByNorm(1)],
  ['clipByGlobalNorm', clipByGlobalNorm(1)],
  ['addDecayedWeights', addDecayedWeights(0.01)],
  ['traceMomentum', traceMomentum({ decay: 0.9 })],
  ['scaleByRms', scaleByRms()],
  ['scaleByAdam', scaleByAdam()],
  ['scaleByNadam', scaleByNadam()],
  ['scaleByAdagrad', scaleByAdagrad()],
  ['scale', scale(-0.5)],
  [
    'scaleByLearningRate with a schedule',
    scaleByLearningRate(exponentialDecay({ initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5 })),
  ],
  ['setToZero', setToZero()],
  ['masked(adam) by a predicate', masked(adam(), (path) => path.startsWith('w'))],
  ['freeze', freeze((path) => path.startsWith('b'))],
]

describe('the laws of every transformation (checkTransformation)', () => {
  it.each(all)('%s', (_, tx) => {
    expect(checkTransformation(tx, { numRuns: 6, seed: 3 }).checked).toEqual([
      'purity',
      'shapes',
      'identity',
      'masking',
      // the optimizers (and chains ending with one, masked ones) have a fused step
      ...(tx.applyStep === undefined ? [] : ['fused step']),
    ])
  })
})
