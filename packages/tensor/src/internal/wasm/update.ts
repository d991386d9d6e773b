/**
 * Optimizer updates as one pass, generated with the assembler of `asm.ts`. `adam` does
 * Adam's per-element step over four elements at a time in `f64x2` arithmetic, operation
 * for operation what the plain TypeScript loop of `@purenn/optim`'s `scaleByAdam` does in
 * JavaScript numbers (float64), with the same roundings to float32 where the loop stores or
 * `Math.fround`s; so both give bitwise the same results:
 *
 * ```text
 * m = f32(b1·mu + (1 − b1)·g)          muOut = m
 * v = f32(b2·nu + ((1 − b2)·g)·g)      nuOut = v
 * out = f32((c·m) / (√v + eps))
 * ```
 *
 * `scale` and `addUpdate` are the two other passes of a step (the learning rate's scaling
 * and `applyUpdates`), bitwise what their loops give too: `x·c` with c a float64 is
 * promote, multiply, demote in `f64x2` (as JavaScript multiplies in float64 and rounds on
 * the store), and `w + u` is one `f32x4.add` (a float32 sum rounded from float64 is the
 * correctly rounded float32 sum), with `w` kept bit for bit where `u` is ±0.
 */

import {
  add,
  type Code,
  type Func,
  f32,
  f32x4Add,
  f32x4DemoteZero,
  f32x4Eq,
  f32x4Max,
  f32x4Mul,
  f32x4Splat,
  f64,
  f64x2Abs,
  f64x2Add,
  f64x2Div,
  f64x2Max,
  f64x2Mul,
  f64x2PromoteLow,
  f64x2Splat,
  f64x2Sqrt,
  f64x2Sub,
  frame,
  i32,
  i32c,
  if_,
  ltS,
  mul,
  seq,
  shuffle32,
  v128,
  v128Bitselect,
  v128Load,
  v128Store,
  v128Zero,
  while_,
} from './asm.js'

/** The helpers of a four-elements-at-a-time `f64x2` pass over the frame's locals. */
const lanes = ({ g, s }: Pick<ReturnType<typeof frame>, 'g' | 's'>) => {
  /** Lanes 0-1 (half 0) or 2-3 (half 1) of an f32x4 local, as f64x2. */
  const half = (n: string, h: number): Code =>
    f64x2PromoteLow(h === 0 ? g(n) : shuffle32(g(n), g(n), [2, 3, 2, 3]))
  /** An f32x4 from two f64x2 computed by `fn` for each half, rounded to f32. */
  const both = (fn: (h: number) => Code): Code =>
    shuffle32(f32x4DemoteZero(fn(0)), f32x4DemoteZero(fn(1)), [0, 1, 4, 5])
  const at = (p: string): Code => add(g(p), g('i'))
  /** `while (i < end) { body; i += 16 }` */
  const loop4 = (...body: Code[]): Code =>
    while_(ltS(g('i'), g('end')), ...body, s('i', add(g('i'), i32c(16))))
  return { g, s, half, both, at, loop4 }
}

/**
 * The first moment of Adam, Nadam and Adamax, operation for operation the plain loops: loads
 * `g`, `mu`, `nu` at `i` into `G`, `MU`, `NU` and stores `M = f32(b1·mu + k1·g)` to `muOut`
 * (the splatted constants in `B1`, `K1`).
 */
const firstMoment = ({ g, s, half, both, at }: ReturnType<typeof lanes>): Code[] => [
  s('G', v128Load(at('g'))),
  s('MU', v128Load(at('mu'))),
  s('NU', v128Load(at('nu'))),
  s(
    'M',
    both((h) => f64x2Add(f64x2Mul(g('B1'), half('MU', h)), f64x2Mul(g('K1'), half('G', h)))),
  ),
  v128Store(at('muOut'), g('M')),
]

/**
 * Adam's and Nadam's moment step: {@link firstMoment}, then `V = f32(b2·nu + (k2·g)·g)` stored
 * to `nuOut` (the splatted constants in `B2`, `K2`).
 */
const adamMoments = (l: ReturnType<typeof lanes>): Code[] => {
  const { g, s, half, both, at } = l
  return [
    ...firstMoment(l),
    s(
      'V',
      both((h) =>
        f64x2Add(f64x2Mul(g('B2'), half('NU', h)), f64x2Mul(f64x2Mul(g('K2'), half('G', h)), half('G', h))),
      ),
    ),
    v128Store(at('nuOut'), g('V')),
  ]
}

