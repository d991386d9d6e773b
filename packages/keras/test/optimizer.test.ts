// Optimizer variables in .keras files. The fixtures adam.keras and sgd.keras were written by
// Keras 3.15 after 3 steps of fit (scripts/fixtures/keras-fixtures.py write-optimizer), with
// Keras' own values of every optimizer variable in <name>.optimizer.json: what purenn reads must
// equal them bitwise (both are float32). purenn-written files were checked by hand with
// `keras-fixtures.py check` (keras.models.load_model, the variables compared, one more fit step).
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  applyModel,
  batchNormalization,
  dense,
  freeze,
  initModel,
  type Model,
  sequential,
  sparseCategoricalCrossentropy,
} from '@purenn/layers'
import {
  adam,
  adamax,
  adamaxWeights,
  applyUpdates,
  type GradientTransformation,
  nadam,
  nadamWeights,
  type OptimizerVariables,
  restoreAdamaxState,
  restoreAdamState,
  restoreNadamState,
  restoreRmspropState,
  restoreSgdState,
  rmsprop,
  rmspropWeights,
  sgd,
} from '@purenn/optim'
import { key, type Tensor, type Tree, tensor, tree, uniform, valueAndGrad } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import {
  kerasArchive,
  kerasModelWithOptimizerFromBytes,
  loadKerasModelWithOptimizer,
  saveKerasModel,
} from '../src/index.js'

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url))

interface Record_ {
  readonly class_name: string
  readonly iterations: number
  readonly learning_rate: number
  readonly trainable: readonly string[]
  readonly slots: { readonly [slot: string]: readonly (readonly number[])[] }
}

const purennKey: { readonly [k: string]: string } = {
  kernel: 'kernel',
  bias: 'bias',
  gamma: 'gamma',
  beta: 'beta',
}
const leaf = (t: Tree, path: string): Tensor => {
  // 'small/dense/kernel' -> t.dense.kernel
  const [layer, weight] = path.split('/').slice(-2) as [string, string]
  return (t as Record<string, Record<string, Tensor>>)[layer]![purennKey[weight]!]!
}

describe('.keras optimizer variables written by Keras 3.15', () => {
  for (const name of ['adam', 'sgd'] as const)
    it(`${name}.keras: class, iterations and every slot equal Keras' values bitwise`, async () => {
      const want = JSON.parse(readFileSync(fixture(`${name}.optimizer.json`), 'utf8')) as Record_
      const { model, optimizer } = await loadKerasModelWithOptimizer(fixture(`${name}.keras`))
      expect(optimizer?.className).toBe(want.class_name)
      expect(optimizer?.iterations).toBe(3)
      expect(optimizer?.config?.learning_rate).toBe(want.learning_rate)
      const slots = Object.keys(want.slots)
      expect(slots).toEqual(name === 'adam' ? ['momentum', 'velocity'] : ['momentum'])
      expect(Object.keys(optimizer!.slots)).toEqual(slots)
      for (const slot of slots)
        want.trainable.forEach((path, i) => {
          const got = leaf(optimizer!.slots[slot]!, path)
          expect(got.shape).toEqual(leaf(model.params as Tree, path).shape)
          expect(Array.from(got.data)).toEqual(want.slots[slot]![i])
        })
      // the values are not all zero: the fixture holds a trained state
      expect(Math.max(...want.slots.momentum!.flat().map(Math.abs))).toBeGreaterThan(1e-3)
      // and they become purenn optimizer states
      if (name === 'adam') {
        const s = restoreAdamState(adam({ learningRate: 0.01 }).init(model.params as Tree), optimizer!)
        expect(s[1].count).toBe(3)
        expect(Array.from(leaf(s[1].nu, want.trainable[0]!).data)).toEqual(want.slots.velocity![0])
      } else {
        const s = restoreSgdState(
          sgd({ learningRate: 0.1, momentum: 0.9 }).init(model.params as Tree),
          optimizer!,
        )
        expect(s[1].count).toBe(3)
        expect(s.length).toBe(3)
      }
    })

  it('a model compiled but never trained (bn.keras): Adam at iteration 0, zero slots', async () => {
    const { model, optimizer } = await loadKerasModelWithOptimizer(fixture('bn.keras'))
    expect(optimizer?.className).toBe('Adam')
    expect(optimizer?.iterations).toBe(0)
    const leaves = tree.leaves(optimizer!.slots.velocity!)
    expect(leaves.length).toBe(tree.leaves(model.params as Tree).length)
    expect(leaves.every((t) => t.data.every((v) => v === 0))).toBe(true)
  })

  it('a legacy .h5 file gives the model and no optimizer', async () => {
    const { optimizer } = await kerasModelWithOptimizerFromBytes(
      new Uint8Array(readFileSync(fixture('bn.h5'))),
    )
    expect(optimizer).toBeUndefined()
  })
})

