// The kit from a plain `node:test` suite (no vitest): run by ../node-test.test.ts as
// `node --import tsx --test`, with this folder's tsconfig mapping @purenn/* to the sources.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { dense } from '@purenn/layers'
import { sgd } from '@purenn/optim'
import { mul, relu, sum, type Tensor, tensor } from '@purenn/tensor'
import { checkGrads, checkLayer, checkTransformation, tensorArb } from '@purenn/testing'
import fc from 'fast-check'

test('checkGrads inside a fast-check property', () => {
  fc.assert(
    fc.property(tensorArb([3]), (x) => {
      checkGrads((t: Tensor) => sum(mul(t, t)), [x], { reference: (v) => [v.reduce((s, e) => s + e * e, 0)] })
    }),
    { seed: 1, numRuns: 10 },
  )
})

test('checkGrads throws an AssertionError-like readable Error on a wrong gradient', () => {
  assert.throws(
    () => checkGrads(relu, [tensor([1])], { reference: ([v]) => [2 * v!], cotangent: [1] }),
    /d\/d\(args\[0\]\)\[0\] is 1 \(reverse mode\), 2 numerically/,
  )
})

test('checkLayer and checkTransformation', async () => {
  const r = await checkLayer(dense({ units: 2 }), { inputShape: [3], numRuns: 2 })
  assert.ok(r.checked.includes('save/load round trip'))
  assert.deepEqual(checkTransformation(sgd({ learningRate: 0.1 }), { numRuns: 3 }).checked, [
    'purity',
    'shapes',
    'identity',
    'masking',
    'fused step',
  ])
})
