import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

// The kit is plain functions that throw: the same checks run under `node --test` (no vitest,
// no globals). This runs node-test/kit.node-test.ts in a child process and reads its summary.
it('works from a plain node:test suite', () => {
  const dir = fileURLToPath(new URL('./node-test/', import.meta.url))
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', 'kit.node-test.ts'], {
    cwd: dir,
    env: { ...process.env, TSX_TSCONFIG_PATH: `${dir}tsconfig.json`, NODE_OPTIONS: '' },
    encoding: 'utf8',
    timeout: 60_000,
  })
  const out = `${r.stdout}${r.stderr}`
  expect(out).toMatch(/^# pass 3$/m)
  expect(out).toMatch(/^# fail 0$/m)
  expect(r.status, out).toBe(0)
})
