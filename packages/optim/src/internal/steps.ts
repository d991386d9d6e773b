/**
 * Fused steps: an optimizer's whole step, from the gradient to the new weight, as one loop
 * per parameter leaf (the `applyStep` of the aliases in alias.ts). Each loop below is the
 * chain's passes written one after the other for one element, with the same float32
 * roundings (`Math.fround` where a pass stores its output) in the same order:
 *
 * ```text
 * u = the scaling's update (scaleByAdam...), its new state stored
 * u = f32(u + wd·w)           addDecayedWeights (AdamW)
 * u = f32(u·s)                scaleByLearningRate, s = −lr at the step
 * t = f32(mom·tr + u)         traceMomentum (the new trace), u = t or f32(mom·t + u) (Nesterov)
 * u = f32(u·f)                fit's learning-rate factor, f = fround(factor) (f = 1 changes nothing)
 * w' = u = ±0 ? w : f32(w + u)   applyUpdates
 * ```
 *
 * so the fused step gives bitwise what `update` then `applyUpdates` give, and no update
 * tensor is made. Large leaves with the 'wasm' kernel set run the WebAssembly kernel of the
 * same name (`stepInto`, generated in `@purenn/tensor`'s `wasm/update.ts`, operation for
 * operation these loops) on their first elements; the loop does the rest, or all of it on
 * the worker pool when large. Each loop's arguments are the kernel's: `g`, `w`, the old
 * state, the new state, `wOut`, then the scalars.
 */

import { type Tensor, type Tree, tree } from '@purenn/tensor'
import {
  alloc,
  allocOwned,
  buf,
  type ElementwiseKernel,
  elementwiseKernel,
  runElementwise,
  type StepKernel,
  stepInto,
} from '@purenn/tensor/internal'
import type { ScaleByAdagradState, ScaleByAdamState, ScaleByNadamState } from '../adam.js'
import type { ScaleByAdamaxState, ScaleByNesterovAdamState } from '../adamax.js'
import type { TraceMomentumState } from '../momentum.js'
import type { ScaleByRmsState } from '../rms.js'
import type { LearningRate } from '../schedules.js'
import { aligned, wrap } from './leaves.js'
import {
  type AdagradSettings,
  type AdamaxSettings,
  type AdamSettings,
  adamaxScalars,
  adamScalars,
  type MomentumSettings,
  type NadamSettings,
  type NesterovAdamSettings,
  nadamScalars,
  nesterovAdamScalars,
  type RmsSettings,
} from './settings.js'

type F = Float32Array

/** SGD: `u = f32(g·s)`. */
const sgd = elementwiseKernel(
  'step:sgd',
  ([g, w, wOut, s, f]: readonly [F, F, F, number, number], i0, i1) => {
    for (let i = i0; i < i1; i++) {
      const u = Math.fround(Math.fround(g[i]! * s) * f)
      wOut[i] = u === 0 ? w[i]! : w[i]! + u
    }
  },
)

/** SGD with momentum: the trace of `f32(g·s)` is the update. */
const sgdMomentum = elementwiseKernel(
  'step:sgdMomentum',
  ([g, w, tr, trOut, wOut, s, mom, f]: readonly [F, F, F, F, F, number, number, number], i0, i1) => {
    for (let i = i0; i < i1; i++) {
      const u = Math.fround(g[i]! * s)
      const t = Math.fround((trOut[i] = mom * tr[i]! + u))
      const d = Math.fround(t * f)
      wOut[i] = d === 0 ? w[i]! : w[i]! + d
    }
  },
)

/** SGD with Nesterov momentum: the update is `f32(mom·t + u)`. */
const sgdNesterov = elementwiseKernel(
  'step:sgdNesterov',
  ([g, w, tr, trOut, wOut, s, mom, f]: readonly [F, F, F, F, F, number, number, number], i0, i1) => {
    for (let i = i0; i < i1; i++) {
      const u = Math.fround(g[i]! * s)
      const t = Math.fround((trOut[i] = mom * tr[i]! + u))
      const d = Math.fround(Math.fround(mom * t + u) * f)
      wOut[i] = d === 0 ? w[i]! : w[i]! + d
    }
  },
)

