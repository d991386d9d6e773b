/**
 * UNSTABLE: the training package's pieces for the repository's benchmarks, which time a
 * step as `fit` runs it. Exported as `@purenn/train/internal`; not part of the user API, no
 * semver guarantee.
 *
 * @internal
 * @packageDocumentation
 */
export { type Ledger, makeLedger } from './ledger.js'
