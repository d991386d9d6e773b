import { isTensor, mul, setKernels, setThreads, type Tensor, type Tree, tree } from '@purenn/tensor'
import { __poolForTests, fromBuffer, isOwnedFloats } from '@purenn/tensor/internal'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  adagrad,
  adam,
  adamax,
  adamw,
  applyUpdates,
  chain,
  clipByValue,
  exponentialDecay,
  freeze,
  type GradientTransformation,
  masked,
  nadam,
  piecewiseConstant,
  rmsprop,
  sgd,
  updateAndApply,
} from '../src/index.js'
import { bits, values } from './helpers/wasm-bits.js'

// The fused step of an optimizer (`applyStep`, one pass per parameter) must give bitwise
// what its chain gives: `update`, the updates times the learning-rate factor (`mul`), then
// `applyUpdates`; for the new params and for the whole new state, step after step, on each
// kernel set (large leaves run the WebAssembly kernels with 'wasm', the plain loops with
// 'js'). Inputs include ±0, ±Infinity, NaN, subnormals and magnitudes from 1e-40 to 1e30;
// NaN only has to stay NaN (its payload is the platform's).

/** A state or params tree with every tensor replaced by its bits (numbers kept, compared with Object.is by toEqual). */
const snapshot = (x: unknown): unknown => {
  if (isTensor(x)) return { shape: x.shape, bits: bits(x) }
  if (Array.isArray(x)) return x.map(snapshot)
  if (typeof x === 'object' && x !== null)
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, snapshot(v)]))
  return x
}

/** The chain's step, written out: update, factor, applyUpdates. */
const twoPasses = <S>(tx: GradientTransformation<S>, grads: Tree, state: S, params: Tree, factor: number) => {
  const r = tx.update(grads, state, params)
  const updates = factor === 1 ? r.updates : tree.map(r.updates, (u: Tensor) => mul(u, factor))
  return { params: applyUpdates(params, updates), state: r.state }
}

const leaf = (seed: number, shape: number[]): Tensor =>
  fromBuffer(
    shape,
    values(
      seed,
      shape.reduce((p, d) => p * d, 1),
    ),
  )

/** Params with a large leaf (the wasm kernels' size, not a multiple of 4 in general), a matrix and a tiny one. */
const paramsOf = (seed: number, n: number) => ({
  dense: { kernel: leaf(seed, [n]), bias: leaf(seed + 1, [3]) },
  out: [leaf(seed + 2, [2, 5])],
})

/** Runs `steps` steps both ways from the same start; returns the snapshots of both. */
const compare = (
  set: 'js' | 'wasm',
  make: () => GradientTransformation<unknown>,
  seed: number,
  n: number,
  factors: readonly number[],
  ownedBuffers = false,
) => {
  setKernels(set)
  const tx = make()
  let p1: Tree = paramsOf(seed, n)
  let p2: Tree = p1
  let s1 = tx.init(p1)
  let s2 = s1
  const a: unknown[] = []
  const b: unknown[] = []
  factors.forEach((factor, k) => {
    const grads = paramsOf(seed + 100 * (k + 1), n)
    const r1 = twoPasses(tx, grads, s1, p1, factor)
    expect(tx.applyStep).toBeDefined()
    const r2 = tx.applyStep!(grads, s2, p2, { learningRateFactor: factor, ownedBuffers })
    p1 = r1.params
    s1 = r1.state
    p2 = r2.params
    s2 = r2.state
    a.push(snapshot({ params: p1, state: s1 }))
    b.push(snapshot({ params: p2, state: s2 }))
  })
  return { chain: a, fused: b }
}

const schedule = exponentialDecay({ initialLearningRate: 0.05, decaySteps: 1, decayRate: 0.5 })
const trainable = { dense: { kernel: true, bias: false }, out: true }

const optimizers: Record<string, () => GradientTransformation<unknown>> = {
  sgd: () => sgd({ learningRate: 0.1 }),
  'sgd momentum': () => sgd({ learningRate: 0.1, momentum: 0.9 }),
  'sgd nesterov': () => sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true }),
  'sgd momentum, schedule, clipNorm': () => sgd({ learningRate: schedule, momentum: 0.5, clipNorm: 1 }),
  rmsprop: () => rmsprop({ learningRate: 0.01 }),
  'rmsprop momentum': () => rmsprop({ learningRate: 0.01, momentum: 0.9 }),
  'rmsprop centered': () => rmsprop({ learningRate: 0.01, centered: true }),
  'rmsprop centered momentum, clipValue and clipNorm': () =>
    rmsprop({ learningRate: 0.01, centered: true, momentum: 0.8, clipValue: 1, clipNorm: 1 }),
  adam: () => adam({ learningRate: 0.01 }),
  'adam amsgrad': () => adam({ amsgrad: true }),
  'adam epsRoot, schedule': () => adam({ epsRoot: 1e-6, learningRate: piecewiseConstant([1], [0.1, 0.01]) }),
  'adam globalClipNorm': () => adam({ globalClipNorm: 0.5 }),
  adamw: () => adamw({ learningRate: 0.01, weightDecay: 0.1 }),
  'adamw amsgrad, epsRoot': () => adamw({ amsgrad: true, epsRoot: 1e-8 }),
  nadam: () => nadam({ learningRate: 0.01 }),
  'nadam optax': () => nadam({ form: 'optax' }),
  'nadam optax epsRoot': () => nadam({ form: 'optax', epsRoot: 1e-5, epsilon: 0 }),
  adamax: () => adamax({ learningRate: 0.01 }),
  adagrad: () => adagrad({ learningRate: 0.01, initialAccumulatorValue: 0.5 }),
  'chain(clipByValue, adam)': () => chain(clipByValue(2), adam()) as GradientTransformation<unknown>,
  'masked(adam)': () => masked(adam(), trainable) as GradientTransformation<unknown>,
  'masked(sgd nesterov), passThrough': () =>
    masked(sgd({ momentum: 0.9, nesterov: true }), trainable, {
      unmasked: 'passThrough',
    }) as GradientTransformation<unknown>,
  // every leaf selected: the inner step gets the trees themselves, not pruned copies
  'masked(adam), every leaf selected': () => masked(adam(), true) as GradientTransformation<unknown>,
  'masked(nadam), every leaf selected by subtree': () =>
    masked(nadam(), { dense: true, out: [true] }) as GradientTransformation<unknown>,
}

