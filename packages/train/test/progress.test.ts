import { sgd } from '@purenn/optim'
import { key } from '@purenn/tensor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  fit,
  formatBar,
  formatEpochLine,
  formatEpochLineVerbose2,
  formatEta,
  formatLiveLine,
  formatPerStep,
  formatValue,
} from '../src/index.js'
import { blobs, linearModel, rowsOf, textSink } from './helpers/problems.js'

// The expected strings below are tf.keras 2.x output (keras/utils/generic_utils.py, Progbar),
// written out literally.

describe('formatValue', () => {
  it("is Keras' '%.4f', or '%.4e' when |v| <= 1e-3", () => {
    expect(formatValue(0.55594)).toBe('0.5559')
    expect(formatValue(0.80941)).toBe('0.8094')
    expect(formatValue(12.3456789)).toBe('12.3457')
    expect(formatValue(-0.25)).toBe('-0.2500')
    expect(formatValue(1)).toBe('1.0000')
    expect(formatValue(0.0011)).toBe('0.0011')
    expect(formatValue(0.001)).toBe('1.0000e-03')
    expect(formatValue(0.0001234)).toBe('1.2340e-04')
    expect(formatValue(-0.0001234)).toBe('-1.2340e-04')
    expect(formatValue(0)).toBe('0.0000e+00')
    expect(formatValue(1.5e-120)).toBe('1.5000e-120')
    expect(formatValue(Number.NaN)).toBe('nan')
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe('inf')
    expect(formatValue(Number.NEGATIVE_INFINITY)).toBe('-inf')
  })

  it("rounds exact ties to even, as Python's '%.4f' (accuracies k/32 with batches of 32)", () => {
    // 29/32 = 0.90625 exactly: Python prints 0.9062, JavaScript's toFixed(4) 0.9063
    expect(formatValue(29 / 32)).toBe('0.9062')
    expect(formatValue(1 / 32)).toBe('0.0312')
    expect(formatValue(3 / 32)).toBe('0.0938')
    expect(formatValue(-29 / 32)).toBe('-0.9062')
    expect(formatValue(0.90626)).toBe('0.9063')
  })

  it("prints every digit of large values, as '%.4f' (toFixed switches to exponents at 1e21)", () => {
    expect(formatValue(1e21)).toBe('1000000000000000000000.0000')
    expect(formatValue(-2.5e22)).toBe('-24999999999999997902848.0000') // the double's exact value, as Python
  })

  it('is within half a unit of the last digit (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (v) => {
        const s = formatValue(v)
        if (Math.abs(v) > 1e-3) {
          expect(s).toMatch(/^-?\d+\.\d{4}$/)
          expect(Math.abs(Number(s) - v)).toBeLessThanOrEqual(0.5e-4 * (1 + 1e-9) + Math.abs(v) * 1e-15)
        } else {
          expect(s).toMatch(/^-?\d\.\d{4}e[-+]\d{2,3}$/)
          expect(Math.abs(Number(s) - v)).toBeLessThanOrEqual(Math.abs(v) * 0.5e-4 * (1 + 1e-9))
        }
      }),
      { seed: 401, numRuns: 300 },
    )
  })
})

describe('formatEta', () => {
  it("is '42s', '1:05' or '1:02:03', as Keras", () => {
    expect(formatEta(42)).toBe('42s')
    expect(formatEta(42.7)).toBe('42s')
    expect(formatEta(0)).toBe('0s')
    expect(formatEta(60)).toBe('60s')
    expect(formatEta(65)).toBe('1:05')
    expect(formatEta(3599)).toBe('59:59')
    expect(formatEta(3600)).toBe('60:00')
    expect(formatEta(3723)).toBe('1:02:03')
    expect(formatEta(36000)).toBe('10:00:00')
  })

  it('compares the unrounded seconds with 60 and 3600, as Keras (`eta > 60` on a float)', () => {
    expect(formatEta(60.5)).toBe('1:00')
    expect(formatEta(3600.5)).toBe('1:00:00')
  })
})

describe('formatPerStep', () => {
  it("is Keras' _format_time: s, ms or us per step, rounded", () => {
    expect(formatPerStep(2.4)).toBe('2s/step')
    expect(formatPerStep(1)).toBe('1s/step')
    expect(formatPerStep(0.0021)).toBe('2ms/step')
    expect(formatPerStep(0.001)).toBe('1ms/step')
    expect(formatPerStep(0.00085)).toBe('850us/step')
    expect(formatPerStep(0)).toBe('0s/step')
  })
})

describe('formatBar', () => {
  it('follows prog_width = int(30·current/target): = × (w − 1), > while running, dots after', () => {
    // 30 · 859/1719 = 14.99: w = 14
    expect(formatBar(859, 1719)).toBe('[=============>................]')
    expect(formatBar(0, 1719)).toBe('[..............................]')
    expect(formatBar(57, 1719)).toBe('[..............................]') // w = 0.99 → 0
    expect(formatBar(58, 1719)).toBe('[>.............................]') // w = 1
    expect(formatBar(1718, 1719)).toBe('[============================>.]') // w = 29.98 → 29
    expect(formatBar(1719, 1719)).toBe('[==============================]')
  })

  it('is 32 characters: w − 1 signs =, then > (or = when done), then 30 − w dots (property)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 100_000 })
          .chain((target) => fc.tuple(fc.integer({ min: 0, max: target }), fc.constant(target))),
        ([current, target]) => {
          const bar = formatBar(current, target)
          const w = Math.trunc(30 * (current / target))
          const head = w === 0 ? '' : current < target ? '>' : '='
          expect(bar).toBe(`[${'='.repeat(Math.max(w - 1, 0))}${head}${'.'.repeat(30 - w)}]`)
          expect(bar).toHaveLength(32)
        },
      ),
      { seed: 402, numRuns: 200 },
    )
  })
})