/** RMSprop: `v = f32(rho·nu + k·g·g)`, `u = f32(g / √(v + eps))`, `k = 1 − rho`. */
const rms = elementwiseKernel(
  'step:rms',
  (
    [g, w, nu, nuOut, wOut, rho, k, eps, s, f]: readonly [
      F,
      F,
      F,
      F,
      F,
      number,
      number,
      number,
      number,
      number,
    ],
    i0,
    i1,
  ) => {
    for (let i = i0; i < i1; i++) {
      const gi = g[i]!
      const v = Math.fround((nuOut[i] = rho * nu[i]! + k * gi * gi))
      const u = Math.fround(gi / Math.sqrt(v + eps))
      const d = Math.fround(Math.fround(u * s) * f)
      wOut[i] = d === 0 ? w[i]! : w[i]! + d
    }
  },
)

/** RMSprop with momentum: the trace of `f32(u·s)` is the update. */
const rmsMomentum = elementwiseKernel(
  'step:rmsMomentum',
  (
    [g, w, nu, tr, nuOut, trOut, wOut, rho, k, eps, s, mom, f]: readonly [
      F,
      F,
      F,
      F,
      F,
      F,
      F,
      number,
      number,
      number,
      number,
      number,
      number,
    ],
    i0,
    i1,
  ) => {
    for (let i = i0; i < i1; i++) {
      const gi = g[i]!
      const v = Math.fround((nuOut[i] = rho * nu[i]! + k * gi * gi))
      const u = Math.fround(Math.fround(gi / Math.sqrt(v + eps)) * s)
      const t = Math.fround((trOut[i] = mom * tr[i]! + u))
      const d = Math.fround(t * f)
      wOut[i] = d === 0 ? w[i]! : w[i]! + d
    }
  },
)

/** Centered RMSprop: `m = f32(rho·mu + k·g)`, `u = f32(g / √((v − m·m) + eps))`. */
const rmsCentered = elementwiseKernel(
  'step:rmsCentered',
  (
    [g, w, nu, mu, nuOut, muOut, wOut, rho, k, eps, s, f]: readonly [
      F,
      F,
      F,
      F,
      F,
      F,
      F,
      number,
      number,
      number,
      number,
      number,
    ],
    i0,
    i1,
  ) => {
    for (let i = i0; i < i1; i++) {
      const gi = g[i]!
      const v = Math.fround((nuOut[i] = rho * nu[i]! + k * gi * gi))
      const m = Math.fround((muOut[i] = rho * mu[i]! + k * gi))
      const u = Math.fround(gi / Math.sqrt(v - m * m + eps))
      const d = Math.fround(Math.fround(u * s) * f)
      wOut[i] = d === 0 ? w[i]! : w[i]! + d
    }
  },
)

/** Centered RMSprop with momentum. */
const rmsCenteredMomentum = elementwiseKernel(
  'step:rmsCenteredMomentum',
  (
    [g, w, nu, mu, tr, nuOut, muOut, trOut, wOut, rho, k, eps, s, mom, f]: readonly [
      F,
      F,
      F,
      F,
      F,
      F,
      F,
      F,
      F,
      number,
      number,
      number,
      number,
      number,
      number,
    ],
    i0,
    i1,
  ) => {
    for (let i = i0; i < i1; i++) {
      const gi = g[i]!
      const v = Math.fround((nuOut[i] = rho * nu[i]! + k * gi * gi))
      const m = Math.fround((muOut[i] = rho * mu[i]! + k * gi))
      const u = Math.fround(Math.fround(gi / Math.sqrt(v - m * m + eps)) * s)
      const t = Math.fround((trOut[i] = mom * tr[i]! + u))
      const d = Math.fround(t * f)
      wOut[i] = d === 0 ? w[i]! : w[i]! + d
    }
  },
)

type AdamArgs = readonly [F, F, F, F, F, F, F, number, number, number, number, number, number, number]

/** Adam: `m`, `v` the moments, `u = f32((c·m) / (√(v + er) + eps))`. */
const adam = elementwiseKernel(
  'step:adam',
  (
    [g, w, mu, nu, muOut, nuOut, wOut, b1, b2, k1, k2, c, er, eps, s, f]: readonly [
      ...AdamArgs,
      number,
      number,
    ],
    i0,
    i1,
  ) => {
    for (let i = i0; i < i1; i++) {
      const gi = g[i]!
      const m = Math.fround((muOut[i] = b1 * mu[i]! + k1 * gi))
      const v = Math.fround((nuOut[i] = b2 * nu[i]! + k2 * gi * gi))
      const u = Math.fround((c * m) / (Math.sqrt(v + er) + eps))
      const d = Math.fround(Math.fround(u * s) * f)
      wOut[i] = d === 0 ? w[i]! : w[i]! + d
    }
  },
)