/** `adam(g, mu, nu, muOut, nuOut, out, n4, b1, b2, k1, k2, c, eps)`: elements [0, n4), n4 a multiple of 4. */
export const adam = () => {
  const f = frame(
    [
      ['g', i32],
      ['mu', i32],
      ['nu', i32],
      ['muOut', i32],
      ['nuOut', i32],
      ['out', i32],
      ['n4', i32],
      ['b1', f64],
      ['b2', f64],
      ['k1', f64],
      ['k2', f64],
      ['c', f64],
      ['eps', f64],
    ],
    [
      ['i', i32],
      ['end', i32],
      ['G', v128],
      ['MU', v128],
      ['NU', v128],
      ['M', v128],
      ['V', v128],
      ['B1', v128],
      ['B2', v128],
      ['K1', v128],
      ['K2', v128],
      ['C', v128],
      ['E', v128],
    ],
  )
  const l = lanes(f)
  const { g, s, half, both, at, loop4 } = l
  const body = seq(
    ...(['b1', 'b2', 'k1', 'k2', 'c', 'eps'] as const).map((p) =>
      s(p === 'eps' ? 'E' : p.toUpperCase(), f64x2Splat(g(p))),
    ),
    s('end', mul(g('n4'), i32c(4))),
    loop4(
      ...adamMoments(l),
      v128Store(
        at('out'),
        both((h) => f64x2Div(f64x2Mul(g('C'), half('M', h)), f64x2Add(f64x2Sqrt(half('V', h)), g('E')))),
      ),
    ),
  )
  return { name: 'adam', params: f.params, locals: f.locals, body }
}

/** `scale(x, out, n4, c)`: out = f32(x·c) on elements [0, n4), n4 a multiple of 4. */
export const scale = () => {
  const f = frame(
    [
      ['x', i32],
      ['out', i32],
      ['n4', i32],
      ['c', f64],
    ],
    [
      ['i', i32],
      ['end', i32],
      ['X', v128],
      ['C', v128],
    ],
  )
  const { g, s } = f
  const half = (h: number): Code =>
    f64x2PromoteLow(h === 0 ? g('X') : shuffle32(g('X'), g('X'), [2, 3, 2, 3]))
  const body = seq(
    s('C', f64x2Splat(g('c'))),
    s('end', mul(g('n4'), i32c(4))),
    while_(
      ltS(g('i'), g('end')),
      s('X', v128Load(add(g('x'), g('i')))),
      v128Store(
        add(g('out'), g('i')),
        shuffle32(
          f32x4DemoteZero(f64x2Mul(half(0), g('C'))),
          f32x4DemoteZero(f64x2Mul(half(1), g('C'))),
          [0, 1, 4, 5],
        ),
      ),
      s('i', add(g('i'), i32c(16))),
    ),
  )
  return { name: 'scale', params: f.params, locals: f.locals, body }
}

/** `addUpdate(w, u, out, n4)`: out = u = ±0 ? w : f32(w + u) on elements [0, n4). */
export const addUpdate = () => {
  const f = frame(
    [
      ['w', i32],
      ['u', i32],
      ['out', i32],
      ['n4', i32],
    ],
    [
      ['i', i32],
      ['end', i32],
      ['W', v128],
      ['U', v128],
    ],
  )
  const { g, s } = f
  const body = seq(
    s('end', mul(g('n4'), i32c(4))),
    while_(
      ltS(g('i'), g('end')),
      s('W', v128Load(add(g('w'), g('i')))),
      s('U', v128Load(add(g('u'), g('i')))),
      v128Store(
        add(g('out'), g('i')),
        v128Bitselect(g('W'), f32x4Add(g('W'), g('U')), f32x4Eq(g('U'), v128Zero())),
      ),
      s('i', add(g('i'), i32c(16))),
    ),
  )
  return { name: 'addUpdate', params: f.params, locals: f.locals, body }
}

/**
 * `momentum(v, u, tr, out, n4, mu, nesterov)`: on elements [0, n4), `tr = f32(mu·v + u)` and,
 * when `nesterov` is 1, `out = f32(mu·tr + u)` (tr as stored, float32), the plain loops of
 * `@purenn/optim`'s `traceMomentum` operation for operation in `f64x2`.
 */
