import { inspect } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { abs, add, clip, div, exp, log, maximum, mul, pow, sqrt, sub, where } from '../src/arith.js'
import { ShapeError } from '../src/errors.js'
import * as api from '../src/index.js'
import { matmul } from '../src/linalg.js'
import { gelu, relu, softmax } from '../src/nn.js'
import { max, mean, sum, variance } from '../src/reduce.js'
import { broadcastTo, concat, gather, reshape, slice, stack, transpose } from '../src/shape.js'
import {
  arange,
  eye,
  full,
  isTensor,
  item,
  ones,
  onesLike,
  toString as render,
  scalar,
  type Tensor,
  tensor,
  toArray,
  zeros,
  zerosLike,
} from '../src/tensor.js'
import { f32, refArb, runs, shapeArb, toTensor } from './helpers/gradcheck.js'

describe('creation', () => {
  it('tensor from nested arrays', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    expect(t.shape).toEqual([2, 3])
    expect(t.size).toBe(6)
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6])
    expect(t.data).toBeInstanceOf(Float32Array)
    expect(tensor([[[1], [2]]]).shape).toEqual([1, 2, 1])
    expect(tensor(5).shape).toEqual([])
    expect(tensor(5).item()).toBe(5)
    expect(tensor([]).shape).toEqual([0])
    expect(tensor([[], []]).shape).toEqual([2, 0])
    expect(tensor([0.1]).data[0]).toBe(Math.fround(0.1))
    expect(tensor([1, 2, 3, 4], [2, 2]).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ])
  })

  it('tensor from typed arrays, with and without a shape, rounding to float32', () => {
    expect(tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]).shape).toEqual([2, 3])
    expect(tensor(new Float32Array([1, 2, 3])).shape).toEqual([3])
    expect(Array.from(tensor(new Float64Array([0.1, 1e40]), [2]).data)).toEqual([Math.fround(0.1), Infinity])
    expect(tensor(new Int32Array([3, -4]), [2, 1]).toArray()).toEqual([[3], [-4]])
    expect(tensor(new Uint8Array([255, 0])).toArray()).toEqual([255, 0])
    expect(tensor(new Float32Array([7]), []).shape).toEqual([])
  })

  it('copies its input: later writes to the source do not reach the tensor', () => {
    const src = new Float32Array([1, 2])
    const nested = [[1, 2]]
    const a = tensor(src)
    const b = tensor(nested)
    src[0] = 99
    nested[0]![0] = 99
    expect(a.toArray()).toEqual([1, 2])
    expect(b.toArray()).toEqual([[1, 2]])
  })

  it('ragged arrays and size mismatches throw ShapeErrors', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError)
    expect(() => tensor([[1, 2], [3]])).toThrow(
      'tensor: ragged nested array: expected length 2 at depth 1 for shape [2,2]',
    )
    expect(() => tensor([[1], 2])).toThrow(
      'tensor: ragged nested array: expected length 1 at depth 1 for shape [2,1]',
    )
    expect(() => tensor([1, [2]])).toThrow('tensor: ragged nested array: expected a number at depth 1')
    expect(() =>
      tensor([
        [[1, 2]],
        [
          [3, 4],
          [5, 6],
        ],
      ]),
    ).toThrow('tensor: ragged nested array: expected length 1 at depth 1 for shape [2,1,2]')
    expect(() => tensor(new Float32Array(5), [2, 3])).toThrow(
      'tensor: 5 values do not fill shape [2,3] (size 6)',
    )
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow('tensor: 3 values do not fill shape [2,2] (size 4)')
    expect(() => tensor(new Float32Array(2), [-1, -2])).toThrow(
      'tensor: invalid shape [-1,-2]: dimensions must be non-negative integers',
    )
  })

  it('scalar, zeros, ones, full, zerosLike, onesLike', () => {
    expect(scalar(3).shape).toEqual([])
    expect(scalar(3).item()).toBe(3)
    expect(scalar(0.1).item()).toBe(Math.fround(0.1))
    expect(zeros([2, 3]).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ])
    expect(zeros([]).shape).toEqual([])
    expect(zeros([0, 5]).size).toBe(0)
    expect(ones([3]).toArray()).toEqual([1, 1, 1])
    expect(full([2, 2], 7).toArray()).toEqual([
      [7, 7],
      [7, 7],
    ])
    expect(Number.isNaN(full([1], Number.NaN).item())).toBe(true)
    const t = tensor([[1, 2, 3]])
    expect(zerosLike(t).toArray()).toEqual([[0, 0, 0]])
    expect(onesLike(t).toArray()).toEqual([[1, 1, 1]])
    expect(onesLike(scalar(5)).shape).toEqual([])
    expect(() => zeros([2, -1])).toThrow(
      'zeros: invalid shape [2,-1]: dimensions must be non-negative integers',
    )
    expect(() => ones([1.5])).toThrow('ones: invalid shape [1.5]: dimensions must be non-negative integers')
    expect(() => full([-3], 1)).toThrow('full: invalid shape [-3]: dimensions must be non-negative integers')
  })

  it('arange and eye', () => {
    expect(arange(4).toArray()).toEqual([0, 1, 2, 3])
    expect(arange(2, 5).toArray()).toEqual([2, 3, 4])
    expect(arange(1, 7, 2).toArray()).toEqual([1, 3, 5])
    expect(arange(1, 8, 2).toArray()).toEqual([1, 3, 5, 7])
    expect(arange(5, 0, -2).toArray()).toEqual([5, 3, 1])
    expect(arange(0, 1, 0.25).toArray()).toEqual([0, 0.25, 0.5, 0.75])
    expect(arange(3, 1).shape).toEqual([0])
    expect(arange(0).shape).toEqual([0])
    expect(() => arange(0, 1, 0)).toThrow('arange: step must not be 0')
    expect(eye(2).toArray()).toEqual([
      [1, 0],
      [0, 1],
    ])
    expect(eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ])
    expect(eye(3, 1).toArray()).toEqual([[1], [0], [0]])
    expect(() => eye(-1)).toThrow('eye: invalid shape [-1,-1]: dimensions must be non-negative integers')
  })
})

