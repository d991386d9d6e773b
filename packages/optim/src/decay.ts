import { type Tensor, tree } from '@purenn/tensor'
import { alloc } from '@purenn/tensor/internal'
import { finite } from './internal/check.js'
import { aligned, wrap } from './internal/leaves.js'
import { selectedPaths } from './internal/mask.js'
import type { Mask } from './mask.js'
import type { EmptyState, GradientTransformation } from './transform.js'

/**
 * Decoupled weight decay: adds `rate · w` to each update (Optax's `add_decayed_weights`;
 * Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization").
 *
 * @remarks
 * $u \leftarrow u + \mathrm{rate} \cdot w$, with $w$ the params passed to `update`. Placed after the adaptive
 * scaling and before the learning-rate step, as in {@link adamw}
 * (`chain(scaleByAdam(), addDecayedWeights(wd), scaleByLearningRate(lr))`), the weight moves
 * by $-\mathrm{lr} \cdot (\mathrm{adamDirection} + \mathrm{wd} \cdot w)$: exactly Keras' AdamW, whose decay
 * $w \leftarrow w - \mathrm{lr} \cdot \mathrm{wd} \cdot w$ uses the weights from the start of the step. The decay is not
 * divided by Adam's $\sqrt{\hat{v}}$, which is the point of AdamW: an L2 penalty added to the loss would
 * be (so weights with large gradients would barely decay).
 *
 * With a `mask`, only the selected leaves decay (others pass through), e.g. to exclude biases
 * as Keras' `exclude_from_weight_decay` does: `(path) => !path.endsWith('bias')`.
 *
 * @param rate - the decay coefficient `wd`
 * @param mask - which leaves decay; all when omitted
 * @returns a stateless transformation
 * @example
 * ```ts
 * import { addDecayedWeights } from '@purenn/optim'
 * import { tensor } from '@purenn/tensor'
 * const params = { kernel: tensor([10, 20]), bias: tensor([10]) }
 * const grads = { kernel: tensor([1, 1]), bias: tensor([1]) }
 * const tx = addDecayedWeights(0.1, (path) => path !== 'bias')
 * const { updates } = tx.update(grads, {}, params)
 * console.log(updates.kernel.toString(), updates.bias.toString()) // tensor([2, 3]) tensor([1])
 * ```
 * @category Weight decay
 */
export const addDecayedWeights = (rate: number, mask?: Mask): GradientTransformation<EmptyState> => {
  finite('addDecayedWeights', 'rate', rate)
  const decayLeaf = (u: Tensor, w: Tensor): Tensor => {
    const n = u.size
    const us = u.data
    const ws = w.data
    const out = alloc(n)
    for (let i = 0; i < n; i++) out[i] = us[i]! + rate * ws[i]!
    return wrap(out, u.shape)
  }
  return {
    init: () => ({}),
    update: (grads, state, params) => {
      const ps = aligned('addDecayedWeights', grads, params, 'params')
      const selected = mask === undefined ? undefined : selectedPaths('addDecayedWeights', params, mask)
      let i = 0
      const updates = tree.map(grads, (u: Tensor, path: string): Tensor => {
        const w = ps[i++]!
        return selected === undefined || selected.has(path) ? decayLeaf(u, w) : u
      })
      return { updates, state }
    },
  }
}