export const momentum = () => {
  const f = frame(
    [
      ['v', i32],
      ['u', i32],
      ['tr', i32],
      ['out', i32],
      ['n4', i32],
      ['mu', f64],
      ['nesterov', i32],
    ],
    [
      ['i', i32],
      ['end', i32],
      ['V', v128],
      ['U', v128],
      ['T', v128],
      ['MU', v128],
    ],
  )
  const { g, s, half, both, at, loop4 } = lanes(f)
  const trace = (): Code => both((h) => f64x2Add(f64x2Mul(g('MU'), half('V', h)), half('U', h)))
  const step = (...store: Code[]): Code =>
    loop4(s('V', v128Load(at('v'))), s('U', v128Load(at('u'))), ...store)
  const body = seq(
    s('MU', f64x2Splat(g('mu'))),
    s('end', mul(g('n4'), i32c(4))),
    if_(
      g('nesterov'),
      step(
        s('T', trace()),
        v128Store(at('tr'), g('T')),
        v128Store(
          at('out'),
          both((h) => f64x2Add(f64x2Mul(g('MU'), half('T', h)), half('U', h))),
        ),
      ),
    ),
    step(v128Store(at('tr'), trace())),
  )
  return { name: 'momentum', params: f.params, locals: f.locals, body }
}

/**
 * `rms(g, nu, mu, nuOut, muOut, out, n4, rho, k, eps, centered)`, `k = 1 − rho`: on elements
 * [0, n4), the plain loops of `@purenn/optim`'s `scaleByRms` operation for operation,
 * `v = f32(rho·nu + (k·g)·g)`, and `out = f32(g / √(v + eps))`, or when `centered` is 1
 * `m = f32(rho·mu + k·g)` and `out = f32(g / √((v − m·m) + eps))`.
 */
export const rms = () => {
  const f = frame(
    [
      ['g', i32],
      ['nu', i32],
      ['mu', i32],
      ['nuOut', i32],
      ['muOut', i32],
      ['out', i32],
      ['n4', i32],
      ['rho', f64],
      ['k', f64],
      ['eps', f64],
      ['centered', i32],
    ],
    [
      ['i', i32],
      ['end', i32],
      ['G', v128],
      ['NU', v128],
      ['MU', v128],
      ['V', v128],
      ['M', v128],
      ['R', v128],
      ['K', v128],
      ['E', v128],
    ],
  )
  const { g, s, half, both, at, loop4 } = lanes(f)
  const loadV = (): Code[] => [
    s('G', v128Load(at('g'))),
    s('NU', v128Load(at('nu'))),
    s(
      'V',
      both((h) =>
        f64x2Add(f64x2Mul(g('R'), half('NU', h)), f64x2Mul(f64x2Mul(g('K'), half('G', h)), half('G', h))),
      ),
    ),
    v128Store(at('nuOut'), g('V')),
  ]
  const body = seq(
    s('R', f64x2Splat(g('rho'))),
    s('K', f64x2Splat(g('k'))),
    s('E', f64x2Splat(g('eps'))),
    s('end', mul(g('n4'), i32c(4))),
    if_(
      g('centered'),
      loop4(
        ...loadV(),
        s('MU', v128Load(at('mu'))),
        s(
          'M',
          both((h) => f64x2Add(f64x2Mul(g('R'), half('MU', h)), f64x2Mul(g('K'), half('G', h)))),
        ),
        v128Store(at('muOut'), g('M')),
        v128Store(
          at('out'),
          both((h) =>
            f64x2Div(
              half('G', h),
              f64x2Sqrt(f64x2Add(f64x2Sub(half('V', h), f64x2Mul(half('M', h), half('M', h))), g('E'))),
            ),
          ),
        ),
      ),
    ),
    loop4(
      ...loadV(),
      v128Store(
        at('out'),
        both((h) => f64x2Div(half('G', h), f64x2Sqrt(f64x2Add(half('V', h), g('E'))))),
      ),
    ),
  )
  return { name: 'rms', params: f.params, locals: f.locals, body }
}

/**
 * `nadam(g, mu, nu, muOut, nuOut, out, n4, b1, b2, k1, k2, cm, cg, cv, eps)`, `k1 = 1 − b1`,
 * `k2 = 1 − b2`: on elements [0, n4), the plain loop of `@purenn/optim`'s `scaleByNadam`
 * operation for operation: Adam's `m` and `v`, then
 * `out = f32((cm·m + cg·g) / (√(v·cv) + eps))`.
 */
