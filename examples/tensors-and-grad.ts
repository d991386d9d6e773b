/**
 * Tensors and reverse-mode autodiff: fit y = 3x − 1 by gradient descent with valueAndGrad.
 *
 * The gradient is computed by `valueAndGrad` and checked against a finite difference. Each
 * step uses every point, so `--epochs` counts the steps of gradient descent.
 *
 * Run: pnpm example tensors-and-grad [--epochs 100] [--subset 64]
 */
import { tensor as T } from 'purenn'
import { exampleArgs } from './lib/flags.js'

const args = exampleArgs({
  name: 'tensors-and-grad',
  epochs: { default: 100, max: 100_000, what: 'steps of full-batch gradient descent' },
  subset: { what: 'points', min: 2, max: 1_000_000, default: 64 },
})
const points = args.subset!

const { add, key, matmul, mean, mul, normal, split, square, sub, tensor, valueAndGrad } = T

type Params = { w: T.Tensor; b: T.Tensor }

const [kx, kn] = split(key(42), 2) as [T.Key, T.Key]
const x = normal(kx, [points, 1])
const y = add(sub(mul(x, 3), 1), mul(normal(kn, [points, 1]), 0.1))

const loss = (p: Params, xs: T.Tensor, ys: T.Tensor): T.Tensor =>
  mean(square(sub(add(matmul(xs, p.w), p.b), ys)))
const step = valueAndGrad(loss)

let params: Params = { w: tensor([[0]]), b: tensor([0]) }
console.log('initial parameters', params.w.toString(), params.b.toString())
for (let i = 0; i < args.epochs; i++) {
  const { value, grad } = step(params, x, y)
  if (i % 20 === 0 || i === args.epochs - 1)
    console.log(
      `step ${String(i).padStart(3)}  loss ${value.item().toFixed(5)}  dL/dw ${grad.w.item().toFixed(5)}`,
    )
  params = { w: sub(params.w, mul(grad.w, 0.1)), b: sub(params.b, mul(grad.b, 0.1)) }
}
console.log('fitted w', params.w.item().toFixed(3), 'b', params.b.item().toFixed(3), '(true values 3 and -1)')

// the gradient from the tape against a central difference on w
const h = 1e-2
const at = (w: number) => loss({ w: tensor([[w]]), b: params.b }, x, y).item()
const numeric = (at(params.w.item() + h) - at(params.w.item() - h)) / (2 * h)
console.log(
  'dL/dw from the tape',
  step(params, x, y).grad.w.item().toExponential(3),
  'central difference',
  numeric.toExponential(3),
)
