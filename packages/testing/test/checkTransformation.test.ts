import type { GradientTransformation } from '@purenn/optim'
import {
  adam,
  adamw,
  chain,
  clipByGlobalNorm,
  clipByValue,
  identity,
  nadam,
  rmsprop,
  scaleByLearningRate,
  sgd,
} from '@purenn/optim'
import { mul, type Tree, tree } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import { checkTransformation } from '../src/index.js'

describe('checkTransformation on the optimizers', () => {
  it('sgd with momentum, rmsprop, adam, adamw, nadam, clipping chains', () => {
    for (const tx of [
      sgd({ learningRate: 0.1, momentum: 0.9 }),
      rmsprop(),
      adam({ clipNorm: 1 }),
      adamw(),
      nadam(),
      chain(clipByGlobalNorm(1), clipByValue(0.5), scaleByLearningRate(0.01)),
      identity(),
    ] as GradientTransformation<unknown>[])
      expect(checkTransformation(tx, { numRuns: 8 }).checked).toEqual([
        'purity',
        'shapes',
        'identity',
        'masking',
        // the optimizers have a fused step; the hand-built chain and identity() do not
        ...(tx.applyStep === undefined ? [] : ['fused step']),
      ])
  })
})

describe('checkTransformation finds broken transformations', () => {
  it('a fused step that is not update then applyUpdates', () => {
    const tx = sgd({ learningRate: 0.1 })
    const wrong: GradientTransformation<unknown> = {
      init: tx.init,
      update: tx.update as GradientTransformation<unknown>['update'],
      // the step of twice the learning rate
      applyStep: (grads, state, params) =>
        tx.applyStep!(grads, state as never, params, { learningRateFactor: 2 }) as never,
    }
    expect(() => checkTransformation(wrong, { numRuns: 3, grads: { min: 1, max: 2 } })).toThrow(
      /tx.applyStep differs from update then applyUpdates at step 0/,
    )
  })

  it('a state that changes shape', () => {
    const growing: GradientTransformation<number[]> = {
      init: () => [],
      update: (grads, state) => ({ updates: grads, state: [...state, 1] }),
    }
    expect(() => checkTransformation(growing, { numRuns: 3 })).toThrow(
      /checkTransformation: the state after step 0 is \[number\], init gave \[\]/,
    )
  })

  it('an update that is not pure (hidden mutable state)', () => {
    let calls = 0
    const impure: GradientTransformation<Record<string, never>> = {
      init: () => ({}),
      update: (grads, state) => ({
        updates: tree.map(grads as Tree, (g) => mul(g, ++calls)) as typeof grads,
        state,
      }),
    }
    expect(() => checkTransformation(impure, { numRuns: 3 })).toThrow(
      /update is not pure: the same call twice at step \d differs/,
    )
  })

  it('an update that writes into the gradients', () => {
    const writer: GradientTransformation<Record<string, never>> = {
      init: () => ({}),
      update: (grads, state) => {
        for (const l of tree.leaves(grads as Tree)) (l.data as Float32Array).fill(0)
        return { updates: grads, state }
      },
    }
    expect(() => checkTransformation(writer, { numRuns: 3, grads: { min: 1, max: 2 } })).toThrow(
      /update wrote into its inputs at step \d/,
    )
  })
})
