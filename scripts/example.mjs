// `pnpm example NAME` runs examples/NAME.ts with tsx (after the build); without NAME it lists
// them, each with the first line of its header comment as its description.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

/** The first line of the file's leading `/** ... *\/` comment. */
const describe = (name) => {
  const m = /^\/\*\*[ \t]*\r?\n[ \t]*\*[ \t]*(\S.*)$/m.exec(readFileSync(`examples/${name}.ts`, 'utf8'))
  return m?.[1]?.trim() ?? ''
}

const names = readdirSync('examples')
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort()
const name = process.argv[2]
if (name === undefined) {
  const width = Math.max(...names.map((n) => n.length)) + 2
  console.log(
    'Examples (pnpm example NAME [--epochs N] [--subset N]; pnpm example NAME --help lists all the options):',
  )
  for (const n of names) console.log(`  ${n.padEnd(width)}${describe(n)}`)
  process.exit(0)
}
if (!names.includes(name)) {
  console.error(
    `unknown example "${name}". Examples: ${names.join(', ')} (pnpm example alone describes them)`,
  )
  process.exit(2)
}
const r = spawnSync('tsx', [`examples/${name}.ts`, ...process.argv.slice(3)], {
  stdio: 'inherit',
  shell: false,
})
process.exit(r.status ?? 1)