/** AdamW: Adam's `u`, then the decay `f32(u + wd·w)`. */
const adamDecayed = elementwiseKernel(
  'step:adamDecayed',
  (
    [g, w, mu, nu, muOut, nuOut, wOut, b1, b2, k1, k2, c, er, eps, wd, s, f]: readonly [
      ...AdamArgs,
      number,
      number,
      number,
    ],
    i0,
    i1,
  ) => {
    for (let i = i0; i < i1; i++) {
      const gi = g[i]!
      const wi = w[i]!
      const m = Math.fround((muOut[i] = b1 * mu[i]! + k1 * gi))
      const v = Math.fround((nuOut[i] = b2 * nu[i]! + k2 * gi * gi))
      const u = Math.fround(Math.fround((c * m) / (Math.sqrt(v + er) + eps)) + wd * wi)
      const d = Math.fround(Math.fround(u * s) * f)
      wOut[i] = d === 0 ? wi : wi + d
    }
  },
)

type AmsgradArgs = readonly [
  F,
  F,
  F,
  F,
  F,
  F,
  F,
  F,
  F,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
]

/** Adam with AMSGrad: `v` replaced by the running maximum `max(mx, v)`. */
const amsgrad = elementwiseKernel(
  'step:amsgrad',
  (
    [g, w, mu, nu, mx, muOut, nuOut, mxOut, wOut, b1, b2, k1, k2, c, er, eps, s, f]: readonly [
      ...AmsgradArgs,
      number,
      number,
    ],
    i0,
    i1,
  ) => {
    for (let i = i0; i < i1; i++) {
      const gi = g[i]!
      const m = Math.fround((muOut[i] = b1 * mu[i]! + k1 * gi))
      const v = Math.fround((nuOut[i] = b2 * nu[i]! + k2 * gi * gi))
      const vm = (mxOut[i] = Math.max(mx[i]!, v))
      const u = Math.fround((c * m) / (Math.sqrt(vm + er) + eps))
      const d = Math.fround(Math.fround(u * s) * f)
      wOut[i] = d === 0 ? w[i]! : w[i]! + d
    }
  },
)

/** AdamW with AMSGrad. */
const amsgradDecayed = elementwiseKernel(
  'step:amsgradDecayed',
  (
    [g, w, mu, nu, mx, muOut, nuOut, mxOut, wOut, b1, b2, k1, k2, c, er, eps, wd, s, f]: readonly [
      ...AmsgradArgs,
      number,
      number,
      number,
    ],
    i0,
    i1,
  ) => {
    for (let i = i0; i < i1; i++) {
      const gi = g[i]!
      const wi = w[i]!
      const m = Math.fround((muOut[i] = b1 * mu[i]! + k1 * gi))
      const v = Math.fround((nuOut[i] = b2 * nu[i]! + k2 * gi * gi))
      const vm = (mxOut[i] = Math.max(mx[i]!, v))
      const u = Math.fround(Math.fround((c * m) / (Math.sqrt(vm + er) + eps)) + wd * wi)
      const d = Math.fround(Math.fround(u * s) * f)
      wOut[i] = d === 0 ? wi : wi + d
    }
  },
)

/** Keras' Nadam: Adam's moments, `u = f32((cm·m + cg·g) / (√(v·cv) + eps))`. */
const nadam = elementwiseKernel(
  'step:nadam',
  (
    [g, w, mu, nu, muOut, nuOut, wOut, b1, b2, k1, k2, cm, cg, cv, eps, s, f]: readonly [
      ...AdamArgs,
      number,
      number,
      number,
    ],
    i0,
    i1,
  ) => {
    for (let i = i0; i < i1; i++) {
      const gi = g[i]!
      const m = Math.fround((muOut[i] = b1 * mu[i]! + k1 * gi))
      const v = Math.fround((nuOut[i] = b2 * nu[i]! + k2 * gi * gi))
      const u = Math.fround((cm * m + cg * gi) / (Math.sqrt(v * cv) + eps))
      const d = Math.fround(Math.fround(u * s) * f)
      wOut[i] = d === 0 ? w[i]! : w[i]! + d
    }
  },
)