afterAll(() => {
  setKernels('wasm')
  setThreads(1)
})

describe('applyStep, the fused step of an optimizer', () => {
  for (const [name, make] of Object.entries(optimizers))
    it(`${name}: bitwise the chain's update and applyUpdates, with and without a factor, on both kernel sets`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1024, max: 1100 }),
          fc.integer({ min: 1, max: 1 << 30 }),
          fc.double({ min: -4, max: 4, noNaN: true }),
          (n, seed, factor) => {
            for (const [set, owned] of [
              ['js', false],
              ['wasm', false],
              ['wasm', true],
            ] as const) {
              const { chain: a, fused: b } = compare(set, make, seed, n, [1, factor, 1], owned)
              expect(b).toEqual(a)
            }
          },
        ),
        { seed: 14, numRuns: 8 },
      )
    })

  it('is bitwise the chain on the worker pool too (leaves above the pool thresholds, 2 and 3 threads, owned buffers or not)', () => {
    for (const threads of [2, 3]) {
      setThreads(threads)
      for (const make of [
        optimizers.adam!,
        optimizers['rmsprop centered momentum, clipValue and clipNorm']!,
      ]) {
        for (const n of [(1 << 15) + 3, 5 * (1 << 14) + 7]) {
          for (const [set, owned] of [
            ['js', false],
            ['wasm', false],
            ['wasm', true],
          ] as const) {
            const { chain: a, fused: b } = compare(set, make, 7, n, [1, 0.5], owned)
            expect(b).toEqual(a)
          }
        }
      }
    }
    setThreads(1)
  })

  it('hands the WebAssembly step of a large leaf to the pool (a worker made to crash on the next pooled op fails it)', () => {
    setKernels('wasm')
    setThreads(2)
    const tx = adam()
    const params = { w: leaf(1, [1 << 17]) }
    const grads = { w: leaf(2, [1 << 17]) }
    const state = tx.init(params)
    __poolForTests.crashOnNextOp(1)
    expect(() => tx.applyStep!(grads, state, params)).toThrow(
      /worker 1 exited with code 1 during optimizer step \(adam\)/,
    )
    // the pool is made again for the next op, which gives the chain's bits
    expect(snapshot(tx.applyStep!(grads, state, params))).toEqual(
      snapshot(twoPasses(tx, grads, state, params, 1)),
    )
    setThreads(1)
  })

  it("puts the new params and state in owned buffers of the kernels' memory when asked (wasm kernels only)", () => {
    for (const set of ['js', 'wasm'] as const) {
      setKernels(set)
      const tx = adam()
      const params = paramsOf(5, 1030)
      const grads = paramsOf(6, 1030)
      const plain = tx.applyStep!(grads, tx.init(params), params)
      const owned = tx.applyStep!(grads, tx.init(params), params, { ownedBuffers: true })
      const ownedKernel = (t: unknown) => isOwnedFloats((t as Tensor).data)
      expect(ownedKernel(plain.params.dense.kernel)).toBe(false)
      expect(ownedKernel(owned.params.dense.kernel)).toBe(set === 'wasm')
      expect(ownedKernel((owned.state[1].mu as typeof params).dense.kernel)).toBe(set === 'wasm')
      // below the heap's smallest tensor buffer: plain
      expect(ownedKernel(owned.params.dense.bias)).toBe(false)
    }
  })

  it('is absent where the chain has something after the optimizer, and updateAndApply then runs update', () => {
    const tx = chain(adam(), freeze({ w: true })) as GradientTransformation<unknown>
    expect(tx.applyStep).toBeUndefined()
    const params = { w: leaf(1, [4]) }
    const grads = { w: leaf(2, [4]) }
    const r = updateAndApply(tx, grads, tx.init(params), params)
    expect(snapshot(r.params)).toEqual(snapshot(params))
  })

  it('updateAndApply uses it when present: the same bits as the chain', () => {
    const tx = adam({ learningRate: 0.1 }) as GradientTransformation<unknown>
    const params = paramsOf(3, 1030)
    const grads = paramsOf(4, 1030)
    const r = updateAndApply(tx, grads, tx.init(params), params, { learningRateFactor: 0.3 })
    expect(snapshot(r)).toEqual(snapshot(twoPasses(tx, grads, tx.init(params), params, 0.3)))
  })

  it('throws on gradients that do not match the params, naming the leaf', () => {
    const tx = adam()
    const params = { w: leaf(1, [4]) }
    expect(() => tx.applyStep!({ w: leaf(2, [5]) }, tx.init(params), params)).toThrow(/"w" \[5\]/)
    expect(() =>
      tx.applyStep!({ w: leaf(2, [4]) }, tx.init(params), params, { learningRateFactor: Number.NaN }),
    ).toThrow(/learningRateFactor must be a finite number/)
  })
})
