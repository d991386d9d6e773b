import { type Tensor, tensor } from '@purenn/tensor'
import { checkGrads } from '@purenn/testing'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Activation,
  type ActivationName,
  activationFromConfig,
  activations,
  activationToConfig,
  getActivation,
} from '../src/activations.js'

// ---------------------------------------------------------------------------------------
// Independent float64 references (plain Math, no tensor code)

/** erf by its Maclaurin series, in float64: accurate to ~1e-9 absolute for |x| ≤ 4. */
const erf64 = (x: number): number => {
  let term = x
  let s = x
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n
    const t = term / (2 * n + 1)
    s += t
    if (Math.abs(t) < 1e-17) break
  }
  return (2 / Math.sqrt(Math.PI)) * s
}

const SELU_ALPHA = 1.6732632423543772
const SELU_SCALE = 1.0507009873554805
const sigmoid64 = (v: number): number => 1 / (1 + Math.exp(-v))

/** Elementwise references; `softmax` is handled separately (it runs over rows). */
const elementwise: { readonly [N in Exclude<ActivationName, 'softmax'>]: (v: number) => number } = {
  linear: (v) => v,
  relu: (v) => Math.max(0, v),
  leakyRelu: (v) => (v > 0 ? v : 0.2 * v),
  elu: (v) => (v > 0 ? v : Math.exp(v) - 1),
  selu: (v) => (v > 0 ? SELU_SCALE * v : SELU_SCALE * SELU_ALPHA * (Math.exp(v) - 1)),
  gelu: (v) => 0.5 * v * (1 + erf64(v / Math.SQRT2)),
  swish: (v) => v * sigmoid64(v),
  sigmoid: sigmoid64,
  tanh: (v) => (Math.exp(v) - Math.exp(-v)) / (Math.exp(v) + Math.exp(-v)),
  softplus: (v) => Math.log(1 + Math.exp(v)),
  mish: (v) => v * Math.tanh(Math.log(1 + Math.exp(v))),
  relu6: (v) => Math.min(Math.max(v, 0), 6),
  hardSigmoid: (v) => Math.min(Math.max(v / 6 + 0.5, 0), 1),
  hardSwish: (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6,
}

/** The reference of a whole activation on a `[rows, cols]` matrix given as rows. */
const reference =
  (name: ActivationName, alpha?: number) =>
  (rows: readonly (readonly number[])[]): number[][] => {
    if (name === 'softmax')
      return rows.map((r) => {
        const e = r.map((v) => Math.exp(v))
        const z = e.reduce((a, b) => a + b, 0)
        return e.map((v) => v / z)
      })
    const f =
      name === 'leakyRelu' && alpha !== undefined
        ? (v: number) => (v > 0 ? v : alpha * v)
        : name === 'elu' && alpha !== undefined
          ? (v: number) => (v > 0 ? v : alpha * (Math.exp(v) - 1))
          : elementwise[name]
    return rows.map((r) => r.map(f))
  }

const allNames: readonly ActivationName[] = [
  'linear',
  'relu',
  'leakyRelu',
  'elu',
  'selu',
  'gelu',
  'swish',
  'sigmoid',
  'tanh',
  'softmax',
  'softplus',
  'mish',
  'relu6',
  'hardSigmoid',
  'hardSwish',
]

/** Points where the activation (or its derivative) has a kink: finite differences skip them. */
const kinked: ReadonlySet<ActivationName> = new Set([
  'relu',
  'leakyRelu',
  'elu',
  'selu',
  'relu6',
  'hardSigmoid',
  'hardSwish',
])

const rowsOf = (t: Tensor): number[][] => t.toArray() as number[][]

// ---------------------------------------------------------------------------------------

describe('activation values', () => {
  const xs = [-6, -3, -1, -0.5, -1e-3, 0, 1e-3, 0.5, 1, 3, 6]

  it.each(allNames)('%s matches its float64 formula at chosen points', (name) => {
    const a = getActivation(name)
    const rows = [xs, xs.map((v) => v / 2)]
    const got = rowsOf(a.fn(tensor(rows)))
    const want = reference(name)(rows)
    got.forEach((r, i) => {
      r.forEach((v, j) => {
        const w = want[i]![j]!
        expect(Math.abs(v - w)).toBeLessThanOrEqual(2e-7 * Math.max(1, Math.abs(w)))
      })
    })
  })

  it('pins the textbook values', () => {
    const at = (a: Activation, v: number) => a.fn(tensor([v])).item()
    expect(at(activations.gelu, 1)).toBeCloseTo(0.8413447460685429, 6)
    expect(at(activations.gelu, -1)).toBeCloseTo(-0.15865525393145707, 6)
    expect(at(activations.selu, 1)).toBeCloseTo(1.0507009873554805, 6)
    expect(at(activations.selu, -1)).toBeCloseTo(SELU_SCALE * SELU_ALPHA * (Math.exp(-1) - 1), 6)
    expect(at(activations.selu, -50)).toBeCloseTo(-SELU_SCALE * SELU_ALPHA, 5) // ≈ −1.7581
    expect(at(activations.sigmoid, 0)).toBe(0.5)
    expect(at(activations.softplus, 0)).toBeCloseTo(Math.LN2, 7)
    expect(at(activations.swish, 1)).toBeCloseTo(0.7310585786300049, 6)
    expect(at(activations.elu(), -1)).toBeCloseTo(Math.exp(-1) - 1, 7)
    expect(at(activations.elu(2), -1)).toBeCloseTo(2 * (Math.exp(-1) - 1), 6)
  })

  it('leakyRelu: the function defaults to alpha 0.2 (tf.nn.leaky_relu), the name too', () => {
    expect(activations.leakyRelu().config).toEqual({ alpha: 0.2 })
    expect(getActivation('leakyRelu').config).toEqual({ alpha: 0.2 })
    expect(activations.leakyRelu().fn(tensor([-1, 2])).data).toEqual(new Float32Array([-0.2, 2]))
    expect(
      activations
        .leakyRelu(0.3)
        .fn(tensor([-1]))
        .item(),
    ).toBeCloseTo(-0.3, 7)
  })

  it('softmax runs over the last axis and is stable for ±1e4', () => {
    const y = rowsOf(
      activations.softmax.fn(
        tensor([
          [1e4, 0],
          [-1e4, -1e4],
        ]),
      ),
    )
    expect(y).toEqual([
      [1, 0],
      [0.5, 0.5],
    ])
  })
})

describe('activation gradients', () => {
  const f32 = (lo: number, hi: number) =>
    fc.float({ min: Math.fround(lo), max: Math.fround(hi), noNaN: true, noDefaultInfinity: true })
  const matrix = fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }))
    .chain(([r, c]) =>
      fc.tuple(
        fc.array(fc.array(f32(-4, 4), { minLength: c, maxLength: c }), { minLength: r, maxLength: r }),
        fc.array(fc.array(f32(-2, 2), { minLength: c, maxLength: c }), { minLength: r, maxLength: r }),
      ),
    )

  const cases: readonly (readonly [string, Activation, ActivationName, number | undefined])[] = [
    ...allNames.map((n) => [n, getActivation(n), n, undefined] as const),
    ['leakyRelu(0.05)', activations.leakyRelu(0.05), 'leakyRelu', 0.05],
    ['elu(0.5)', activations.elu(0.5), 'elu', 0.5],
  ]

  it.each(cases)(
    '%s: valueAndGrad equals central differences of the float64 formula',
    (_, a, name, alpha) => {
      const ref = reference(name, alpha)
      fc.assert(
        fc.property(matrix, ([x, g]) => {
          const kinks = name === 'hardSigmoid' || name === 'hardSwish' ? [-3, 3] : [0]
          fc.pre(!kinked.has(name) || x.flat().every((v) => kinks.every((k) => Math.abs(v - k) >= 1e-2)))
          // checkGrads of @purenn/testing: objective Σ g ⊙ f(x) (its gradient is the VJP of f at
          // cotangent g), float64 central differences (h = 1e-6) of the formula; tolerance
          // 5e-5·(1 + |numeric|) ≤ 1e-4·max(1, |numeric|); inputs away from kinks: none skipped
          const cols = x[0]!.length
          const r = checkGrads(a.fn, [tensor(x)], {
            cotangent: g.flat(),
            reference: (xv) =>
              ref(
                Array.from({ length: x.length }, (_, i) => Array.from(xv.subarray(i * cols, (i + 1) * cols))),
              ).flat(),
            rtol: 5e-5,
            atol: 5e-5,
          })
          expect(r.kinks).toBe(0)
        }),
        { seed: 5, numRuns: 60 },
      )
    },
  )
})