export const nadam = () => {
  const f = frame(
    [
      ['g', i32],
      ['mu', i32],
      ['nu', i32],
      ['muOut', i32],
      ['nuOut', i32],
      ['out', i32],
      ['n4', i32],
      ['b1', f64],
      ['b2', f64],
      ['k1', f64],
      ['k2', f64],
      ['cm', f64],
      ['cg', f64],
      ['cv', f64],
      ['eps', f64],
    ],
    [
      ['i', i32],
      ['end', i32],
      ['G', v128],
      ['MU', v128],
      ['NU', v128],
      ['M', v128],
      ['V', v128],
      ['B1', v128],
      ['B2', v128],
      ['K1', v128],
      ['K2', v128],
      ['CM', v128],
      ['CG', v128],
      ['CV', v128],
      ['E', v128],
    ],
  )
  const l = lanes(f)
  const { g, s, half, both, at, loop4 } = l
  const body = seq(
    ...(['b1', 'b2', 'k1', 'k2', 'cm', 'cg', 'cv'] as const).map((p) => s(p.toUpperCase(), f64x2Splat(g(p)))),
    s('E', f64x2Splat(g('eps'))),
    s('end', mul(g('n4'), i32c(4))),
    loop4(
      ...adamMoments(l),
      v128Store(
        at('out'),
        both((h) =>
          f64x2Div(
            f64x2Add(f64x2Mul(g('CM'), half('M', h)), f64x2Mul(g('CG'), half('G', h))),
            f64x2Add(f64x2Sqrt(f64x2Mul(half('V', h), g('CV'))), g('E')),
          ),
        ),
      ),
    ),
  )
  return { name: 'nadam', params: f.params, locals: f.locals, body }
}

// --- one pass per parameter: a whole optimizer step, from the gradient to the new weight ---

/**
 * The part of a fused step that is the optimizer's own scaling (Adam's, RMSprop's...): it
 * reads `g` and the state at `i`, stores the new state, and leaves the scaling's update,
 * rounded to f32 as its pass stores it, in the local `U`.
 */
interface StepCore {
  /** State pointers read (after `g` and `w`), in order. */
  readonly ins: readonly string[]
  /** State pointers written (before `wOut`), in order. */
  readonly outs: readonly string[]
  /** f64 parameters; each is splatted into the v128 local of its upper-case name. */
  readonly consts: readonly string[]
  /** Other v128 locals the core uses. */
  readonly vecs: readonly string[]
  readonly body: (l: ReturnType<typeof lanes>) => Code[]
}

/** SGD has no scaling: the update is the gradient. */
const identityCore: StepCore = {
  ins: [],
  outs: [],
  consts: [],
  vecs: [],
  body: ({ s, at }) => [s('U', v128Load(at('g')))],
}

/** `scaleByAdam` (with AMSGrad's running maximum `mx` when `amsgrad`), as the plain loop. */
const adamCore = (amsgrad: boolean): StepCore => ({
  ins: amsgrad ? ['mu', 'nu', 'mx'] : ['mu', 'nu'],
  outs: amsgrad ? ['muOut', 'nuOut', 'mxOut'] : ['muOut', 'nuOut'],
  consts: ['b1', 'b2', 'k1', 'k2', 'c', 'er', 'eps'],
  vecs: ['G', 'MU', 'NU', 'M', 'V'],
  body: (l) => {
    const { g, s, half, both, at } = l
    return [
      ...adamMoments(l),
      // AMSGrad: v = max(mx, v), both float32 (f32x4.max is Math.max: NaN wins, +0 over −0)
      ...(amsgrad ? [s('V', f32x4Max(v128Load(at('mx')), g('V'))), v128Store(at('mxOut'), g('V'))] : []),
      s(
        'U',
        both((h) =>
          f64x2Div(
            f64x2Mul(g('C'), half('M', h)),
            f64x2Add(f64x2Sqrt(f64x2Add(half('V', h), g('ER'))), g('EPS')),
          ),
        ),
      ),
    ]
  },
})

/** `scaleByNadam` (Keras), or with `er` under the root `scaleByNesterovAdam` (Optax), as the plain loops. */
const nadamCore = (optax: boolean): StepCore => ({
  ins: ['mu', 'nu'],
  outs: ['muOut', 'nuOut'],
  consts: ['b1', 'b2', 'k1', 'k2', 'cm', 'cg', 'cv', ...(optax ? ['er'] : []), 'eps'],
  vecs: ['G', 'MU', 'NU', 'M', 'V'],
  body: (l) => {
    const { g, s, half, both } = l
    const root = (h: number): Code =>
      optax ? f64x2Add(f64x2Mul(half('V', h), g('CV')), g('ER')) : f64x2Mul(half('V', h), g('CV'))
    return [
      ...adamMoments(l),
      s(
        'U',
        both((h) =>
          f64x2Div(
            f64x2Add(f64x2Mul(g('CM'), half('M', h)), f64x2Mul(g('CG'), half('G', h))),
            f64x2Add(f64x2Sqrt(root(h)), g('EPS')),
          ),
        ),
      ),
    ]
  },
})

