import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { add, exp, log, mul, square, sub } from '../src/arith.js'
import { ShapeError } from '../src/errors.js'
import { grad, stopGradient, valueAndGrad } from '../src/grad.js'
import { matmul } from '../src/linalg.js'
import { logSoftmax, relu, tanh } from '../src/nn.js'
import { mean, sum } from '../src/reduce.js'
import { broadcastTo, reshape } from '../src/shape.js'
import { scalar, type Tensor, tensor, zeros } from '../src/tensor.js'
import { checkGrad, cotangentArb, expectClose, refArb, runs } from './helpers/gradcheck.js'
import * as R from './helpers/reference.js'

/** Reads the internal tape node, which the public type hides. */
const nodeOf = (t: Tensor): unknown => (t as { node?: unknown }).node

describe('valueAndGrad and grad', () => {
  it('return the value and the gradient with the structure of the parameters', () => {
    const f = (p: { w: Tensor; layers: [{ b: Tensor }, Tensor] }) =>
      add(sum(square(p.w)), add(sum(mul(p.layers[0].b, 3)), sum(p.layers[1])))
    const params = {
      w: tensor([1, 2, 3]),
      layers: [{ b: tensor([[1, 1]]) }, zeros([2, 2])] as [{ b: Tensor }, Tensor],
    }
    const { value, grad: g } = valueAndGrad(f)(params)
    expect(value.item()).toBe(14 + 6)
    expect(g.w.toArray()).toEqual([2, 4, 6])
    expect(g.layers[0].b.toArray()).toEqual([[3, 3]])
    expect(g.layers[1].toArray()).toEqual([
      [1, 1],
      [1, 1],
    ])
    expect(grad(f)(params).w.toArray()).toEqual([2, 4, 6])
    expect(grad((t: Tensor) => sum(mul(t, t)))(tensor([3])).toArray()).toEqual([6])
  })

  it('pass extra arguments through untouched and give them no gradient', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ])
    const loss = (p: { w: Tensor }, input: Tensor, scale: number, label: string) => {
      expect(label).toBe('batch-1')
      expect(input).toBe(x)
      return mul(sum(matmul(input, p.w)), scale)
    }
    const { value, grad: g } = valueAndGrad(loss)({ w: tensor([[1], [1]]) }, x, 2, 'batch-1')
    expect(value.item()).toBe(20)
    expect(g.w.toArray()).toEqual([[8], [12]])
    expect(grad(loss)({ w: tensor([[1], [1]]) }, x, 1, 'batch-1').w.toArray()).toEqual([[4], [6]])
  })

  it('hasAux passes auxiliary output through, detached', () => {
    const f = (p: { w: Tensor }, x: Tensor) => {
      const y = mul(p.w, x)
      return [sum(y), { y, note: 'aux', n: 3, list: [y] }] as const
    }
    const { value, grad: g, aux } = valueAndGrad(f, { hasAux: true })({ w: tensor([2, 3]) }, tensor([5, 7]))
    expect(value.item()).toBe(31)
    expect(g.w.toArray()).toEqual([5, 7])
    expect(aux.y.toArray()).toEqual([10, 21])
    expect(aux.note).toBe('aux')
    expect(aux.n).toBe(3)
    expect(nodeOf(aux.y)).toBeUndefined()
    expect(nodeOf(aux.list[0]!)).toBeUndefined()
  })

  it('gradients of leaves that do not reach the output are zeros of their shape', () => {
    const { value, grad: g } = valueAndGrad((p: { used: Tensor; unused: Tensor; alsoUnused: Tensor[] }) =>
      sum(p.used),
    )({ used: tensor([1, 2]), unused: tensor([[1, 2, 3]]), alsoUnused: [scalar(4)] })
    expect(value.item()).toBe(3)
    expect(g.used.toArray()).toEqual([1, 1])
    expect(g.unused.toArray()).toEqual([[0, 0, 0]])
    expect(g.alsoUnused[0]!.shape).toEqual([])
    expect(g.alsoUnused[0]!.item()).toBe(0)
    // an output that does not depend on the parameters at all
    const c = valueAndGrad((_p: Tensor) => sum(tensor([1, 2])))(tensor([5, 5]))
    expect(c.value.item()).toBe(3)
    expect(c.grad.toArray()).toEqual([0, 0])
    // a parameter used only through a value whose gradient is stopped
    expect(grad((p: Tensor) => sum(stopGradient(p)))(tensor([1, 2])).toArray()).toEqual([0, 0])
  })

  it('stopGradient keeps the value and cuts the gradient', () => {
    const g = grad((x: Tensor) => sum(mul(x, stopGradient(x))))(tensor([3, -2]))
    expect(g.toArray()).toEqual([3, -2])
    const { value } = valueAndGrad((x: Tensor) => sum(stopGradient(mul(x, 2))))(tensor([1, 2]))
    expect(value.item()).toBe(6)
    const t = tensor([1])
    expect(stopGradient(t)).toBe(t)
  })

  it('a tensor used several times accumulates the contributions of every use', () => {
    // f(x) = Σ x·x + Σ x + Σ 3x + Σ broadcast(x)  →  2x + 1 + 3 + 2 (x broadcast over 2 rows)
    const g = grad((x: Tensor) =>
      add(add(sum(mul(x, x)), sum(x)), add(sum(mul(x, 3)), sum(broadcastTo(x, [2, 3])))),
    )(tensor([1, 2, 3]))
    expect(g.toArray()).toEqual([8, 10, 12])
    // a diamond: y = x² used by two branches that meet again
    const g2 = grad((x: Tensor) => {
      const y = square(x)
      return sum(add(mul(y, 2), exp(sub(y, y))))
    })(tensor([1, -2]))
    expect(g2.toArray()).toEqual([4, -8])
    // the same tensor under two keys: two leaves, each with its own gradient
    const w = tensor([1, 1])
    const g3 = grad((p: { a: Tensor; b: Tensor }) => add(sum(p.a), sum(mul(p.b, 2))))({ a: w, b: w })
    expect(g3.a.toArray()).toEqual([1, 1])
    expect(g3.b.toArray()).toEqual([2, 2])
  })

  it('records no tape node outside valueAndGrad, nor on constants and results inside', () => {
    const a = tensor([1, 2])
    const outside = [add(a, 1), exp(a), sum(a), matmul(reshape(a, [1, 2]), reshape(a, [2, 1])), relu(a)]
    for (const t of outside) expect(nodeOf(t)).toBeUndefined()
    let constant: Tensor | undefined
    let traced: Tensor | undefined
    const { value, grad: g } = valueAndGrad((x: Tensor) => {
      constant = mul(a, 3)
      traced = mul(x, 3)
      return sum(traced)
    })(tensor([1, 1]))
    expect(nodeOf(constant!)).toBeUndefined()
    expect(nodeOf(traced!)).toBeDefined()
    expect(nodeOf(value)).toBeUndefined()
    expect(nodeOf(g)).toBeUndefined()
    // a traced intermediate that escaped records nothing once valueAndGrad has returned
    expect(nodeOf(mul(traced!, 2))).toBeUndefined()
    // nor when the function threw
    let leaked: Tensor | undefined
    expect(() =>
      valueAndGrad((x: Tensor) => {
        leaked = mul(x, 2)
        throw new Error('boom')
      })(tensor([1])),
    ).toThrow('boom')
    expect(nodeOf(add(leaked!, 1))).toBeUndefined()
  })

  it('an output that is not one element gives the documented error', () => {
    expect(() => valueAndGrad((x: Tensor) => mul(x, 2))(tensor([1, 2, 3]))).toThrow(ShapeError)
    expect(() => valueAndGrad((x: Tensor) => mul(x, 2))(tensor([1, 2, 3]))).toThrow(
      'valueAndGrad: the function must return a single value, got shape [3]',
    )
    expect(() => grad((x: Tensor) => x)(zeros([2, 2]))).toThrow(
      'valueAndGrad: the function must return a single value, got shape [2,2]',
    )
    expect(() => valueAndGrad((x: Tensor) => [x, 0] as const, { hasAux: true })(zeros([0]))).toThrow(
      'valueAndGrad: the function must return a single value, got shape [0]',
    )
    // one element of any rank is fine, and the identity has gradient 1
    expect(grad((x: Tensor) => reshape(x, [1, 1]))(tensor([4])).toArray()).toEqual([1])
    expect(grad((x: Tensor) => x)(scalar(4)).item()).toBe(1)
  })

  it('does not modify the parameters and gives the same result twice', () => {
    const p = { w: tensor([0.5, -1, 2]) }
    const f = (q: { w: Tensor }) => sum(tanh(mul(q.w, q.w)))
    const r1 = valueAndGrad(f)(p)
    const r2 = valueAndGrad(f)(p)
    expect(Array.from(p.w.data)).toEqual([0.5, -1, 2])
    expect(Array.from(r1.grad.w.data)).toEqual(Array.from(r2.grad.w.data))
    expect(r1.value.item()).toBe(r2.value.item())
  })

  it('an inner valueAndGrad over values of the outer one is differentiated by the outer one', () => {
    // the outer objective records a few ops before the inner call, so its trace is the longer one.
    // inner = ∂/∂q Σ q·p2 = p2, which depends on p: the objective is Σ p2² and its gradient 2p
    // (JAX: grad(lambda p: jnp.sum(p * grad(lambda q: jnp.sum(q * p))(jnp.ones(2))))([3., 4.]) = [6, 8]).
    // Before higher-order support the inner gradient was a constant and this gave [3, 4].
    const outer = (p: Tensor) => {
      const p2 = add(mul(p, 1), 0)
      const inner = grad((q: Tensor) => sum(mul(q, p2)))(tensor([1, 1]))
      expect(inner.toArray()).toEqual(Array.from(p.data))
      return sum(mul(p2, inner))
    }
    expect(grad(outer)(tensor([3, 4])).toArray()).toEqual([6, 8])
  })

  it('aux may hold any plain data, including a key named node', () => {
    const { aux } = valueAndGrad(
      (x: Tensor) => [sum(x), { node: mul(x, 2), edges: [1, 2], name: 'n' }] as const,
      {
        hasAux: true,
      },
    )(tensor([1, 2]))
    expect(aux.node.toArray()).toEqual([2, 4])
    expect(nodeOf(aux.node)).toBeUndefined()
    expect(aux.edges).toEqual([1, 2])
    expect(aux.name).toBe('n')
  })

  it('a gradient computed inside the objective is a constant there', () => {
    const c = tensor([1, 2])
    const g = grad((p: Tensor) => {
      const inner = grad((q: Tensor) => sum(mul(q, q)))(c) // 2c, a constant
      return sum(mul(p, inner))
    })(tensor([5, 5]))
    expect(g.toArray()).toEqual([2, 4])
  })
})

