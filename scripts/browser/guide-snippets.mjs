// The snippets of docs/guides/running-in-the-browser.md, run in Chromium: every ```ts and
// ```ts page block is bundled on its own for the browser (as a user's bundler would, from the
// built packages) and run in a cross-origin isolated page of the browser test's server; it
// must finish with no error. (The ```ts blocks run in Node too, in pnpm doc-examples; the
// ```ts page blocks need a page: document, IndexedDB, a served model.)
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'

export const guideFile = 'docs/guides/running-in-the-browser.md'

/** The guide's ```ts and ```ts page blocks: their first line in the guide and their code. */
export const guideSnippets = (root) => {
  const lines = readFileSync(join(root, guideFile), 'utf8').split('\n')
  const out = []
  let start = -1
  lines.forEach((l, i) => {
    if (start < 0 && /^```ts( page)?\s*$/.test(l)) start = i
    else if (start >= 0 && /^```\s*$/.test(l)) {
      out.push({
        line: start + 1,
        page: /page/.test(lines[start]),
        code: lines.slice(start + 1, i).join('\n'),
      })
      start = -1
    }
  })
  return out
}

/** Bundles each snippet into `dir/guide-<i>.js`; resolves to the snippets. */
export const bundleGuideSnippets = async (root, dir) => {
  const snippets = guideSnippets(root)
  for (const [i, s] of snippets.entries()) {
    await build({
      stdin: {
        // the flag is set once the snippet's last top-level await is done
        contents: `${s.code}\nglobalThis.purennGuideSnippetDone = true\n`,
        loader: 'ts',
        resolveDir: root,
        sourcefile: `${guideFile}:${s.line}`,
      },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outfile: join(dir, `guide-${i}.js`),
      nodePaths: [join(root, 'examples/node_modules'), join(root, 'packages/purenn/node_modules')],
      logLevel: 'silent',
    })
  }
  writeFileSync(join(dir, 'guide-count'), String(snippets.length))
  return snippets
}

/** Runs each bundled snippet in its own isolated page at `${base}/isolated/guide-<i>/`. */
export const checkGuideSnippets = async ({ browser, base, snippets, check }) => {
  for (const [i, s] of snippets.entries()) {
    const tab = await browser.newPage()
    const errors = []
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    tab.on('pageerror', (e) => errors.push(String(e)))
    let done = false
    try {
      await tab.goto(`${base}/isolated/guide-${i}/`)
      await tab.waitForFunction(() => globalThis.purennGuideSnippetDone === true, null, { timeout: 60_000 })
      done = true
    } catch (e) {
      errors.push(String(e).split('\n')[0])
    }
    const body = await tab.evaluate(() => document.body.innerHTML.slice(0, 200)).catch(() => '')
    const drew = i !== 0 || body.includes('<svg')
    check(
      done && errors.length === 0 && drew,
      `${guideFile}:${s.line}${s.page ? ' (page only)' : ''}: runs in the isolated page${errors.length ? `: ${errors.join(' | ')}` : ''}${drew ? '' : ': no SVG in the page'}`,
    )
    await tab.close()
  }
}