const smallModel = (): Model => {
  const m = initModel(
    sequential([dense({ units: 5, activation: 'tanh' }), batchNormalization(), dense({ units: 3 })], {
      inputShape: [4],
    }),
    { key: key(1) },
  )
  return m
}
const randomLike = (t: Tree, seed: number): Tree => {
  let i = 0
  return tree.map(t, (x) => uniform(key(seed + i++), x.shape, { minval: 0, maxval: 1 }))
}

describe('.keras optimizer variables written by purenn', () => {
  it('Adam and SGD momentum read back bitwise; config and loss go to compile_config', async () => {
    const model = smallModel()
    const slots = {
      momentum: randomLike(model.params as Tree, 10),
      velocity: randomLike(model.params as Tree, 20),
    }
    const file = join(mkdtempSync(join(tmpdir(), 'keras-opt-')), 'm.keras')
    await saveKerasModel(model, file, {
      optimizer: { className: 'Adam', iterations: 17, config: { learning_rate: 0.005 }, slots },
      loss: 'sparse_categorical_crossentropy',
    })
    const { optimizer } = await loadKerasModelWithOptimizer(file)
    expect(optimizer?.iterations).toBe(17)
    expect(optimizer?.config?.learning_rate).toBe(Math.fround(0.005))
    expect(optimizer?.config?.beta_1).toBe(0.9)
    for (const s of ['momentum', 'velocity'] as const)
      expect(tree.flatten(optimizer!.slots[s]!).map(([p, t]) => [p, Array.from(t.data)])).toEqual(
        tree.flatten(slots[s]).map(([p, t]) => [p, Array.from(t.data)]),
      )
    const sgdBytes = await kerasArchive(model, {
      optimizer: {
        className: 'SGD',
        iterations: 2,
        config: { momentum: 0.9 },
        slots: { momentum: slots.momentum },
      },
    })
    const back = await kerasModelWithOptimizerFromBytes(sgdBytes)
    expect(back.optimizer?.className).toBe('SGD')
    expect(tree.flatten(back.optimizer!.slots.momentum!).map(([, t]) => Array.from(t.data))).toEqual(
      tree.flatten(slots.momentum).map(([, t]) => Array.from(t.data)),
    )
  })

  it('a frozen layer has no variables in the file and reads back as zeros', async () => {
    const model = freeze(smallModel(), ['dense'])
    const full = randomLike(model.params as Tree, 30)
    const slots = { momentum: full, velocity: full }
    const bytes = await kerasArchive(model, { optimizer: { className: 'Adam', iterations: 1, slots } })
    const { optimizer } = await kerasModelWithOptimizerFromBytes(bytes)
    const m = optimizer!.slots.momentum as Record<string, Record<string, Tensor>>
    expect(Array.from(m.dense!.kernel!.data).every((v) => v === 0)).toBe(true)
    expect(Array.from(m.dense_1!.kernel!.data)).toEqual(
      Array.from((full as Record<string, Record<string, Tensor>>).dense_1!.kernel!.data),
    )
  })

  it('refuses an optimizer .keras export does not write, naming it, and a slot of the wrong shape', async () => {
    const model = smallModel()
    await expect(
      kerasArchive(model, { optimizer: { className: 'Adagrad', iterations: 1, slots: {} } }),
    ).rejects.toThrow(
      /optimizer variables of Adagrad: .keras export writes those of Adam, SGD, RMSprop, Nadam, Adamax/,
    )
    const bad = { dense: { kernel: uniform(key(1), [3, 5]), bias: uniform(key(2), [5]) } }
    await expect(
      kerasArchive(model, {
        optimizer: {
          className: 'SGD',
          iterations: 1,
          config: { momentum: 0.5 },
          slots: { momentum: { ...(randomLike(model.params as Tree, 1) as object), ...bad } },
        },
      }),
    ).rejects.toThrow(/slot 'momentum' dense\/kernel: shape \[3, 5\], the weight's is \[4, 5\]/)
  })
})

// RMSprop (plain, and centered with momentum), Nadam and Adamax: rmsprop*.keras, nadam.keras and
// adamax.keras were written by Keras 3.15 after 3 steps of fit (keras-fixtures.py
// write-optimizers); <name>.optimizer.json holds Keras' variables in its order and the weights
// after one more step on the first batch of 4. purenn reads the variables bitwise, restores its
// own optimizer state from them, takes that step and must land on Keras' weights.
interface Record2 extends Record_ {
  readonly variables: readonly string[]
  readonly scalars: { readonly [k: string]: number }
  readonly next_step: { readonly x: number[][]; readonly y: number[]; readonly weights: number[][] }
}

const cases: readonly {
  readonly name: string
  readonly slots: readonly string[]
  readonly restore: (
    params: Tree,
    w: OptimizerVariables,
  ) => { tx: GradientTransformation<unknown>; state: unknown }
  readonly back: (state: never) => OptimizerVariables
}[] = [
  {
    name: 'rmsprop',
    slots: ['velocity'],
    restore: (p, w) => {
      const tx = rmsprop({ learningRate: 0.01 })
      return { tx: tx as GradientTransformation<unknown>, state: restoreRmspropState(tx.init(p), w) }
    },
    back: rmspropWeights,
  },
  {
    name: 'rmsprop-centered',
    slots: ['velocity', 'momentum', 'average_gradient'],
    restore: (p, w) => {
      const tx = rmsprop({ learningRate: 0.01, momentum: 0.9, centered: true })
      return { tx: tx as GradientTransformation<unknown>, state: restoreRmspropState(tx.init(p), w) }
    },
    back: rmspropWeights,
  },
  {
    name: 'nadam',
    slots: ['momentum', 'velocity'],
    restore: (p, w) => {
      const tx = nadam({ learningRate: 0.01 })
      return { tx: tx as GradientTransformation<unknown>, state: restoreNadamState(tx.init(p), w) }
    },
    back: nadamWeights,
  },
  {
    name: 'adamax',
    slots: ['momentum', 'norm'],
    restore: (p, w) => {
      const tx = adamax({ learningRate: 0.01 })
      return { tx: tx as GradientTransformation<unknown>, state: restoreAdamaxState(tx.init(p), w) }
    },
    back: adamaxWeights,
  },
]

describe('.keras optimizer variables of RMSprop, Nadam and Adamax written by Keras 3.15', () => {
  for (const c of cases)
    it(`${c.name}.keras: every variable bitwise; restored in purenn, one more step lands on Keras' weights`, async () => {
      const want = JSON.parse(readFileSync(fixture(`${c.name}.optimizer.json`), 'utf8')) as Record2
      const { model, optimizer } = await loadKerasModelWithOptimizer(fixture(`${c.name}.keras`))
      expect(optimizer?.className).toBe(want.class_name)
      expect(optimizer?.iterations).toBe(3)
      expect(Object.keys(optimizer!.slots)).toEqual(c.slots)
      expect(Object.keys(want.slots)).toEqual(c.slots)
      for (const slot of c.slots)
        want.trainable.forEach((path, i) => {
          expect(Array.from(leaf(optimizer!.slots[slot]!, path).data), `${slot} of ${path}`).toEqual(
            want.slots[slot]![i],
          )
        })
      if (c.name === 'nadam') expect(optimizer?.scalars).toEqual({ u_product: want.scalars.variable })
      else expect(optimizer?.scalars).toBeUndefined()
      // the fixture holds a trained state
      expect(Math.max(...want.slots[c.slots[0]!]!.flat().map(Math.abs))).toBeGreaterThan(1e-5)

      const params = model.params as Tree
      const { tx, state } = c.restore(params, optimizer!)
      // purenn's state gives the same variables back (RMSprop's momentum is its negated trace)
      const again = c.back(state as never)
      expect(again.iterations).toBe(3)
      for (const slot of c.slots)
        expect(tree.leaves(again.slots[slot]!).map((t) => Array.from(t.data))).toEqual(
          tree.leaves(optimizer!.slots[slot]!).map((t) => Array.from(t.data)),
        )
      const x = tensor(want.next_step.x)
      const y = tensor(want.next_step.y)
      const loss = sparseCategoricalCrossentropy()
      const { grad } = valueAndGrad((p: Tree) =>
        loss.fn(y, applyModel({ ...model, params: p }, x, { training: true }).y),
      )(params)
      const { updates } = tx.update(grad, state, params)
      const next = applyUpdates(params, updates)
      let diff = 0
      want.trainable.forEach((path, i) => {
        const got = leaf(next, path).data
        want.next_step.weights[i]!.forEach((v, j) => {
          diff = Math.max(diff, Math.abs(got[j]! - v))
        })
      })
      console.log(`${c.name}: one step from the restored state, max |Δw| vs Keras 3.15 ${diff}`)
      expect(diff).toBeLessThanOrEqual(1e-6)
    })
})