/** `scaleByAdamax`: `m` as Adam's, `u = f32(max(b2·nu, |g|))`, `U = f32((c·m) / (u + eps))`. */
const adamaxCore: StepCore = {
  ins: ['mu', 'nu'],
  outs: ['muOut', 'nuOut'],
  consts: ['b1', 'b2', 'k1', 'c', 'eps'],
  vecs: ['G', 'MU', 'NU', 'M', 'V'],
  body: (l) => {
    const { g, s, half, both, at } = l
    return [
      ...firstMoment(l),
      s(
        'V',
        both((h) => f64x2Max(f64x2Mul(g('B2'), half('NU', h)), f64x2Abs(half('G', h)))),
      ),
      v128Store(at('nuOut'), g('V')),
      s(
        'U',
        both((h) => f64x2Div(f64x2Mul(g('C'), half('M', h)), f64x2Add(half('V', h), g('EPS')))),
      ),
    ]
  },
}

/** `scaleByRms` (centered: with the moving average `mu`), as the plain loops. */
const rmsCore = (centered: boolean): StepCore => ({
  ins: centered ? ['nu', 'mu'] : ['nu'],
  outs: centered ? ['nuOut', 'muOut'] : ['nuOut'],
  consts: ['rho', 'k', 'eps'],
  vecs: ['G', 'NU', 'MU', 'M', 'V'],
  body: ({ g, s, half, both, at }) => [
    s('G', v128Load(at('g'))),
    s('NU', v128Load(at('nu'))),
    s(
      'V',
      both((h) =>
        f64x2Add(f64x2Mul(g('RHO'), half('NU', h)), f64x2Mul(f64x2Mul(g('K'), half('G', h)), half('G', h))),
      ),
    ),
    v128Store(at('nuOut'), g('V')),
    ...(centered
      ? [
          s('MU', v128Load(at('mu'))),
          s(
            'M',
            both((h) => f64x2Add(f64x2Mul(g('RHO'), half('MU', h)), f64x2Mul(g('K'), half('G', h)))),
          ),
          v128Store(at('muOut'), g('M')),
          s(
            'U',
            both((h) =>
              f64x2Div(
                half('G', h),
                f64x2Sqrt(f64x2Add(f64x2Sub(half('V', h), f64x2Mul(half('M', h), half('M', h))), g('EPS'))),
              ),
            ),
          ),
        ]
      : [
          s(
            'U',
            both((h) => f64x2Div(half('G', h), f64x2Sqrt(f64x2Add(half('V', h), g('EPS'))))),
          ),
        ]),
  ],
})

/** `scaleByAdagrad`: `s = f32(acc + g·g)`, `U = f32(g / √(s + eps))`. */
const adagradCore: StepCore = {
  ins: ['acc'],
  outs: ['accOut'],
  consts: ['eps'],
  vecs: ['G', 'V'],
  body: ({ g, s, half, both, at }) => [
    s('G', v128Load(at('g'))),
    s('V', v128Load(at('acc'))),
    s(
      'V',
      both((h) => f64x2Add(half('V', h), f64x2Mul(half('G', h), half('G', h)))),
    ),
    v128Store(at('accOut'), g('V')),
    s(
      'U',
      both((h) => f64x2Div(half('G', h), f64x2Sqrt(f64x2Add(half('V', h), g('EPS'))))),
    ),
  ],
}

/** What follows the core in a fused step: decay, momentum (see {@link fusedStep}). */
interface StepTail {
  readonly decay?: boolean
  readonly momentum?: 'heavy' | 'nesterov'
}

/**
 * One optimizer step over elements [0, n4), from the gradient to the new weight, operation
 * for operation the passes of its chain (so bitwise what they give):
 *
 * ```text
 * U = core(g, state)            the scaling, its new state stored, U rounded to f32
 * U = f32(U + wd·w)             decay (addDecayedWeights), when `decay`
 * U = f32(U·s)                  scaleByLearningRate, s = −lr
 * T = f32(mom·tr + U)           traceMomentum, when `momentum`: trOut = T, and
 * U = T  or  f32(mom·T + U)     the update (heavy ball or Nesterov)
 * U = f32(U·f)                  fit's learning-rate factor, f a float32 (f = 1: exactly U)
 * wOut = U = ±0 ? w : f32(w + U)  applyUpdates
 * ```
 *
 * Signature: `(g, w, ...core.ins, tr?, ...core.outs, trOut?, wOut, n4, ...core.consts, wd?, s, mom?, f)`.
 */
