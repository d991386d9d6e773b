// `pnpm example NAME` runs examples/NAME.ts with tsx (after the build); without NAME it lists them.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'

const names = readdirSync('examples')
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
const name = process.argv[2]
if (name === undefined || !names.includes(name)) {
  console.error(`${name === undefined ? '' : `unknown example "${name}". `}Examples: ${names.join(', ')}`)
  process.exit(name === undefined ? 0 : 2)
}
const r = spawnSync('tsx', [`examples/${name}.ts`, ...process.argv.slice(3)], {
  stdio: 'inherit',
  shell: false,
})
process.exit(r.status ?? 1)