describe('getActivation', () => {
  it('undefined is linear, names give the defaults, values pass through', () => {
    expect(getActivation(undefined)).toBe(activations.linear)
    expect(getActivation('relu')).toBe(activations.relu)
    expect(getActivation('elu').config).toEqual({ alpha: 1 })
    const custom = activations.leakyRelu(0.01)
    expect(getActivation(custom)).toBe(custom)
    for (const n of allNames) expect(getActivation(n).name).toBe(n)
  })

  it('an unknown name (from untyped code) throws, listing the names', () => {
    expect(() => getActivation('mesh' as ActivationName)).toThrow(
      /unknown activation 'mesh', expected one of 'linear'/,
    )
  })

  it('parameters must be finite numbers', () => {
    expect(() => activations.leakyRelu(Number.NaN)).toThrow(RangeError)
    expect(() => activations.elu(Number.POSITIVE_INFINITY)).toThrow(/alpha must be a finite number/)
  })

  it('activations are frozen values', () => {
    expect(Object.isFrozen(activations)).toBe(true)
    expect(Object.isFrozen(activations.relu)).toBe(true)
    expect(Object.isFrozen(activations.leakyRelu().config)).toBe(true)
  })
})

describe('activation config', () => {
  const values: readonly Activation[] = [
    ...allNames.map((n) => getActivation(n)),
    activations.leakyRelu(0.3),
    activations.leakyRelu(0),
    activations.elu(0.5),
  ]

  it('writes a name for parameterless activations and { name, alpha } otherwise', () => {
    expect(activationToConfig(activations.relu)).toBe('relu')
    expect(activationToConfig(activations.softmax)).toBe('softmax')
    expect(activationToConfig(activations.leakyRelu())).toEqual({ name: 'leakyRelu', alpha: 0.2 })
    expect(activationToConfig(activations.elu())).toEqual({ name: 'elu', alpha: 1 })
  })

  it.each(values.map((a) => [JSON.stringify(activationToConfig(a)), a] as const))(
    'fromConfig(toConfig(%s)) behaves identically (through JSON text)',
    (_, a) => {
      const back = activationFromConfig(JSON.parse(JSON.stringify(activationToConfig(a))))
      if (back._tag === 'Left') throw new Error(back.left)
      expect(back.right.name).toBe(a.name)
      expect(back.right.config).toEqual(a.config)
      const x = tensor([[-2.5, -0.1, 0, 0.7, 3]])
      expect(back.right.fn(x).data).toEqual(a.fn(x).data)
    },
  )

  it('accepts a bare name, and { name } with defaults', () => {
    const r = activationFromConfig('leakyRelu')
    expect(r._tag === 'Right' && r.right.config).toEqual({ alpha: 0.2 })
    const e = activationFromConfig({ name: 'elu' })
    expect(e._tag === 'Right' && e.right.config).toEqual({ alpha: 1 })
    const s = activationFromConfig({ name: 'selu' })
    expect(s._tag === 'Right' && s.right).toBe(activations.selu)
  })

  it.each([
    ['mesh', "activation: expected one of 'linear' | 'relu' | 'leakyRelu'"],
    [42, 'activation: expected an activation name or { name, ...params }, got 42'],
    [null, 'activation: expected an activation name or { name, ...params }, got null'],
    [{ alpha: 0.2 }, 'activation.name: expected one of'],
    [{ name: 7 }, 'activation.name: expected one of'],
    [{ name: 'leakyRelu', alpha: 'big' }, 'activation.alpha: expected a finite number, got "big"'],
    [{ name: 'elu', alpha: null }, 'activation.alpha: expected a finite number, got null'],
    [{ name: 'relu', alpha: 0.1 }, "activation.alpha: 'relu' takes no parameters, got a field 'alpha'"],
    [
      { name: 'leakyRelu', slope: 0.1 },
      "activation.slope: 'leakyRelu' takes only alpha, got a field 'slope'",
    ],
  ] as const)('bad config %j gives an error naming the field', (config, message) => {
    const r = activationFromConfig(config)
    expect(r._tag).toBe('Left')
    expect(r._tag === 'Left' && r.left).toContain(message)
  })

  it('error messages use the path of the caller', () => {
    const r = activationFromConfig({ name: 'elu', alpha: 'x' }, 'layers[2].config.activation')
    expect(r._tag === 'Left' && r.left).toBe(
      'layers[2].config.activation.alpha: expected a finite number, got "x"',
    )
  })
})

