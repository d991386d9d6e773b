import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

// The README lists the guides too; docs/guides/README.md (the site's guide index) is the
// source, and the README's numbered list must name the same guides, in the same order, with
// the same link texts. A guide added to one list and not the other fails here.
const root = join(import.meta.dirname, '..', '..')

/** The `N. [text](path.md)` items of a numbered list, as `text -> path` with `prefix` removed. */
const numberedLinks = (markdown: string, prefix: string): string[] =>
  [...markdown.matchAll(/^\s*\d+\. \[([^\]]+)\]\(([^)]+\.md)\)/gm)].map(([, text, path]) => {
    if (!path!.startsWith(prefix)) throw new Error(`${path}: expected a link starting with ${prefix}`)
    return `${text} -> ${path!.slice(prefix.length)}`
  })

describe("the README's guide list", () => {
  it('is the guide index: the same guides, link texts and order', () => {
    const index = numberedLinks(readFileSync(join(root, 'docs', 'guides', 'README.md'), 'utf8'), '')
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const start = readme.indexOf('\n## Guides\n')
    expect(start).toBeGreaterThanOrEqual(0)
    const end = readme.indexOf('\n## ', start + 1)
    const section = readme.slice(start, end < 0 ? undefined : end)
    expect(index.length).toBeGreaterThan(10)
    expect(numberedLinks(section, 'docs/guides/')).toEqual(index)
  })
})
