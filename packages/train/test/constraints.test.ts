import { dense, freeze, initModel, type Loss, maxNorm, nonNeg, sequential, setWeights } from '@purenn/layers'
import { sgd } from '@purenn/optim'
import { key, sum, tensor } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import { makeTrainer } from '../src/index.js'

// A linear model 2 → 2 with loss = Σ ŷ, so ∂loss/∂W = Σ_rows x
// (the same column for every unit) and one SGD step moves W by −lr·Σx in every column.
const sumLoss: Loss = { name: 'sum', fn: (_y, yPred) => sum(yPred) }

describe('weight constraints in the training step', () => {
  const build = () =>
    setWeights(
      initModel(
        sequential([dense({ units: 2, kernelConstraint: maxNorm(1), biasConstraint: nonNeg(), name: 'd' })], {
          inputShape: [2],
        }),
        { key: key(0) },
      ),
      [
        tensor([
          [0.6, 0],
          [0, 0.6],
        ]),
        tensor([0.5, 0.5]),
      ],
    )
  const batch = { x: tensor([[-3, -4]]), y: tensor([0]) }

  it('projects the kernel after the update: w ← w − lr·g, then w·min(n, 1)/(ε + n) per column', () => {
    const trainer = makeTrainer({ loss: sumLoss, metrics: [], optimizer: sgd({ learningRate: 1 }) })
    const { state } = trainer.step(trainer.init(build()), batch, key(1))
    const p = state.model.params as { d: { kernel: { data: Float32Array }; bias: { data: Float32Array } } }
    // unconstrained: kernel [[3.6, 3], [4, 4.6]], bias [−0.5, −0.5]
    const n0 = Math.hypot(3.6, 4)
    const n1 = Math.hypot(3, 4.6)
    const want = [3.6 / (n0 + 1e-7), 3 / (n1 + 1e-7), 4 / (n0 + 1e-7), 4.6 / (n1 + 1e-7)]
    for (const [i, v] of [...p.d.kernel.data].entries())
      expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(1e-6)
    expect([...p.d.bias.data]).toEqual([0, 0])
  })

  it('leaves frozen params unprojected (Keras constrains only the variables it updates)', () => {
    const trainer = makeTrainer({ loss: sumLoss, metrics: [], optimizer: sgd({ learningRate: 1 }) })
    const big = setWeights(build(), [
      tensor([
        [3, 0],
        [4, 0],
      ]),
      tensor([-1, 1]),
    ])
    const frozen = freeze(big)
    const { state } = trainer.step(trainer.init(frozen), batch, key(1))
    expect(state.model.params).toEqual(frozen.params)
  })
})