/** Optax's Nadam: as Keras' with `er` under the root, `u = f32((cm·m + cg·g) / (√(v·cv + er) + eps))`. */
const nesterovAdam = elementwiseKernel(
  'step:nesterovAdam',
  (
    [g, w, mu, nu, muOut, nuOut, wOut, b1, b2, k1, k2, cm, cg, cv, er, eps, s, f]: readonly [
      ...AdamArgs,
      number,
      number,
      number,
      number,
    ],
    i0,
    i1,
  ) => {
    for (let i = i0; i < i1; i++) {
      const gi = g[i]!
      const m = Math.fround((muOut[i] = b1 * mu[i]! + k1 * gi))
      const v = Math.fround((nuOut[i] = b2 * nu[i]! + k2 * gi * gi))
      const u = Math.fround((cm * m + cg * gi) / (Math.sqrt(v * cv + er) + eps))
      const d = Math.fround(Math.fround(u * s) * f)
      wOut[i] = d === 0 ? w[i]! : w[i]! + d
    }
  },
)

/** Adamax: `m` as Adam's, `n = f32(max(b2·nu, |g|))`, `u = f32((c·m) / (n + eps))`. */
const adamax = elementwiseKernel(
  'step:adamax',
  (
    [g, w, mu, nu, muOut, nuOut, wOut, b1, b2, k1, c, eps, s, f]: readonly [
      F,
      F,
      F,
      F,
      F,
      F,
      F,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ],
    i0,
    i1,
  ) => {
    for (let i = i0; i < i1; i++) {
      const gi = g[i]!
      const m = Math.fround((muOut[i] = b1 * mu[i]! + k1 * gi))
      const n = Math.fround((nuOut[i] = Math.max(b2 * nu[i]!, Math.abs(gi))))
      const u = Math.fround((c * m) / (n + eps))
      const d = Math.fround(Math.fround(u * s) * f)
      wOut[i] = d === 0 ? w[i]! : w[i]! + d
    }
  },
)

/** AdaGrad: `a = f32(acc + g·g)`, `u = f32(g / √(a + eps))`. */
const adagrad = elementwiseKernel(
  'step:adagrad',
  ([g, w, acc, accOut, wOut, eps, s, f]: readonly [F, F, F, F, F, number, number, number], i0, i1) => {
    for (let i = i0; i < i1; i++) {
      const gi = g[i]!
      const a = Math.fround((accOut[i] = acc[i]! + gi * gi))
      const u = Math.fround(gi / Math.sqrt(a + eps))
      const d = Math.fround(Math.fround(u * s) * f)
      wOut[i] = d === 0 ? w[i]! : w[i]! + d
    }
  },
)

type Arg = Float32Array | number
/** The plain loop of each fused step, by the name of its WebAssembly kernel. */
const loops: { readonly [K in StepKernel]: ElementwiseKernel<readonly Arg[]> } = {
  sgd,
  sgdMomentum,
  sgdNesterov,
  rms,
  rmsMomentum,
  rmsCentered,
  rmsCenteredMomentum,
  adam,
  adamDecayed,
  amsgrad,
  amsgradDecayed,
  nadam,
  nesterovAdam,
  adamax,
  adagrad,
} as unknown as { readonly [K in StepKernel]: ElementwiseKernel<readonly Arg[]> }

/**
 * Runs the fused step `kernel` over every leaf: the gradients `grads`, the params `params`
 * and the state trees `states` (each with the leaves of the gradients), with the scalars
 * `consts` (in the kernel's order). Everything is checked before anything is allocated.
 * With `owned`, the new params and state are buffers whose lifetime the caller manages
 * (`allocOwned`: `fit` frees them once two later steps have replaced them).
 * @returns the new params (in the structure of `params`) and the new state trees (in the
 * structure of the gradients, as the transformations return them), in the order of `states`.
 * @throws ShapeError naming `op` and the first leaf that does not match.
 */
