import { readFileSync } from 'node:fs'
import { key } from '@purenn/tensor'
import { describe, expect, it } from 'vitest'
import {
  activation,
  averagePooling2d,
  batchNormalization,
  conv2d,
  dense,
  flatten,
  freeze,
  globalAveragePooling2d,
  initModel,
  layerNormalization,
  maxPooling2d,
  sequential,
  serial,
  summary,
} from '../src/index.js'
import { chapterModel } from './helpers/chapter.js'
import { kerasFixture } from './helpers/window64.js'

// The expected tables are written out by hand from Keras' print_summary (tf.keras 2.9–2.12):
// line length 65, columns ending at int(65·[.45, .85, 1]) = [29, 55, 65], every line starting
// with a space and padded to the column edges, a field cut at its column width minus the two
// spaces between columns (27 characters for the first column) and continued on the next line,
// a blank line of 65 spaces after each layer. Each line below ends at the `|`, which is not
// part of the output: it makes the trailing spaces visible.
const table = (lines: readonly string[]): string => lines.map((l) => l.slice(0, -1)).join('\n')

describe('summary: the tf.keras 2.x table, exactly', () => {
  it("the chapter's batch-normalization model: 271,346 / 268,978 / 2,368", () => {
    const model = initModel(chapterModel(), { key: key(42) })
    expect(summary(model)).toBe(
      table([
        'Model: "sequential"|',
        '_________________________________________________________________|',
        ' Layer (type)                Output Shape              Param #   |',
        '=================================================================|',
        ' flatten (Flatten)           (None, 784)               0         |',
        '                                                                 |',
        ' batch_normalization (BatchN  (None, 784)              3136      |',
        ' ormalization)                                                   |',
        '                                                                 |',
        ' dense (Dense)               (None, 300)               235500    |',
        '                                                                 |',
        ' batch_normalization_1 (Batc  (None, 300)              1200      |',
        ' hNormalization)                                                 |',
        '                                                                 |',
        ' dense_1 (Dense)             (None, 100)               30100     |',
        '                                                                 |',
        ' batch_normalization_2 (Batc  (None, 100)              400       |',
        ' hNormalization)                                                 |',
        '                                                                 |',
        ' dense_2 (Dense)             (None, 10)                1010      |',
        '                                                                 |',
        '=================================================================|',
        'Total params: 271,346|',
        'Trainable params: 268,978|',
        'Non-trainable params: 2,368|',
        '_________________________________________________________________|',
      ]),
    )
  })

  it('the batch-norm-before-activation variant (no bias before BN): 267,810 total, 800 non-trainable', () => {
    const arch = sequential(
      [
        flatten(),
        dense({ units: 300, kernelInitializer: 'heNormal', useBias: false }),
        batchNormalization(),
        activation('relu'),
        dense({ units: 100, kernelInitializer: 'heNormal', useBias: false }),
        batchNormalization(),
        activation('relu'),
        dense({ units: 10, activation: 'softmax' }),
      ],
      { inputShape: [28, 28] },
    )
    expect(summary(initModel(arch, { key: key(0) }))).toBe(
      table([
        'Model: "sequential"|',
        '_________________________________________________________________|',
        ' Layer (type)                Output Shape              Param #   |',
        '=================================================================|',
        ' flatten (Flatten)           (None, 784)               0         |',
        '                                                                 |',
        ' dense (Dense)               (None, 300)               235200    |',
        '                                                                 |',
        ' batch_normalization (BatchN  (None, 300)              1200      |',
        ' ormalization)                                                   |',
        '                                                                 |',
        ' activation (Activation)     (None, 300)               0         |',
        '                                                                 |',
        ' dense_1 (Dense)             (None, 100)               30000     |',
        '                                                                 |',
        ' batch_normalization_1 (Batc  (None, 100)              400       |',
        ' hNormalization)                                                 |',
        '                                                                 |',
        ' activation_1 (Activation)   (None, 100)               0         |',
        '                                                                 |',
        ' dense_2 (Dense)             (None, 10)                1010      |',
        '                                                                 |',
        '=================================================================|',
        'Total params: 267,810|',
        'Trainable params: 267,010|',
        'Non-trainable params: 800|',
        '_________________________________________________________________|',
      ]),
    )
  })

  it('frozen layers count as non-trainable, as in Keras', () => {
    const model = freeze(initModel(chapterModel(), { key: key(1) }), ['dense'])
    const footer = summary(model).split('\n').slice(-4, -1)
    expect(footer).toEqual([
      'Total params: 271,346',
      'Trainable params: 33,478',
      'Non-trainable params: 237,868',
    ])
  })

  it('prints the model name, multi-axis output shapes and a single-layer model', () => {
    const model = initModel(sequential([dense({ units: 4 })], { name: 'encoder' }), {
      key: key(0),
      inputShape: [3, 2],
    })
    const lines = summary(model).split('\n')
    expect(lines[0]).toBe('Model: "encoder"')
    expect(lines[4]).toBe(' dense (Dense)               (None, 3, 4)              12        ')
    const single = summary(
      initModel(dense({ units: 2, name: 'out' }), { key: key(0), inputShape: [5] }),
    ).split('\n')
    expect(single[0]).toBe('Model: "out"')
    expect(single[4]).toBe(' out (Dense)                 (None, 2)                 12        ')
  })

  it('every table line is 65 characters wide', () => {
    const lines = summary(initModel(chapterModel(), { key: key(2) })).split('\n')
    const table = lines.filter((l) => !/^(Model:|Total|Trainable|Non-trainable)/.test(l))
    expect(table.every((l) => l.length === 65)).toBe(true)
  })
})

