import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { parseTrainArgs } from '../lib/cli.js'

const left = (argv: string[]) => {
  const r = parseTrainArgs(argv)
  if (E.isRight(r)) throw new Error(`expected an error for ${argv.join(' ')}`)
  return r.left
}

describe('pnpm train options', () => {
  it('defaults to the batch-norm model, batch size 32, seed 42', () => {
    expect(parseTrainArgs([])).toEqual(E.right({ model: 'bn-after', batchSize: 32, seed: 42 }))
  })

  it('decodes every option', () => {
    const r = parseTrainArgs([
      '--model=dropout',
      '--epochs',
      '3',
      '--batch-size',
      '64',
      '--optimizer',
      'adamw',
      '--learning-rate',
      '1e-3',
      '--clip-norm',
      '1',
      '--clip-value',
      '0.5',
      '--seed',
      '7',
      '--threads',
      '2',
      '--data-dir',
      '/tmp/fm',
      '--out',
      'out/x',
    ])
    expect(r).toEqual(
      E.right({
        model: 'dropout',
        epochs: 3,
        batchSize: 64,
        optimizer: 'adamw',
        learningRate: 0.001,
        clipNorm: 1,
        clipValue: 0.5,
        seed: 7,
        threads: 2,
        dataDir: '/tmp/fm',
        out: 'out/x',
      }),
    )
  })

  it('asks for help with --help or -h', () => {
    expect(parseTrainArgs(['--help'])).toEqual(E.right('help'))
    expect(parseTrainArgs(['-h'])).toEqual(E.right('help'))
  })

  it('gives a one-line reason naming the bad flag', () => {
    expect(left(['--model', 'resnet'])).toBe(
      '--model must be one of bn-after, bn-before, leaky-relu, swish, l2, dropout, mc-dropout, transfer; got "resnet"',
    )
    expect(left(['--epochs', '0'])).toBe('--epochs must be a decimal integer from 1 to 100000, got "0"')
    expect(left(['--epochs', '2.5'])).toBe('--epochs must be a decimal integer from 1 to 100000, got "2.5"')
    for (const bad of ['0x10', '1e1', '+3', ' 3', '-1'])
      expect(left(['--epochs', bad])).toBe(
        `--epochs must be a decimal integer from 1 to 100000, got "${bad}"`,
      )
    expect(left(['--threads', '1000'])).toBe('--threads must be a decimal integer from 1 to 256, got "1000"')
    expect(left(['--learning-rate', 'fast'])).toBe('--learning-rate must be a positive number, got "fast"')
    expect(left(['--clip-norm=-1'])).toBe('--clip-norm must be a positive number, got "-1"')
    expect(left(['--seed=-3'])).toBe(
      `--seed must be a decimal integer from 0 to ${Number.MAX_SAFE_INTEGER}, got "-3"`,
    )
    // a negative value after the flag reaches the flag's own check
    expect(left(['--clip-norm', '-1'])).toBe('--clip-norm must be a positive number, got "-1"')
    expect(left(['--optimizer', 'lbfgs'])).toBe(
      '--optimizer must be one of sgd, momentum, nesterov, rmsprop, adam, adamw, nadam, adagrad; got "lbfgs"',
    )
    for (const reason of [left(['--frobnicate']), left(['positional'])]) expect(reason).not.toContain('\n')
    expect(left(['--frobnicate'])).toContain("'--frobnicate'")
  })
})
