import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { type ExampleSpec, exampleUsage, parseExampleArgs } from '../lib/flags.js'

const spec: ExampleSpec = {
  name: 'demo',
  epochs: { default: 3 },
  subset: { what: 'training images', min: 10, max: 55_000 },
  batchSize: 32,
  dataDir: true,
  out: { what: 'figures', default: 'out/demo' },
}
const left = (argv: string[], s: ExampleSpec = spec) => {
  const r = parseExampleArgs(s, argv)
  if (E.isRight(r)) throw new Error(`expected an error for ${argv.join(' ')}`)
  return r.left
}

describe("the examples' --epochs and --subset", () => {
  it("defaults to the example's epochs and all the data", () => {
    expect(parseExampleArgs(spec, [])).toEqual(
      E.right({ epochs: 3, subset: undefined, batchSize: 32, dataDir: undefined, out: 'out/demo' }),
    )
  })

  it('decodes every flag the example declares', () => {
    expect(
      parseExampleArgs(spec, [
        '--epochs',
        '1',
        '--subset=500',
        '--batch-size',
        '8',
        '--data-dir',
        '/d',
        '--out',
        'o',
      ]),
    ).toEqual(E.right({ epochs: 1, subset: 500, batchSize: 8, dataDir: '/d', out: 'o' }))
  })

  it('takes decimal integers within the stated ranges only, naming the flag', () => {
    for (const bad of ['0', '1001', '2.5', '0x10', '1e1', '+3', ' 3', '-1', ''])
      expect(left(['--epochs', bad])).toBe(`--epochs must be a decimal integer from 1 to 1000, got "${bad}"`)
    for (const bad of ['9', '55001', '1e3'])
      expect(left(['--subset', bad])).toBe(
        `--subset must be a decimal integer from 10 to 55000, got "${bad}"`,
      )
    expect(left(['--epochs', '7'], { ...spec, epochs: { default: 2, max: 5 } })).toBe(
      '--epochs must be a decimal integer from 1 to 5, got "7"',
    )
  })

  it('refuses flags the example does not take, and positionals', () => {
    const bare: ExampleSpec = { name: 'bare', epochs: { default: 1 }, subset: { what: 'rows', max: 10 } }
    expect(left(['--out', 'x'], bare)).toContain("'--out'")
    expect(left(['--batch-size', '8'], bare)).toContain("'--batch-size'")
    expect(left(['extra'], bare)).not.toContain('\n')
  })

  it('states the ranges and defaults in its help', () => {
    expect(parseExampleArgs(spec, ['-h'])).toEqual(E.right('help'))
    const help = exampleUsage(spec)
    expect(help).toContain('--epochs N       epochs, 1 to 1000 (default 3)')
    expect(help).toContain('--subset N       use only the first N training images, 10 to 55000 (default all)')
    expect(help).toContain('--out DIR        figures (default out/demo)')
  })
})
