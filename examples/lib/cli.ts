/**
 * The options of `pnpm train`, decoded with io-ts: every flag is validated and a bad one is
 * reported in one line naming the flag.
 */
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'

export const modelNames = [
  'bn-after',
  'bn-before',
  'leaky-relu',
  'swish',
  'l2',
  'dropout',
  'mc-dropout',
  'transfer',
] as const
export const optimizerNames = [
  'sgd',
  'momentum',
  'nesterov',
  'rmsprop',
  'adam',
  'adamw',
  'nadam',
  'adagrad',
] as const

export type ModelName = (typeof modelNames)[number]
export type OptimizerName = (typeof optimizerNames)[number]

export interface TrainOptions {
  readonly model: ModelName
  readonly epochs?: number
  readonly subset?: number
  readonly batchSize: number
  readonly optimizer?: OptimizerName
  readonly learningRate?: number
  readonly clipNorm?: number
  readonly clipValue?: number
  readonly seed: number
  readonly threads?: number
  readonly dataDir?: string
  readonly out?: string
  readonly resume?: string
}

export const usage = `Usage: pnpm train [options]

Trains one of the chapter's models on Fashion-MNIST (55,000 train / 5,000 validation /
10,000 test images), prints its summary, the progress and the test loss and accuracy, and
writes the learning curves (SVG), the history (JSON) and the saved model to an output directory.

Options:
  --model NAME          ${modelNames.join(' | ')} (default bn-after)
  --epochs N            epochs, 1 to 100000 (default: the chapter's, e.g. 2 for bn-after, 10 for dropout)
  --subset N            train on the first N training images only, 1 to 55000, and
                        validate and test on at most N images (default: all of them)
  --batch-size N        rows per step (default 32)
  --optimizer NAME      ${optimizerNames.join(' | ')} (default: the chapter's, sgd for most)
  --learning-rate X     learning rate (default: the chapter's)
  --clip-norm X         clip each gradient tensor to this L2 norm (Keras clipnorm)
  --clip-value X        clip each gradient element to [-X, X] (Keras clipvalue)
  --seed N              seed of the PRNG key for weights, shuffling and dropout (default 42)
  --threads N           threads for the heavy kernels, 1 to 256 (default: all cores)
  --data-dir DIR        directory with the four Fashion-MNIST files (default: PURENN_DATA,
                        the user cache, /usr/share/datasets/fashion-mnist, then download)
  --out DIR             output directory (default out/<model>), checked before training
  --resume DIR          continue a run from its checkpoint folder (DIR is <out>/checkpoint
                        of that run); the other options must be those of that run
  -h, --help            show this help

Integers are decimal digits only. Exit status: 0 done, 1 error, 2 bad option, 3 training
stopped on a fault (non-finite loss or weights, or a diverging loss).
`

/** A number given as a command-line string, with a predicate and what it must be. */
const numberFlag = (name: string, ok: (n: number) => boolean, what: string) =>
  new t.Type<number, string, unknown>(
    name,
    (u): u is number => typeof u === 'number' && ok(u),
    (u, c) => {
      const n = typeof u === 'string' && u.trim() !== '' ? Number(u) : Number.NaN
      return ok(n) ? t.success(n) : t.failure(u, c, `--${name} must be ${what}, got "${String(u)}"`)
    },
    String,
  )

const oneOf = <V extends string>(name: string, values: readonly V[]) =>
  new t.Type<V, string, unknown>(
    name,
    (u): u is V => values.includes(u as V),
    (u, c) =>
      values.includes(u as V)
        ? t.success(u as V)
        : t.failure(u, c, `--${name} must be one of ${values.join(', ')}; got "${String(u)}"`),
    String,
  )

