/**
 * Running the optimizer passes of `update.ts` on the process's kernel memory (`heap.ts`).
 * The passes of one training step feed each other: Adam reads the moments the last step
 * wrote, the learning-rate scaling reads Adam's output, `applyUpdates` reads the scaled
 * update and the weights the last step wrote. With a shared memory those are tensor buffers
 * on the kernels' heap, so each pass reads its operands and writes its results where they
 * are: parameters, moments, updates and gradients are all resident, nothing is copied.
 * Operands elsewhere (a plain buffer: small, huge, past the heap's budget, or no shared
 * memory) are copied into scratch, and results that are not heap buffers copied out.
 * One module, on the calling thread.
 */

import { kernelSet } from '../kernel-set.js'
import { module } from './asm.js'
import { HEAP_MAX_PAGES, kernelHeap, stage } from './heap.js'
import { adam, addUpdate, momentum, nadam, rms, scale } from './update.js'

interface Runtime {
  readonly fns: Record<string, (...args: number[]) => void>
}

let runtime: Runtime | null | undefined

const load = (): Runtime | null => {
  const h = kernelHeap()
  if (h === null) return null
  const bytes = module({ min: 1, max: HEAP_MAX_PAGES, shared: h.shared }, [
    adam(),
    scale(),
    addUpdate(),
    momentum(),
    rms(),
    nadam(),
  ])
  if (!h.W.validate(bytes)) return null
  try {
    const fns = new h.W.Instance(new h.W.Module(bytes), { env: { memory: h.memory } })
      .exports as Runtime['fns']
    return { fns }
  } catch {
    return null
  }
}

/**
 * One pass over elements [0, n4): `ins` read in place where they are on the heap, else
 * copied in; `outs` (undefined: not written) written in place where they are heap tensor
 * buffers, else into scratch copied out after `run`. `run` receives the byte offsets of ins
 * then outs. False, having done nothing, where the kernels are not available or `n4` is 0.
 */
const pass = (
  n4: number,
  ins: readonly ArrayLike<number>[],
  outs: readonly (Float32Array | undefined)[],
  run: (r: Runtime, at: readonly number[]) => void,
): boolean => {
  if (n4 === 0 || kernelSet() !== 'wasm') return false
  if (runtime === undefined) runtime = load()
  const r = runtime
  const st = r === null ? undefined : stage()
  if (r === null || st === undefined) return false
  const at = ins.map((x) => st.read(x, n4))
  for (const o of outs) at.push(o === undefined ? st.raw(4 * n4) : st.write(o, n4))
  if (st.ok) run(r, at)
  return st.finish()
}

type Floats = ArrayLike<number>

/** Adam's step on [0, n4) (see `update.ts`), bitwise the plain loop; returns n4 (0: not done). */
export const residentAdamInto = (
  g: Floats,
  mu: Floats,
  nu: Floats,
  muOut: Float32Array,
  nuOut: Float32Array,
  out: Float32Array,
  b1: number,
  b2: number,
  c: number,
  eps: number,
): number => {
  const n4 = g.length & ~3
  return pass(n4, [g, mu, nu], [muOut, nuOut, out], (r, [pg, pm, pn, po1, po2, po3]) =>
    r.fns.adam!(pg!, pm!, pn!, po1!, po2!, po3!, n4, b1, b2, 1 - b1, 1 - b2, c, eps),
  )
    ? n4
    : 0
}

/** `out = f32(x·c)` on [0, n4), bitwise the plain loop; returns n4 (0: not done). */
export const residentScaleInto = (x: Floats, c: number, out: Float32Array): number => {
  const n4 = x.length & ~3
  return pass(n4, [x], [out], (r, [px, po]) => r.fns.scale!(px!, po!, n4, c)) ? n4 : 0
}

/** `out = u = ±0 ? w : f32(w + u)` on [0, n4), bitwise the plain loop; returns n4 (0: not done). */
export const residentAddUpdateInto = (w: Floats, u: Floats, out: Float32Array): number => {
  const n4 = w.length & ~3
  return pass(n4, [w, u], [out], (r, [pw, pu, po]) => r.fns.addUpdate!(pw!, pu!, po!, n4)) ? n4 : 0
}

/** Momentum's trace and, with `out`, the Nesterov update on [0, n4); returns n4 (0: not done). */
export const residentMomentumInto = (
  v: Floats,
  u: Floats,
  tr: Float32Array,
  out: Float32Array | undefined,
  mu: number,
): number => {
  const n4 = v.length & ~3
  return pass(n4, [v, u], [tr, out], (r, [pv, pu, pt, po]) =>
    r.fns.momentum!(pv!, pu!, pt!, po!, n4, mu, out === undefined ? 0 : 1),
  )
    ? n4
    : 0
}

/** RMSprop's step on [0, n4) (`mu`, `muOut` given: centered); returns n4 (0: not done). */
export const residentRmsInto = (
  g: Floats,
  nu: Floats,
  mu: Floats | undefined,
  nuOut: Float32Array,
  muOut: Float32Array | undefined,
  out: Float32Array,
  rho: number,
  eps: number,
): number => {
  const n4 = g.length & ~3
  const centered = mu !== undefined && muOut !== undefined
  // not centered: `mu` is not read (its pointer is any) and `muOut` not written (room given all the same)
  return pass(n4, centered ? [g, nu, mu] : [g, nu], [nuOut, centered ? muOut : undefined, out], (r, at) => {
    const [pg, pn] = at as [number, number]
    const [pm, pNu, pMu, pOut] = (centered ? at.slice(2) : [pn, ...at.slice(2)]) as [
      number,
      number,
      number,
      number,
    ]
    r.fns.rms!(pg, pn, pm, pNu, pMu, pOut, n4, rho, 1 - rho, eps, centered ? 1 : 0)
  })
    ? n4
    : 0
}

/** Nadam's step on [0, n4) (see `update.ts`), bitwise the plain loop; returns n4 (0: not done). */
export const residentNadamInto = (
  g: Floats,
  mu: Floats,
  nu: Floats,
  muOut: Float32Array,
  nuOut: Float32Array,
  out: Float32Array,
  b1: number,
  b2: number,
  cm: number,
  cg: number,
  cv: number,
  eps: number,
): number => {
  const n4 = g.length & ~3
  return pass(n4, [g, mu, nu], [muOut, nuOut, out], (r, [pg, pm, pn, po1, po2, po3]) =>
    r.fns.nadam!(pg!, pm!, pn!, po1!, po2!, po3!, n4, b1, b2, 1 - b1, 1 - b2, cm, cg, cv, eps),
  )
    ? n4
    : 0
}
