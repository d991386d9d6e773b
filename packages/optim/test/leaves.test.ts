import { ShapeError, type Tree, tensor, zeros } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import { adam, updateAndApply } from '../src/index.js'
import { aligned } from '../src/internal/leaves.js'

describe('aligned: a tree checked against the gradients, leaf by leaf', () => {
  const grads = { dense: { kernel: zeros([2, 3]), bias: zeros([3]) }, out: [zeros([3, 1]), zeros([1])] }

  it('returns the leaves of a tree of the structure of the gradients, in flatten order', () => {
    const t = {
      dense: {
        kernel: tensor([
          [1, 2, 3],
          [4, 5, 6],
        ]),
        bias: tensor([7, 8, 9]),
      },
      out: [tensor([[10], [11], [12]]), tensor([13])],
    }
    const got = aligned('op', grads, t, 'params')
    expect(got.map((l) => l.toArray())).toEqual([
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      [7, 8, 9],
      [[10], [11], [12]],
      [13],
    ])
    expect(got[0]).toBe(t.dense.kernel)
  })

  it('accepts a tree with the same paths and another structure, as before (an object for an array)', () => {
    const t = {
      dense: { kernel: zeros([2, 3]), bias: tensor([1, 2, 3]) },
      out: { 0: zeros([3, 1]), 1: tensor([4]) },
    }
    expect(
      aligned('op', grads, t, 'params')
        .map((l) => l.toArray())
        .slice(1),
    ).toEqual([[1, 2, 3], [[0], [0], [0]], [4]])
  })

  it('names the first leaf that differs: key order, shape, a missing or an extra leaf', () => {
    const swapped = { dense: { bias: zeros([3]), kernel: zeros([2, 3]) }, out: [zeros([3, 1]), zeros([1])] }
    expect(() => aligned('op', grads, swapped, 'state.mu')).toThrow(ShapeError)
    expect(() => aligned('op', grads, swapped, 'state.mu')).toThrow(
      'op: state.mu does not match the gradients: leaf "dense.bias" [3] vs "dense.kernel" [2,3]',
    )
    const reshaped = { ...grads, out: [zeros([1, 3]), zeros([1])] }
    expect(() => aligned('op', grads, reshaped, 'params')).toThrow(
      'op: params does not match the gradients: leaf "out.0" [1,3] vs "out.0" [3,1]',
    )
    expect(() => aligned('op', grads, { ...grads, out: [zeros([3, 1])] }, 'params')).toThrow(
      'op: params has 3 leaves, the gradients have 4',
    )
    expect(() => aligned('op', grads, { ...grads, extra: zeros([1]) }, 'params')).toThrow(
      'op: params has 5 leaves, the gradients have 4',
    )
    expect(() =>
      aligned('op', grads, { ...grads, out: [zeros([3, 1]), 2] } as unknown as Tree, 'params'),
    ).toThrow('tree: leaf at "out.1" is a number, not a tensor')
  })

  it("an optimizer's fused step rejects a state whose leaves are in another order", () => {
    const tx = adam()
    const params = { a: tensor([1, 2]), b: tensor([3, 4]) }
    const state = tx.init(params)
    const [clip, inner, lr] = state as unknown as [unknown, { count: number; mu: Tree; nu: Tree }, unknown]
    const mu = inner.mu as { a: unknown; b: unknown }
    const swapped = [clip, { ...inner, mu: { b: mu.b, a: mu.a } }, lr] as unknown as typeof state
    expect(() => updateAndApply(tx, params, swapped, params)).toThrow(
      'does not match the gradients: leaf "b" [2] vs "a" [2]',
    )
  })
})