const fusedStep = (name: string, core: StepCore, tail: StepTail = {}): Func => {
  const trace = tail.momentum !== undefined
  const pointers = [
    'g',
    'w',
    ...core.ins,
    ...(trace ? ['tr'] : []),
    ...core.outs,
    ...(trace ? ['trOut'] : []),
    'wOut',
  ]
  const consts = [...core.consts, ...(tail.decay ? ['wd'] : []), 's', ...(trace ? ['mom'] : []), 'f']
  const vecs = new Set(['W', 'U', 'T', ...core.vecs, ...consts.map((c) => c.toUpperCase())])
  const f = frame(
    [
      ...pointers.map((p) => [p, i32] as const),
      ['n4', i32] as const,
      // f is a float32 (fit's factor, rounded): f32(U·f) is one f32x4.mul, the correctly rounded product
      ...consts.map((c) => [c, c === 'f' ? f32 : f64] as const),
    ],
    [['i', i32] as const, ['end', i32] as const, ...[...vecs].map((v) => [v, v128] as const)],
  )
  const l = lanes(f)
  const { g, s, half, both, at, loop4 } = l
  const body = seq(
    ...consts.map((c) => s(c.toUpperCase(), c === 'f' ? f32x4Splat(g(c)) : f64x2Splat(g(c)))),
    s('end', mul(g('n4'), i32c(4))),
    loop4(
      ...core.body(l),
      // loaded here, not first: a value live across the core's stores would take a register all along
      s('W', v128Load(at('w'))),
      ...(tail.decay
        ? [
            s(
              'U',
              both((h) => f64x2Add(half('U', h), f64x2Mul(g('WD'), half('W', h)))),
            ),
          ]
        : []),
      s(
        'U',
        both((h) => f64x2Mul(half('U', h), g('S'))),
      ),
      ...(trace
        ? [
            s('T', v128Load(at('tr'))),
            s(
              'T',
              both((h) => f64x2Add(f64x2Mul(g('MOM'), half('T', h)), half('U', h))),
            ),
            v128Store(at('trOut'), g('T')),
            s(
              'U',
              tail.momentum === 'nesterov'
                ? both((h) => f64x2Add(f64x2Mul(g('MOM'), half('T', h)), half('U', h)))
                : g('T'),
            ),
          ]
        : []),
      s('U', f32x4Mul(g('U'), g('F'))),
      v128Store(at('wOut'), v128Bitselect(g('W'), f32x4Add(g('W'), g('U')), f32x4Eq(g('U'), v128Zero()))),
    ),
  )
  return { name, params: f.params, locals: f.locals, body }
}

/** The fused steps, by name (exported from the module as `step_` and the name). */
export const stepKernels = {
  sgd: () => fusedStep('step_sgd', identityCore),
  sgdMomentum: () => fusedStep('step_sgdMomentum', identityCore, { momentum: 'heavy' }),
  sgdNesterov: () => fusedStep('step_sgdNesterov', identityCore, { momentum: 'nesterov' }),
  rms: () => fusedStep('step_rms', rmsCore(false)),
  rmsMomentum: () => fusedStep('step_rmsMomentum', rmsCore(false), { momentum: 'heavy' }),
  rmsCentered: () => fusedStep('step_rmsCentered', rmsCore(true)),
  rmsCenteredMomentum: () => fusedStep('step_rmsCenteredMomentum', rmsCore(true), { momentum: 'heavy' }),
  adam: () => fusedStep('step_adam', adamCore(false)),
  adamDecayed: () => fusedStep('step_adamDecayed', adamCore(false), { decay: true }),
  amsgrad: () => fusedStep('step_amsgrad', adamCore(true)),
  amsgradDecayed: () => fusedStep('step_amsgradDecayed', adamCore(true), { decay: true }),
  nadam: () => fusedStep('step_nadam', nadamCore(false)),
  nesterovAdam: () => fusedStep('step_nesterovAdam', nadamCore(true)),
  adamax: () => fusedStep('step_adamax', adamaxCore),
  adagrad: () => fusedStep('step_adagrad', adagradCore),
} as const

/** The name of a fused step. */
export type StepKernel = keyof typeof stepKernels
