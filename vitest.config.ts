import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url))

// Tests run against the TypeScript sources: each workspace package name is aliased to its
// `src/index.ts`, so `pnpm test` needs no build first.
export default defineConfig({
  resolve: {
    alias: {
      '@purenn/tensor': src('tensor'),
      '@purenn/layers': src('layers'),
      '@purenn/optim': src('optim'),
      '@purenn/data': src('data'),
      '@purenn/train': src('train'),
      purenn: src('purenn'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts', 'scripts/test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'threads',
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
})