describe('composed graphs', () => {
  it('a two-layer network with a softmax cross-entropy matches float64 central differences', () => {
    const arb = fc
      .record({
        n: fc.integer({ min: 1, max: 3 }),
        d: fc.integer({ min: 1, max: 3 }),
        h: fc.integer({ min: 1, max: 3 }),
      })
      .chain(({ n, d, h }) =>
        fc.tuple(refArb([n, d]), refArb([d, h]), refArb([h]), refArb([h, 3]), refArb([n, 3]), cotangentArb),
      )
    fc.assert(
      fc.property(arb, ([x, w1, b1, w2, target, w]) =>
        checkGrad({
          name: 'mlp',
          op: (xt, k1, c1, k2, t) => {
            const hidden = tanh(add(matmul(xt!, k1!), c1!))
            return reshape(mean(sum(mul(t!, logSoftmax(matmul(hidden, k2!))), -1)), [1])
          },
          ref: (xr, k1, c1, k2, t) => {
            const hidden = R.map1(
              R.mapN([R.matmul(xr!, k1!), c1!], (u, v) => u + v),
              Math.tanh,
            )
            const ls = R.logSoftmax(R.matmul(hidden, k2!), -1)
            const rows = R.reduceGroups(
              R.mapN([t!, ls], (u, v) => u * v),
              -1,
              false,
              R.sum,
            )
            return R.ref([1], [R.mean(Array.from(rows.data))])
          },
          inputs: [x, w1, b1, w2, target],
          w,
          wrt: [1, 2, 3],
        }),
      ),
      runs(800, 40),
    )
  })

  it('log(exp(x)) has gradient 1 and exp(log(x)) too', () => {
    const g = grad((x: Tensor) => add(sum(log(exp(x))), sum(exp(log(x)))))(tensor([0.5, 1, 2]))
    expectClose('grad', g, R.ref([3], [2, 2, 2]), 1e-6)
  })
})
