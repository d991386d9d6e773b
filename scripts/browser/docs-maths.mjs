// Part of the browser test (scripts/browser-test.mjs): the docs site (built by `pnpm run docs`,
// served on 127.0.0.1) shows a guide's formulas typeset by KaTeX: the formulas are KaTeX
// output (HTML and MathML), no `$$` or `$\...` source is left in the text, the KaTeX
// stylesheet applies and its fonts load, with no console error and no failed request. A
// screenshot of the guide's formulas goes to out/docs-maths.png.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { extname, join, normalize, resolve, sep } from 'node:path'

const types = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
}

/**
 * @param {{ browser: import('playwright-core').Browser, site: string, out: string,
 *   check: (ok: boolean, what: string) => void }} t  `site` is typedoc's output folder, `out`
 *   where the screenshot goes
 */
export async function checkDocsMaths({ browser, site: builtSite, out, check }) {
  const site = resolve(builtSite)
  const guide = join(site, 'documents', 'Batch_normalization.html')
  if (!existsSync(guide)) {
    check(false, `docs site: no built batch-norm guide in ${site} (run \`pnpm run docs\` first)`)
    return
  }
  const server = createServer((req, res) => {
    if (req.url === '/favicon.ico') {
      res.writeHead(204)
      res.end()
      return
    }
    const path = normalize(join(site, decodeURIComponent(new URL(req.url, 'http://x').pathname)))
    const file = path.endsWith('/') ? join(path, 'index.html') : path
    if (!file.startsWith(site + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404)
      res.end()
      return
    }
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' })
    res.end(readFileSync(file))
  })
  try {
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    const tab = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
    const errors = []
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    tab.on('pageerror', (e) => errors.push(String(e)))
    tab.on('requestfailed', (r) => errors.push(`${r.url()}: ${r.failure()?.errorText}`))
    tab.on('response', (r) => r.status() >= 400 && errors.push(`${r.url()}: HTTP ${r.status()}`))
    const url = `http://127.0.0.1:${server.address().port}/documents/Batch_normalization.html`
    await tab.goto(url, { waitUntil: 'load' })
    // fonts load lazily (a busy machine may not have started them when `fonts.ready` resolves):
    // ask for the two faces the formulas use, then check they are there
    await tab.evaluate(() =>
      Promise.all([document.fonts.load('1em KaTeX_Main'), document.fonts.load('italic 1em KaTeX_Math')]),
    )
    await tab.evaluate(() => document.fonts.ready)
    const r = await tab.evaluate(() => {
      // the page's text outside the formulas and the code, where no TeX source may be left
      const content = document.querySelector('.col-content')?.cloneNode(true)
      for (const e of content?.querySelectorAll('.katex, pre, code') ?? []) e.remove()
      const text = content?.textContent ?? ''
      const katex = document.querySelector('.katex')
      return {
        formulas: document.querySelectorAll('.katex').length,
        displays: document.querySelectorAll('.katex-display').length,
        mathml: document.querySelectorAll('.katex math annotation[encoding="application/x-tex"]').length,
        errors: document.querySelectorAll('.katex-error').length,
        rawDisplay: text.includes('$$'),
        rawInline: /\$\\[a-zA-Z]/.test(text),
        fontFamily: katex === null ? '' : getComputedStyle(katex).fontFamily,
        fontLoaded: document.fonts.check('1em KaTeX_Main') && document.fonts.check('italic 1em KaTeX_Math'),
      }
    })
    check(
      r.formulas >= 10 && r.displays >= 3 && r.mathml === r.formulas && r.errors === 0,
      `docs site: the batch-norm guide's formulas are typeset by KaTeX (${r.formulas} formulas, ${r.displays} displayed, ${r.mathml} with MathML, ${r.errors} errors)`,
    )
    check(!r.rawDisplay && !r.rawInline, 'docs site: no TeX source ($$, $\\...) left in the guide text')
    check(
      r.fontFamily.includes('KaTeX_Main') && r.fontLoaded,
      `docs site: KaTeX's stylesheet applies and its fonts load (font-family ${r.fontFamily}, fonts loaded: ${r.fontLoaded})`,
    )
    mkdirSync(out, { recursive: true })
    await tab.evaluate(() => document.getElementById('the-algorithm')?.scrollIntoView())
    await tab.screenshot({ path: join(out, 'docs-maths.png') })
    check(
      errors.length === 0,
      `docs site: the guide loads with no console error or failed request${errors.length ? `: ${errors.join(' | ')}` : ''}`,
    )
    await tab.close()
  } finally {
    server.close()
  }
}
