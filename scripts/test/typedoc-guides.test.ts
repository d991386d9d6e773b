import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

// typedoc sorts a glob of documents alphabetically; typedoc.json lists the guides in reading
// order instead, so a new guide must be added there (and to docs/guides/README.md, and to
// the README's list, which scripts/test/readme-guides.test.ts keeps equal to it).
const root = join(import.meta.dirname, '..', '..')

describe('typedoc.json projectDocuments', () => {
  it('lists every guide, in the order of the guide index, with sorting off', () => {
    const config = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8'))
    const documents: string[] = config.projectDocuments
    // the guides, then other documents (docs/format.md)
    const listed = documents.filter((d) => d.startsWith('docs/guides/'))
    expect(documents.slice(0, listed.length)).toEqual(listed)
    expect(documents).toContain('docs/format.md')
    const guides = readdirSync(join(root, 'docs', 'guides')).filter((f) => f.endsWith('.md'))
    expect([...listed].sort()).toEqual(guides.map((f) => `docs/guides/${f}`).sort())
    expect(config.sortEntryPoints).toBe(false)
    const index = readFileSync(join(root, 'docs', 'guides', 'README.md'), 'utf8')
    const linked = [...index.matchAll(/^\s*\d+\. \[[^\]]+\]\(([^)]+\.md)\)/gm)].map(
      (m) => `docs/guides/${m[1]}`,
    )
    expect(listed.slice(1)).toEqual(linked)
  })
})
