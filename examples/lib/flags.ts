/**
 * The command line of every script in `examples/`: `--epochs N` and `--subset N` (so a learner
 * can see any example run in under a minute), plus the few flags an example adds
 * (`--batch-size`, `--data-dir`, `--out`). Decoded with io-ts like `pnpm train`'s: integers are
 * decimal digits only and within a stated range; a bad flag is reported in one line naming it
 * and the script exits with status 2 before loading any data.
 */
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { train } from 'purenn'
import type { Split } from './chapter.js'
import { firstMessage, intFlag, joinNegativeValues } from './cli.js'

/** An example's flags: its name, what `--epochs` and `--subset` mean for it, and its extras. */
export interface ExampleSpec {
  /** The script's name (`pnpm example NAME`). */
  readonly name: string
  /** `--epochs`: its default and its largest value (the smallest is 1). */
  readonly epochs: { readonly default: number; readonly max?: number; readonly what?: string }
  /**
   * `--subset`: the rows it counts (`training images`), its range and its default (none: all
   * the data).
   */
  readonly subset: {
    readonly what: string
    readonly min?: number
    readonly max: number
    readonly default?: number
  }
  /** Other flags the example takes. */
  readonly batchSize?: number
  readonly dataDir?: true
  readonly out?: { readonly what: string; readonly default?: string }
}

/** The decoded flags. */
export interface ExampleArgs {
  readonly epochs: number
  /** Undefined: all the data. */
  readonly subset: number | undefined
  readonly batchSize: number
  readonly dataDir: string | undefined
  readonly out: string | undefined
}

/** The help text of an example. */
export const exampleUsage = (spec: ExampleSpec): string => {
  const lines = [
    `Usage: pnpm example ${spec.name} [options]`,
    '',
    'Options:',
    `  --epochs N       ${spec.epochs.what ?? 'epochs'}, 1 to ${spec.epochs.max ?? 1000} (default ${spec.epochs.default})`,
    `  --subset N       use only the first N ${spec.subset.what}, ${spec.subset.min ?? 1} to ${spec.subset.max} (default ${spec.subset.default ?? 'all'})`,
  ]
  if (spec.batchSize !== undefined)
    lines.push(`  --batch-size N   rows per step, 1 to 100000 (default ${spec.batchSize})`)
  if (spec.dataDir === true)
    lines.push("  --data-dir DIR   directory with the data files (default: the loader's lookup order)")
  if (spec.out !== undefined)
    lines.push(`  --out DIR        ${spec.out.what} (default ${spec.out.default ?? 'none'})`)
  lines.push(
    '  -h, --help       show this help',
    '',
    'Integers are decimal digits only. Exit status: 0 done, 1 error, 2 bad option.',
  )
  return lines.join('\n')
}

/**
 * Parses and validates an example's command line. Left: a one-line reason; Right: the flags,
 * or `'help'`.
 */
export const parseExampleArgs = (
  spec: ExampleSpec,
  argv: readonly string[],
): E.Either<string, ExampleArgs | 'help'> => {
  const options: Record<string, { type: 'string' } | { type: 'boolean'; short: string }> = {
    epochs: { type: 'string' },
    subset: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }
  if (spec.batchSize !== undefined) options['batch-size'] = { type: 'string' }
  if (spec.dataDir === true) options['data-dir'] = { type: 'string' }
  if (spec.out !== undefined) options.out = { type: 'string' }
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: joinNegativeValues(argv),
      strict: true,
      allowPositionals: false,
      options,
    }).values
  } catch (e) {
    return E.left((e as Error).message.split('\n')[0]!)
  }
  if (values.help === true) return E.right('help')
  const { help: _help, ...flags } = values
  const Flags = t.partial({
    epochs: intFlag('epochs', 1, spec.epochs.max ?? 1000),
    subset: intFlag('subset', spec.subset.min ?? 1, spec.subset.max),
    'batch-size': intFlag('batch-size', 1, 100_000),
    'data-dir': t.string,
    out: t.string,
  })
  return pipe(
    Flags.decode(flags),
    E.mapLeft(firstMessage),
    E.map((f) => ({
      epochs: f.epochs ?? spec.epochs.default,
      subset: f.subset ?? spec.subset.default,
      batchSize: f['batch-size'] ?? spec.batchSize ?? 32,
      dataDir: f['data-dir'],
      out: f.out ?? spec.out?.default,
    })),
  )
}

/**
 * The flags of the running example, from `process.argv`: prints the help and exits 0 on
 * `--help`, prints the reason and exits 2 on a bad flag.
 */
export const exampleArgs = (spec: ExampleSpec): ExampleArgs => {
  const parsed = parseExampleArgs(spec, process.argv.slice(2))
  if (E.isLeft(parsed)) {
    console.error(`pnpm example ${spec.name}: ${parsed.left} (see --help)`)
    process.exit(2)
  }
  if (parsed.right === 'help') {
    console.log(exampleUsage(spec))
    process.exit(0)
  }
  return parsed.right
}

/** The first `n` rows of a split (all of it when `n` is undefined or not smaller). */
export const firstRows = (s: Split, n: number | undefined): Split =>
  n === undefined || n >= s.x.shape[0]! ? s : { x: train.rows(s.x, 0, n), y: train.rows(s.y, 0, n) }

/**
 * `--subset N` on the chapter's splits: the first N training images, and at most N of the
 * validation and of the test images, so that the whole run (evaluation included) is small.
 */
export const subsetSplits = <
  D extends { readonly train: Split; readonly valid: Split; readonly test: Split },
>(
  d: D,
  n: number | undefined,
): D => ({ ...d, train: firstRows(d.train, n), valid: firstRows(d.valid, n), test: firstRows(d.test, n) })