export const stepLeaves = (
  op: string,
  kernel: StepKernel,
  grads: Tree,
  params: Tree,
  states: readonly (readonly [name: string, t: Tree])[],
  consts: readonly number[],
  owned = false,
): { readonly params: Tree; readonly states: Tree[] } => {
  const gs = tree.leaves(grads)
  const ws = aligned(op, grads, params, 'params')
  const olds = states.map(([name, t]) => aligned(op, grads, t, `state.${name}`))
  const loop = loops[kernel]
  const newWs: Tensor[] = []
  const news: Tensor[][] = states.map(() => [])
  gs.forEach((g, k) => {
    const n = g.size
    const ins = [buf(g), buf(ws[k]!), ...olds.map((o) => buf(o[k]!))]
    const make = owned ? allocOwned : alloc
    const outs = [...states.map(() => make(n)), make(n)]
    const done = stepInto(kernel, ins, outs, consts)
    const args = [...ins, ...outs, ...consts]
    if (done === 0) runElementwise(loop, args, n)
    else loop.loop(args, done, n)
    outs.forEach((o, j) => {
      if (j < states.length) news[j]!.push(wrap(o, g.shape))
      else newWs.push(wrap(o, g.shape))
    })
  })
  return {
    params: tree.unflatten(params, newWs),
    states: news.map((leaves) => tree.unflatten(grads, leaves)),
  }
}

// --- the fused step of each optimizer family, from its settings and the old state ---------

/**
 * How a fused step runs: `f`, fit's learning-rate factor (`fround(learningRateFactor)`), and
 * `owned`, whether the new params and state go to buffers whose lifetime the caller manages
 * ({@link StepOptions}' `ownedBuffers`).
 */
export interface StepRun {
  readonly f: number
  readonly owned: boolean
}

/**
 * Adam's (AMSGrad's) fused step, with the decoupled decay `wd` of AdamW when given: the new
 * params and the new `scaleByAdam` state. `s` is the learning-rate step's factor (−lr),
 * `f` fit's factor.
 */
export const adamStep = (
  settings: AdamSettings,
  grads: Tree,
  state: ScaleByAdamState,
  params: Tree,
  s: number,
  run: StepRun,
  wd?: number,
): { readonly params: Tree; readonly state: ScaleByAdamState } => {
  const { b1, b2, eps, amsgrad } = settings
  const { t, c, er } = adamScalars(settings, state.count)
  const decay = wd === undefined ? [] : [wd]
  const r = stepLeaves(
    'scaleByAdam',
    amsgrad ? (wd === undefined ? 'amsgrad' : 'amsgradDecayed') : wd === undefined ? 'adam' : 'adamDecayed',
    grads,
    params,
    amsgrad
      ? [
          ['mu', state.mu],
          ['nu', state.nu],
          ['nuMax', state.nuMax ?? {}],
        ]
      : [
          ['mu', state.mu],
          ['nu', state.nu],
        ],
    [b1, b2, 1 - b1, 1 - b2, c, er, eps, ...decay, s, run.f],
    run.owned,
  )
  const [mu, nu, nuMax] = r.states as [Tree, Tree, Tree?]
  return { params: r.params, state: nuMax === undefined ? { count: t, mu, nu } : { count: t, mu, nu, nuMax } }
}

/** Keras' Nadam's fused step: the new params and the new `scaleByNadam` state. */
export const nadamStep = (
  settings: NadamSettings,
  grads: Tree,
  state: ScaleByNadamState,
  params: Tree,
  s: number,
  run: StepRun,
): { readonly params: Tree; readonly state: ScaleByNadamState } => {
  const { b1, b2, eps } = settings
  const { t, prod, cm, cg, cv } = nadamScalars(settings, state.count, state.muProduct)
  const r = stepLeaves(
    'scaleByNadam',
    'nadam',
    grads,
    params,
    [
      ['mu', state.mu],
      ['nu', state.nu],
    ],
    [b1, b2, 1 - b1, 1 - b2, cm, cg, cv, eps, s, run.f],
    run.owned,
  )
  const [mu, nu] = r.states as [Tree, Tree]
  return { params: r.params, state: { count: t, muProduct: prod, mu, nu } }
}

/** Optax's Nadam's fused step: the new params and the new `scaleByNesterovAdam` state. */
export const nesterovAdamStep = (
  settings: NesterovAdamSettings,
  grads: Tree,
  state: ScaleByNesterovAdamState,
  params: Tree,
  s: number,
  run: StepRun,
): { readonly params: Tree; readonly state: ScaleByNesterovAdamState } => {
  const { b1, b2, eps, epsRoot } = settings
  const { t, cm, cg, cv } = nesterovAdamScalars(settings, state.count)
  const r = stepLeaves(
    'scaleByNesterovAdam',
    'nesterovAdam',
    grads,
    params,
    [
      ['mu', state.mu],
      ['nu', state.nu],
    ],
    [b1, b2, 1 - b1, 1 - b2, cm, cg, cv, epsRoot, eps, s, run.f],
    run.owned,
  )
  const [mu, nu] = r.states as [Tree, Tree]
  return { params: r.params, state: { count: t, mu, nu } }
}