describe('gelu with the tanh approximation (Keras approximate=True)', () => {
  const approx64 = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))

  it('matches x/2·(1 + tanh(√(2/π)(x + 0.044715x³))) in float64 (2e-7 relative), within 1e-3 of exact gelu', () => {
    const xs = [-6, -3, -1, -0.5, 0, 0.5, 1, 3, 6]
    const got = activations.geluApproximate.fn(tensor(xs)).data
    const exact = activations.gelu.fn(tensor(xs)).data
    xs.forEach((v, i) => {
      expect(Math.abs(got[i]! - approx64(v))).toBeLessThanOrEqual(2e-7 * Math.max(1, Math.abs(approx64(v))))
      expect(Math.abs(got[i]! - exact[i]!)).toBeLessThanOrEqual(1e-3)
    })
    expect(activations.geluApproximate.fn(tensor([1])).item()).toBeCloseTo(0.8411919906082768, 6)
  })

  it('its gradient equals central differences of the float64 formula (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -4000, max: 4000 }), { minLength: 1, maxLength: 6 }), (ints) => {
        const xs = ints.map((i) => i / 1000)
        // checkGrads of @purenn/testing against float64 differences of the formula
        const r = checkGrads(activations.geluApproximate.fn, [tensor(xs)], {
          reference: (xv) => Array.from(xv, approx64),
          rtol: 1e-4,
          atol: 1e-4,
        })
        expect(r.kinks).toBe(0)
      }),
      { seed: 6, numRuns: 60 },
    )
  })

  it('is saved as { name: gelu, approximate: true } and rebuilt', () => {
    const c = activationToConfig(activations.geluApproximate)
    expect(c).toEqual({ name: 'gelu', approximate: true })
    const back = activationFromConfig(c)
    expect(back._tag === 'Right' && back.right).toBe(activations.geluApproximate)
    const exact = activationFromConfig({ name: 'gelu', approximate: false })
    expect(exact._tag === 'Right' && exact.right).toBe(activations.gelu)
    const bad = activationFromConfig({ name: 'gelu', approximate: 'yes' })
    expect(bad._tag === 'Left' && bad.left).toBe('activation.approximate: expected boolean, got "yes"')
  })
})

describe('mish, relu6, hardSigmoid, hardSwish: textbook values', () => {
  const at = (a: Activation, v: number) => a.fn(tensor([v])).item()
  it('pins values worked out by hand', () => {
    expect(at(activations.mish, 1)).toBeCloseTo(0.8650983882673103, 6)
    expect(at(activations.mish, -1.1924)).toBeCloseTo(-0.30884, 4) // its minimum
    expect(at(activations.relu6, 7)).toBe(6)
    expect(at(activations.hardSigmoid, 3)).toBe(1)
    expect(at(activations.hardSigmoid, -3)).toBe(0)
    expect(at(activations.hardSigmoid, 0)).toBe(0.5)
    expect(at(activations.hardSwish, 2)).toBeCloseTo(10 / 6, 6)
  })
})