describe('formatLiveLine', () => {
  it("pads the step count to the target's width and shows the ETA and running values", () => {
    expect(formatLiveLine(859, 1719, 1.6, { loss: 0.71234, accuracy: 0.7512 })).toBe(
      ' 859/1719 [=============>................] - ETA: 1s - loss: 0.7123 - accuracy: 0.7512',
    )
    expect(formatLiveLine(1, 1719, 125.3, { loss: 2.3456, accuracy: 0.0625 })).toBe(
      '   1/1719 [..............................] - ETA: 2:05 - loss: 2.3456 - accuracy: 0.0625',
    )
    expect(formatLiveLine(7, 8, 3723, {})).toBe('7/8 [=========================>....] - ETA: 1:02:03')
  })
})

describe('formatEpochLine', () => {
  it('is the tf.keras 2.x end-of-epoch line', () => {
    const logs = { loss: 0.55594, accuracy: 0.80941, val_loss: 0.40163, val_accuracy: 0.8558 }
    expect(formatEpochLine(1719, 3.4, logs)).toBe(
      '1719/1719 [==============================] - 3s 2ms/step - loss: 0.5559 - accuracy: 0.8094 - val_loss: 0.4016 - val_accuracy: 0.8558',
    )
    expect(formatEpochLine(1719, 0.4, { loss: 0.0001234 })).toBe(
      '1719/1719 [==============================] - 0s 233us/step - loss: 1.2340e-04',
    )
  })

  it('verbose 2: count, seconds, values, time per epoch and per step', () => {
    const logs = { loss: 0.55594, accuracy: 0.80941, val_loss: 0.40163, val_accuracy: 0.8558 }
    expect(formatEpochLineVerbose2(1719, 3.4, logs)).toBe(
      '1719/1719 - 3s - loss: 0.5559 - accuracy: 0.8094 - val_loss: 0.4016 - val_accuracy: 0.8558 - 3s/epoch - 2ms/step',
    )
    // an epoch under a second: Keras' _format_time gives ms/epoch, not 0s/epoch
    expect(formatEpochLineVerbose2(8, 0.25, { loss: 0.5 })).toBe(
      '8/8 - 0s - loss: 0.5000 - 250ms/epoch - 31ms/step',
    )
  })
})

describe('fit progress output', () => {
  const p = blobs(key(11), 40)
  const train = rowsOf(p, 0, 32)
  const valid = rowsOf(p, 32, 8)
  const run = (verbose: 0 | 1 | 2, isTTY = false) => {
    const sink = textSink(isTTY)
    return fit(linearModel(key(12)), train.x, train.y, {
      loss: 'sparseCategoricalCrossentropy',
      optimizer: sgd({ learningRate: 0.1 }),
      metrics: ['accuracy'],
      epochs: 2,
      batchSize: 8,
      validationData: [valid.x, valid.y],
      verbose,
      output: sink.stream,
    }).then(async (r) => ({ ...r, text: await sink.text() }))
  }
  const v = String.raw`\d+\.\d{4}`
  const time = String.raw`\d+(?:s|ms|us)`

  it('verbose 1 off a terminal: `Epoch i/n`, then exactly one line per epoch, with the epoch means', async () => {
    const { text, history } = await run(1)
    const lines = text.split('\n')
    expect(lines).toHaveLength(5)
    expect(lines[4]).toBe('')
    expect(lines[0]).toBe('Epoch 1/2')
    expect(lines[2]).toBe('Epoch 2/2')
    const line = new RegExp(
      String.raw`^4/4 \[={30}\] - \d+s ${time}/step - loss: (${v}) - accuracy: (${v}) - val_loss: (${v}) - val_accuracy: (${v})$`,
    )
    for (const [i, epoch] of [
      [1, 0],
      [3, 1],
    ] as const) {
      const m = line.exec(lines[i]!)
      expect(m, lines[i]).not.toBeNull()
      const h = history.history
      expect(m!.slice(1, 5)).toEqual(
        [h.loss![epoch]!, h.accuracy![epoch]!, h.val_loss![epoch]!, h.val_accuracy![epoch]!].map(formatValue),
      )
    }
    expect(text).not.toContain('\u001b') // no terminal escapes off a terminal
  })

  it('verbose 2: the verbose-2 line once per epoch', async () => {
    const { text } = await run(2)
    const lines = text.split('\n')
    expect(lines).toHaveLength(5)
    expect(lines[0]).toBe('Epoch 1/2')
    expect(lines[2]).toBe('Epoch 2/2')
    const line = new RegExp(
      String.raw`^4/4 - \d+s - loss: ${v} - accuracy: ${v} - val_loss: ${v} - val_accuracy: ${v} - ${time}/epoch - ${time}/step$`,
    )
    expect(lines[1]).toMatch(line)
    expect(lines[3]).toMatch(line)
  })

  it('verbose 0: nothing', async () => {
    const { text } = await run(0)
    expect(text).toBe('')
  })

  it('verbose 1 on a terminal: a live bar, cleared, then the same epoch line', async () => {
    const { text } = await run(1, true)
    expect(text).toContain('\u001b') // drawn with cursor movements
    // what is left on screen: each epoch's final line, after the last line clear
    const finals = text.split('\n').map((l) => l.split('\u001b[2K').at(-1))
    expect(finals[0]).toBe('Epoch 1/2')
    expect(finals[1]).toMatch(/^4\/4 \[={30}\] - \d+s \d+(?:s|ms|us)\/step - loss: /)
    expect(text).toMatch(/ - ETA: \d+s/)
  })
})