/** Adamax's fused step: the new params and the new `scaleByAdamax` state. */
export const adamaxStep = (
  settings: AdamaxSettings,
  grads: Tree,
  state: ScaleByAdamaxState,
  params: Tree,
  s: number,
  run: StepRun,
): { readonly params: Tree; readonly state: ScaleByAdamaxState } => {
  const { b1, b2, eps } = settings
  const { t, c } = adamaxScalars(settings, state.count)
  const r = stepLeaves(
    'scaleByAdamax',
    'adamax',
    grads,
    params,
    [
      ['mu', state.mu],
      ['nu', state.nu],
    ],
    [b1, b2, 1 - b1, c, eps, s, run.f],
    run.owned,
  )
  const [mu, nu] = r.states as [Tree, Tree]
  return { params: r.params, state: { count: t, mu, nu } }
}

/** AdaGrad's fused step: the new params and the new `scaleByAdagrad` state. */
export const adagradStep = (
  settings: AdagradSettings,
  grads: Tree,
  state: ScaleByAdagradState,
  params: Tree,
  s: number,
  run: StepRun,
): { readonly params: Tree; readonly state: ScaleByAdagradState } => {
  const r = stepLeaves(
    'scaleByAdagrad',
    'adagrad',
    grads,
    params,
    [['sumOfSquares', state.sumOfSquares]],
    [settings.eps, s, run.f],
    run.owned,
  )
  return { params: r.params, state: { sumOfSquares: r.states[0]! } }
}

/**
 * RMSprop's fused step, with the momentum `mom` on the trace `trace` when given: the new
 * params, the new `scaleByRms` state and the new trace.
 */
export const rmsStep = (
  settings: RmsSettings,
  grads: Tree,
  state: ScaleByRmsState,
  params: Tree,
  s: number,
  run: StepRun,
  momentum?: { readonly mom: number; readonly trace: TraceMomentumState },
): { readonly params: Tree; readonly state: ScaleByRmsState; readonly trace?: TraceMomentumState } => {
  const { rho, eps, centered } = settings
  const kernel: StepKernel = centered
    ? momentum === undefined
      ? 'rmsCentered'
      : 'rmsCenteredMomentum'
    : momentum === undefined
      ? 'rms'
      : 'rmsMomentum'
  const states: [string, Tree][] = [['nu', state.nu]]
  if (centered) states.push(['mu', state.mu ?? {}])
  if (momentum !== undefined) states.push(['trace', momentum.trace.trace])
  const r = stepLeaves(
    'scaleByRms',
    kernel,
    grads,
    params,
    states,
    [rho, 1 - rho, eps, s, ...(momentum === undefined ? [] : [momentum.mom]), run.f],
    run.owned,
  )
  const nu = r.states[0]!
  const mu = centered ? r.states[1] : undefined
  const trace = momentum === undefined ? undefined : { trace: r.states.at(-1)! }
  return {
    params: r.params,
    state: mu === undefined ? { nu } : { nu, mu },
    ...(trace === undefined ? {} : { trace }),
  }
}

/**
 * SGD's fused step, with momentum (`trace`, `settings`) when given: the new params and the
 * new trace.
 */
export const sgdStep = (
  grads: Tree,
  params: Tree,
  s: number,
  run: StepRun,
  momentum?: { readonly settings: MomentumSettings; readonly trace: TraceMomentumState },
): { readonly params: Tree; readonly trace?: TraceMomentumState } => {
  if (momentum === undefined)
    return { params: stepLeaves('sgd', 'sgd', grads, params, [], [s, run.f], run.owned).params }
  const { mu, nesterov } = momentum.settings
  const r = stepLeaves(
    'traceMomentum',
    nesterov ? 'sgdNesterov' : 'sgdMomentum',
    grads,
    params,
    [['trace', momentum.trace.trace]],
    [s, mu, run.f],
    run.owned,
  )
  return { params: r.params, trace: { trace: r.states[0]! } }
}

/** The learning-rate step's factor at `count` updates: `−lr` (what `scaleByLearningRate` multiplies by). */
export const descent = (rate: LearningRate, count: number): number =>
  -1 * (typeof rate === 'number' ? rate : rate(count))
