import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url))

// Tests run against the TypeScript sources: each workspace package name is aliased to its
// `src/index.ts`, so `pnpm test` needs no build first.
export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^@purenn\/tensor\/internal$/,
        replacement: fileURLToPath(new URL('./packages/tensor/src/internal/index.ts', import.meta.url)),
      },
      ...['tensor', 'layers', 'optim', 'data', 'train', 'testing', 'onnx', 'keras'].map((p) => ({
        find: new RegExp(`^@purenn/${p}$`),
        replacement: src(p),
      })),
      { find: /^purenn$/, replacement: src('purenn') },
    ],
  },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'examples/test/**/*.test.ts',
      'scripts/test/**/*.test.ts',
      'docs/playground/**/*.test.ts',
    ],
    testTimeout: 60_000,
    pool: 'threads',
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
})
