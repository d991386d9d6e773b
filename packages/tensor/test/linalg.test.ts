import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ShapeError } from '../src/errors.js'
import { matmul } from '../src/linalg.js'
import { type Tensor, tensor, zeros } from '../src/tensor.js'
import {
  broadcastShapesArb,
  checkGrad,
  cotangentArb,
  expectClose,
  refArb,
  runs,
  toTensor,
} from './helpers/gradcheck.js'
import * as R from './helpers/reference.js'

interface MatmulCase {
  readonly a: R.Ref
  readonly b: R.Ref
  readonly transposeA: boolean
  readonly transposeB: boolean
}

/** Operands of random sizes, stored transposed or not, with batch axes that broadcast. */
const matmulArb = (maxM: number, maxK: number, maxN: number): fc.Arbitrary<MatmulCase> =>
  fc
    .record({
      M: fc.integer({ min: 1, max: maxM }),
      K: fc.integer({ min: 1, max: maxK }),
      N: fc.integer({ min: 1, max: maxN }),
      batches: broadcastShapesArb(2, 2),
      transposeA: fc.boolean(),
      transposeB: fc.boolean(),
    })
    .chain(({ M, K, N, batches: [aBatch, bBatch], transposeA, transposeB }) =>
      fc.record({
        a: refArb([...aBatch!, ...(transposeA ? [K, M] : [M, K])]),
        b: refArb([...bBatch!, ...(transposeB ? [N, K] : [K, N])]),
        transposeA: fc.constant(transposeA),
        transposeB: fc.constant(transposeB),
      }),
    )

const flags = (c: MatmulCase) => ({ transposeA: c.transposeA, transposeB: c.transposeB })

describe('matmul', () => {
  it('VJPs against float64 central differences, every transpose flag, batched and broadcast', () =>
    fc.assert(
      fc.property(matmulArb(5, 4, 4), cotangentArb, (c, w) =>
        checkGrad({
          name: `matmul(${JSON.stringify(flags(c))})`,
          op: (a, b) => matmul(a!, b!, flags(c)),
          ref: (a, b) => R.matmul(a!, b!, c.transposeA, c.transposeB),
          inputs: [c.a, c.b],
          w,
        }),
      ),
      runs(600, 60),
    ))

  it('forward values equal reference loops for every transpose flag and broadcast batch axes', () =>
    fc.assert(
      fc.property(matmulArb(11, 17, 9), (c) =>
        expectClose(
          `matmul(${JSON.stringify(flags(c))})`,
          matmul(toTensor(c.a), toTensor(c.b), flags(c)),
          R.matmul(c.a, c.b, c.transposeA, c.transposeB),
        ),
      ),
      runs(601, 60),
    ))

  it('forward values of larger products (every register-tile remainder, above the worker-pool threshold)', () => {
    const sizes: [number, number, number][] = [
      [13, 70, 45],
      [50, 70, 45],
      [64, 128, 33],
    ]
    for (const [s, [M, K, N]] of sizes.entries())
      fc.assert(
        fc.property(fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 1000 }), (tA, tB, seed) => {
          // deterministic values in [-1, 1) from a small LCG: fast to draw for thousands of elements
          let st = seed
          const draw = (n: number) =>
            Array.from({ length: n }, () => {
              st = (st * 1103515245 + 12345) % 2147483648
              return Math.fround(st / 1073741824 - 1)
            })
          const a = R.ref(tA ? [K, M] : [M, K], draw(M * K))
          const b = R.ref(tB ? [N, K] : [K, N], draw(K * N))
          expectClose(
            `matmul [${M},${K}]x[${K},${N}] ${tA} ${tB}`,
            matmul(toTensor(a), toTensor(b), { transposeA: tA, transposeB: tB }),
            R.matmul(a, b, tA, tB),
          )
        }),
        { seed: 610 + s, numRuns: 4 },
      )
  })

  it('the four forms agree on the same product', () => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    const b = tensor([
      [7, 8],
      [9, 10],
      [11, 12],
    ])
    const at = tensor([
      [1, 4],
      [2, 5],
      [3, 6],
    ])
    const bt = tensor([
      [7, 9, 11],
      [8, 10, 12],
    ])
    const want = [
      [58, 64],
      [139, 154],
    ]
    expect(matmul(a, b).toArray()).toEqual(want)
    expect(matmul(at, b, { transposeA: true }).toArray()).toEqual(want)
    expect(matmul(a, bt, { transposeB: true }).toArray()).toEqual(want)
    expect(matmul(at, bt, { transposeA: true, transposeB: true }).toArray()).toEqual(want)
  })

  it('broadcasts batch axes: a shared weight matrix, a batch of 1 and rank-3 against rank-2', () => {
    const x = tensor([[[1, 0]], [[0, 1]], [[1, 1]]]) // [3,1,2]
    const w = tensor([
      [1, 2],
      [3, 4],
    ])
    const y = matmul(x, w)
    expect(y.shape).toEqual([3, 1, 2])
    expect(y.toArray()).toEqual([[[1, 2]], [[3, 4]], [[4, 6]]])
    const y2 = matmul(
      w,
      tensor([
        [[1], [0]],
        [[0], [1]],
      ]),
    )
    expect(y2.shape).toEqual([2, 2, 1])
    expect(y2.toArray()).toEqual([
      [[1], [3]],
      [[2], [4]],
    ])
    const y3 = matmul(zeros([1, 4, 2, 3]), zeros([5, 1, 3, 6]))
    expect(y3.shape).toEqual([5, 4, 2, 6])
  })

  it('does not modify its inputs', () => {
    const a = tensor([
      [1, 2],
      [3, 4],
    ])
    const before = Array.from(a.data)
    matmul(a, a, { transposeA: true, transposeB: true })
    expect(Array.from(a.data)).toEqual(before)
  })

  it('mismatched shapes throw a ShapeError naming both shapes', () => {
    const mm =
      (a: number[], b: number[], o: { transposeA?: boolean; transposeB?: boolean } = {}) =>
      () =>
        matmul(zeros(a), zeros(b), o)
    expect(mm([32, 784], [300, 100])).toThrow(ShapeError)
    expect(mm([32, 784], [300, 100])).toThrow('matmul: inner dimensions differ: [32,784] x [300,100]')
    expect(mm([2, 3], [3, 4], { transposeA: true })).toThrow(
      'matmul: inner dimensions differ: [2,3] x [3,4] (transposeA)',
    )
    expect(mm([2, 3], [2, 3], { transposeB: false })).toThrow(
      'matmul: inner dimensions differ: [2,3] x [2,3]',
    )
    expect(mm([3, 2], [2, 3], { transposeB: true })).toThrow(
      'matmul: inner dimensions differ: [3,2] x [2,3] (transposeB)',
    )
    expect(mm([2, 3], [2, 4], { transposeA: true, transposeB: true })).toThrow(
      'matmul: inner dimensions differ: [2,3] x [2,4] (transposeA) (transposeB)',
    )
    expect(mm([3], [3, 2])).toThrow('matmul: both operands need at least 2 axes: [3] x [3,2]')
    expect(mm([2, 3], [])).toThrow('matmul: both operands need at least 2 axes: [2,3] x []')
    expect(mm([2, 2, 3], [3, 3, 4])).toThrow('matmul: batch dimensions do not broadcast: [2,2,3] x [3,3,4]')
  })

  it('works for empty operands', () => {
    expect(matmul(zeros([0, 3]), zeros([3, 2])).shape).toEqual([0, 2])
    const y: Tensor = matmul(zeros([2, 0]), zeros([0, 3]))
    expect(y.toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ])
  })
})