describe('summary of a CNN: output shapes and parameter counts as real Keras 3 (fixture)', () => {
  it('conv, batch norm, pooling, layer norm, global pooling, dense', () => {
    const model = initModel(
      sequential(
        [
          conv2d({ filters: 32, kernelSize: 3, padding: 'same', useBias: false }),
          batchNormalization(),
          activation('relu'),
          maxPooling2d(),
          conv2d({ filters: 64, kernelSize: 3, strides: 2 }),
          averagePooling2d({ padding: 'same' }),
          layerNormalization(),
          globalAveragePooling2d(),
          dense({ units: 10, activation: 'softmax' }),
        ],
        { inputShape: [28, 28, 1] },
      ),
      { key: key(0) },
    )
    // wide enough that no name wraps
    const rows = summary(model, { lineLength: 200 })
      .split('\n')
      .slice(4, -5)
      .filter((l) => l.trim() !== '')
    const want = kerasFixture.summary.rows
    expect(rows.length).toBe(want.length)
    rows.forEach((line, i) => {
      const w = want[i]!
      expect(line).toContain(`(${w.class})`)
      expect(line).toContain(`(None, ${w.outputShape.join(', ')})`)
      expect(line.trimEnd().endsWith(` ${w.params}`)).toBe(true)
    })
    expect(summary(model)).toContain(`Total params: ${kerasFixture.summary.total.toLocaleString('en-US')}`)
  })
})

describe("summary of nested models against Keras' own (fixture from Keras 3)", () => {
  // scripts/fixtures/keras_nested_summary.py: model.summary(expand_nested=True) of a
  // Sequential holding a Dense, a nested Sequential (itself holding a nested Sequential), a
  // nested functional model and a Dense, with the rows read back from Keras' table.
  interface KerasRow {
    readonly name: string
    readonly type: string
    readonly shape: string
    readonly params: number
    readonly depth: number
  }
  const fixture = JSON.parse(
    readFileSync(new URL('./fixtures/keras-nested-summary.json', import.meta.url), 'utf8'),
  ) as {
    readonly rows: readonly KerasRow[]
    readonly total: number
    readonly trainable: number
    readonly nonTrainable: number
  }
  // the same model in purenn; Keras' functional block is a `serial`, which purenn names
  // `serial` (the fixture's functional model is named so too)
  const model = initModel(
    sequential(
      [
        dense({ units: 4, name: 'dense' }),
        sequential(
          [
            dense({ units: 4, name: 'dense_in' }),
            batchNormalization({ name: 'bn_in' }),
            sequential([dense({ units: 2, name: 'dense_deep' })], { name: 'inner' }),
          ],
          { name: 'block1' },
        ),
        serial(dense({ units: 3, activation: 'relu', name: 'f_dense' })),
        dense({ units: 2, name: 'out' }),
      ],
      { inputShape: [4], name: 'outer' },
    ),
    { key: key(0) },
  )
  /** purenn's rows read back from its table: depth is the number of | framing the row. */
  const rowsOf = (text: string): KerasRow[] =>
    text.split('\n').flatMap((line) => {
      const depth = /^\|*/.exec(line)![0].length
      const m = /^ (\S+) \((\w+)\)\s+(\(.*?\))\s+(\d+)\s*$/.exec(line.slice(depth, line.length - depth))
      return m === null ? [] : [{ name: m[1]!, type: m[2]!, shape: m[3]!, params: Number(m[4]), depth }]
    })

  it('has the rows of Keras: names, types, output shapes, param counts and nesting depth', () => {
    const ours = rowsOf(summary(model))
    // The intentional differences, and only these: Keras lists the InputLayer of a nested
    // functional model (purenn has no input layers), and calls that model `Functional`
    // where purenn's block is a `Serial`.
    const expected = fixture.rows
      .filter((r) => r.type !== 'InputLayer')
      .map((r) => (r.type === 'Functional' ? { ...r, type: 'Serial' } : r))
    expect(fixture.rows.length - expected.length).toBe(1)
    expect(ours).toEqual(expected)
  })

  it('has the totals of Keras', () => {
    const tail = summary(model).split('\n').slice(-4, -1)
    expect(tail).toEqual([
      `Total params: ${fixture.total}`,
      `Trainable params: ${fixture.trainable}`,
      `Non-trainable params: ${fixture.nonTrainable}`,
    ])
  })

  it('without expandNested, has the top-level rows of Keras only', () => {
    const ours = rowsOf(summary(model, { expandNested: false }))
    expect(ours.map((r) => r.name)).toEqual(fixture.rows.filter((r) => r.depth === 0).map((r) => r.name))
    expect(ours.every((r) => r.depth === 0)).toBe(true)
  })
})
