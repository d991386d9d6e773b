import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { format } from 'node:util'
import { expect, it, vi } from 'vitest'

// The ```ts snippets of docs/guides/testing-your-own-layer.md run in order, as one script
// (imports merged at the top); each `console.log(...) // expected` must print `expected`.
const guide = new URL('../../../docs/guides/testing-your-own-layer.md', import.meta.url)

it('the snippets of the guide "Testing your own layer" run and print what they say', async () => {
  const text = readFileSync(guide, 'utf8')
  const blocks = [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!)
  expect(blocks.length).toBeGreaterThan(4)
  const imports = new Map<string, Set<string>>()
  const defaults = new Set<string>()
  const body: string[] = []
  const expected: string[] = []
  for (const line of blocks.join('\n').split('\n')) {
    const named = /^import (type )?\{ (.*) \} from '(.*)'$/.exec(line)
    const dflt = /^import (\w+) from '(.*)'$/.exec(line)
    if (named) {
      const set = imports.get(named[3]!) ?? new Set<string>()
      for (const n of named[2]!.split(', ')) set.add(named[1] && !n.startsWith('type ') ? `type ${n}` : n)
      imports.set(named[3]!, set)
    } else if (dflt) defaults.add(line)
    else {
      if (line.startsWith('import ')) throw new Error(`guide: write imports on one line: ${line}`)
      body.push(line)
      const check = /^console\.log\(.*\) \/\/ (.*)$/.exec(line)
      if (check) expected.push(check[1]!)
    }
  }
  const module = [
    ...defaults,
    ...[...imports].map(([from, names]) => `import { ${[...names].join(', ')} } from '${from}'`),
    ...body,
  ].join('\n')
  const dir = new URL('./.guide/', import.meta.url)
  mkdirSync(dir, { recursive: true })
  const file = new URL('testing-your-own-layer.ts', dir)
  writeFileSync(file, `// generated from docs/guides/testing-your-own-layer.md by guide.test.ts\n${module}\n`)
  const printed: string[] = []
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    printed.push(format(...args).trim())
  })
  try {
    await import(/* @vite-ignore */ file.pathname)
  } finally {
    spy.mockRestore()
  }
  expect(printed).toEqual(expected)
})