describe('reading', () => {
  it('toArray and item, as functions and methods', () => {
    const t = tensor([
      [1, 2],
      [3, 4],
    ])
    expect(toArray(t)).toEqual([
      [1, 2],
      [3, 4],
    ])
    expect(t.toArray()).toEqual(toArray(t))
    expect(toArray(scalar(2.5))).toBe(2.5)
    expect(toArray(zeros([2, 0]))).toEqual([[], []])
    expect(item(scalar(2.5))).toBe(2.5)
    expect(tensor([[7]]).item()).toBe(7)
    expect(() => item(t)).toThrow(ShapeError)
    expect(() => item(t)).toThrow('item: expected a tensor with one element, got shape [2,2]')
    expect(() => zeros([0]).item()).toThrow('item: expected a tensor with one element, got shape [0]')
  })

  it('toArray(tensor(x)) round-trips nested arrays of float32 values', () =>
    fc.assert(
      fc.property(
        shapeArb().chain((s) => refArb(s, f32)),
        (r) => {
          const t = toTensor(r)
          expect(tensor(t.toArray()).toArray()).toEqual(t.toArray())
          expect(tensor(t.toArray()).shape).toEqual(r.shape)
        },
      ),
      runs(1000, 40),
    ))

  it('toString renders small tensors in full', () => {
    expect(render(tensor([0.5, 1, 2]))).toBe('tensor([0.5, 1, 2])')
    expect(
      render(
        tensor([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toBe('tensor([[1, 2], [3, 4]])')
    expect(render(scalar(3))).toBe('tensor(3)')
    expect(render(tensor([]))).toBe('tensor([])')
    expect(render(tensor([0.1, -2.25, 1 / 3]))).toBe('tensor([0.1, -2.25, 0.333333])')
    expect(render(tensor([1e-5, 123456789, Number.NaN, Infinity, -Infinity, -0]))).toBe(
      'tensor([1.0000e-5, 123456792, nan, inf, -inf, 0])',
    )
    expect(render(tensor([1.5e9]))).toBe('tensor([1500000000])')
    expect(render(tensor([2.5e10]))).toBe(`tensor([${Math.fround(2.5e10)}])`)
    expect(String(eye(2))).toBe('tensor([[1, 0], [0, 1]])')
    expect(`${tensor([1])}`).toBe('tensor([1])')
    expect(eye(2).toString()).toBe('tensor([[1, 0], [0, 1]])')
    expect(inspect(tensor([1, 2]))).toBe('tensor([1, 2])')
  })

  it('toString elides tensors of more than 1000 elements', () => {
    expect(render(arange(1000))).not.toContain('...')
    expect(render(arange(2000))).toBe('tensor([0, 1, 2, ..., 1997, 1998, 1999], shape=[2000])')
    const row = '[0, 0, 0, ..., 0, 0, 0]'
    expect(render(zeros([40, 30]))).toBe(
      `tensor([${row}, ${row}, ${row}, ..., ${row}, ${row}, ${row}], shape=[40,30])`,
    )
    // an axis of 7 is elided too
    const seven = render(reshape(arange(7 * 150), [7, 150]))
    expect(
      seven.startsWith('tensor([[0, 1, 2, ..., 147, 148, 149], [150, 151, 152, ..., 297, 298, 299], [300,'),
    ).toBe(true)
    expect(seven).toContain('449], ..., [600, 601')
    // only axes longer than 6 are elided
    const s = render(reshape(arange(2 * 3 * 170), [2, 3, 170]))
    expect(
      s.startsWith('tensor([[[0, 1, 2, ..., 167, 168, 169], [170, 171, 172, ..., 337, 338, 339], [340,'),
    ).toBe(true)
    expect(s.endsWith(', 1017, 1018, 1019]]], shape=[2,3,170])')).toBe(true)
    expect(s.match(/\.\.\./g)?.length).toBe(6)
  })
})

describe('values', () => {
  it('isTensor', () => {
    expect(isTensor(scalar(1))).toBe(true)
    expect(isTensor({ shape: [] })).toBe(false)
    expect(isTensor(null)).toBe(false)
    expect(isTensor(new Float32Array(1))).toBe(false)
  })

  it('a tensor is frozen plain data: shape, size and data are its only enumerable fields', () => {
    const t = tensor([[1, 2, 3]])
    expect(Object.isFrozen(t)).toBe(true)
    expect(Object.isFrozen(t.shape)).toBe(true)
    expect(Object.keys(t)).toEqual(['shape', 'size', 'data'])
    expect(() => {
      ;(t as { shape: readonly number[] }).shape = [3]
    }).toThrow(TypeError)
    expect(() => {
      ;(t.shape as number[]).push(1)
    }).toThrow(TypeError)
    expect(() => {
      ;(t as { size: number }).size = 1
    }).toThrow(TypeError)
    expect(t.shape).toEqual([1, 3])
    expect((t as { node?: unknown }).node).toBeUndefined()
  })

  it('creating a tensor from a shape array does not alias it', () => {
    const shape = [2, 2]
    const t = zeros(shape)
    shape[0] = 5
    expect(t.shape).toEqual([2, 2])
    const u = reshape(arange(4), shape.slice(1).concat([2]))
    expect(u.shape).toEqual([2, 2])
  })

  it('ops never modify their inputs', () => {
    const a = tensor([
      [0.5, -1, 2],
      [3, 0.25, -0.75],
    ])
    const b = tensor([1.5, 2, -0.5])
    const before = [Array.from(a.data), Array.from(b.data)]
    const results: Tensor[] = [
      add(a, b),
      sub(a, b),
      mul(a, b),
      div(a, b),
      pow(abs(a), b),
      maximum(a, b),
      clip(a, -0.5, 0.5),
      where(a, a, b),
      exp(a),
      log(abs(a)),
      sqrt(abs(a)),
      relu(a),
      gelu(a),
      softmax(a),
      sum(a, 0),
      mean(a, 1, true),
      max(a),
      variance(a),
      matmul(a, reshape(b, [3, 1])),
      matmul(a, a, { transposeA: true }),
      transpose(a),
      slice(a, [0, 1]),
      gather(a, [1, 1]),
      concat([a, a]),
      stack([b, b]),
      broadcastTo(b, [4, 3]),
      reshape(a, [3, 2]),
    ]
    expect(results.every(isTensor)).toBe(true)
    expect([Array.from(a.data), Array.from(b.data)]).toEqual(before)
  })
})

describe('the package entry', () => {
  it('exports the creation, reading, op, autodiff and tree functions', () => {
    const names = [
      ...['tensor', 'scalar', 'zeros', 'ones', 'full', 'arange', 'eye', 'zerosLike', 'onesLike'],
      ...['toArray', 'item', 'toString', 'isTensor', 'ShapeError'],
      ...[
        'add',
        'sub',
        'mul',
        'div',
        'pow',
        'maximum',
        'minimum',
        'neg',
        'abs',
        'sign',
        'exp',
        'log',
        'log1p',
      ],
      ...[
        'sqrt',
        'rsqrt',
        'square',
        'clip',
        'where',
        'equal',
        'greater',
        'greaterEqual',
        'less',
        'lessEqual',
      ],
      ...[
        'relu',
        'sigmoid',
        'tanh',
        'softplus',
        'elu',
        'selu',
        'gelu',
        'leakyRelu',
        'swish',
        'softmax',
        'logSoftmax',
      ],
      ...['sum', 'mean', 'max', 'min', 'variance', 'argmax', 'matmul'],
      ...[
        'reshape',
        'transpose',
        'expandDims',
        'squeeze',
        'slice',
        'gather',
        'concat',
        'stack',
        'broadcastTo',
      ],
      ...['oneHot', 'cast', 'grad', 'valueAndGrad', 'stopGradient'],
    ]
    const exported: Record<string, unknown> = { ...api }
    expect(names.filter((n) => typeof exported[n] !== 'function')).toEqual([])
    expect(Object.keys(api.tree).sort()).toEqual([
      'count',
      'flatten',
      'leaves',
      'map',
      'map2',
      'maskLeaves',
      'unflatten',
    ])
  })
})