/** An integer flag: decimal digits only (no `0x10`, `1e1`, `+3`, spaces), within [min, max]. */
export const intFlag = (name: string, min: number, max: number) =>
  new t.Type<number, string, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= min && u <= max,
    (u, c) => {
      const n = typeof u === 'string' && /^\d{1,16}$/.test(u) ? Number(u) : Number.NaN
      return Number.isSafeInteger(n) && n >= min && n <= max
        ? t.success(n)
        : t.failure(u, c, `--${name} must be a decimal integer from ${min} to ${max}, got "${String(u)}"`)
    },
    String,
  )
const positive = (name: string) => numberFlag(name, (n) => Number.isFinite(n) && n > 0, 'a positive number')

const Flags = t.partial({
  model: oneOf('model', modelNames),
  epochs: intFlag('epochs', 1, 100_000),
  subset: intFlag('subset', 1, 55_000),
  'batch-size': intFlag('batch-size', 1, 1_000_000),
  optimizer: oneOf('optimizer', optimizerNames),
  'learning-rate': positive('learning-rate'),
  'clip-norm': positive('clip-norm'),
  'clip-value': positive('clip-value'),
  seed: intFlag('seed', 0, Number.MAX_SAFE_INTEGER),
  threads: intFlag('threads', 1, 256),
  'data-dir': t.string,
  out: t.string,
  resume: t.string,
})

export const firstMessage = (errors: t.Errors): string =>
  errors[0]?.message ??
  `invalid option ${
    errors[0]?.context
      .map((c) => c.key)
      .filter(Boolean)
      .join('.') ?? ''
  }`

/**
 * `--flag -1` as `--flag=-1`, so that a negative number reaches the flag's own check (node's
 * parser would take it for an option and call the argument ambiguous).
 */
export const joinNegativeValues = (argv: readonly string[]): string[] => {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const next = argv[i + 1]
    if (/^--[a-z-]+$/.test(a) && a !== '--help' && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`)
      i++
    } else out.push(a)
  }
  return out
}

/**
 * Parses and validates the command line. Left: a one-line reason; Right: the options, or
 * `'help'` when help was asked for.
 */
export const parseTrainArgs = (argv: readonly string[]): E.Either<string, TrainOptions | 'help'> => {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: joinNegativeValues(argv),
      strict: true,
      allowPositionals: false,
      options: {
        model: { type: 'string' },
        epochs: { type: 'string' },
        subset: { type: 'string' },
        'batch-size': { type: 'string' },
        optimizer: { type: 'string' },
        'learning-rate': { type: 'string' },
        'clip-norm': { type: 'string' },
        'clip-value': { type: 'string' },
        seed: { type: 'string' },
        threads: { type: 'string' },
        'data-dir': { type: 'string' },
        out: { type: 'string' },
        resume: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (e) {
    return E.left((e as Error).message.split('\n')[0]!)
  }
  if (values.help === true) return E.right('help')
  const { help: _help, ...flags } = values
  return pipe(
    Flags.decode(flags),
    E.mapLeft(firstMessage),
    E.map((f) => ({
      model: f.model ?? 'bn-after',
      batchSize: f['batch-size'] ?? 32,
      seed: f.seed ?? 42,
      ...(f.epochs === undefined ? {} : { epochs: f.epochs }),
      ...(f.subset === undefined ? {} : { subset: f.subset }),
      ...(f.optimizer === undefined ? {} : { optimizer: f.optimizer }),
      ...(f['learning-rate'] === undefined ? {} : { learningRate: f['learning-rate'] }),
      ...(f['clip-norm'] === undefined ? {} : { clipNorm: f['clip-norm'] }),
      ...(f['clip-value'] === undefined ? {} : { clipValue: f['clip-value'] }),
      ...(f.threads === undefined ? {} : { threads: f.threads }),
      ...(f['data-dir'] === undefined ? {} : { dataDir: f['data-dir'] }),
      ...(f.out === undefined ? {} : { out: f.out }),
      ...(f.resume === undefined ? {} : { resume: f.resume }),
    })),
  )
}
