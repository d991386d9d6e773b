// The docs site and its playground, checked in Chromium (called by scripts/browser-test.mjs):
// - every internal link and anchor of the built site (typedoc's `out`) resolves;
// - the index, a guide and the playground load with no console errors and no failed request;
// - the site's search finds `batchNormalization`;
// - the playground, served cross-origin isolated (COOP + COEP) and plain, trains one epoch of
//   the chapter's batch-norm model and its test accuracy rises;
// - screenshots of the playground and of a guide go to out/.
// The site must have been built first (`pnpm run docs`, which .ci/run runs before this test).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { extname, join, normalize, relative, resolve, sep } from 'node:path'

const contentTypes = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.gz': 'application/gzip',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
}

/**
 * A static server of `dir` on 127.0.0.1: under `/isolated/` with the headers that make a page
 * cross-origin isolated, under `/plain/` without them (as GitHub Pages serves a site).
 */
export const serveStatic = async (dir) => {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost')
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204)
      res.end()
      return
    }
    const [, mode, ...rest] = url.pathname.split('/')
    const file = normalize(join(dir, decodeURIComponent(rest.join('/'))))
    const inside = file === dir || file.startsWith(dir + sep)
    const path = inside && existsSync(file) && statSync(file).isDirectory() ? join(file, 'index.html') : file
    if ((mode !== 'isolated' && mode !== 'plain') || !inside || !existsSync(path)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' })
      res.end('not found')
      return
    }
    res.writeHead(200, {
      'Content-Type': contentTypes[extname(path)] ?? 'application/octet-stream',
      ...(mode === 'isolated'
        ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
        : {}),
    })
    res.end(readFileSync(path))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return { server, base: `http://127.0.0.1:${server.address().port}` }
}

const htmlFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? htmlFiles(join(dir, e.name)) : e.name.endsWith('.html') ? [join(dir, e.name)] : [],
  )

const idsOf = (html) => new Set([...html.matchAll(/\s(?:id|name)="([^"]+)"/g)].map((m) => m[1]))

/** Every `href`/`src` of every page that stays inside the site, checked without a browser. */
const brokenLinks = (site) => {
  const pages = htmlFiles(site)
  const ids = new Map()
  const idsFor = (file) => {
    if (!ids.has(file)) ids.set(file, idsOf(readFileSync(file, 'utf8')))
    return ids.get(file)
  }
  const broken = []
  let count = 0
  for (const page of pages) {
    const html = readFileSync(page, 'utf8')
    for (const [, attr, raw] of html.matchAll(/\s(href|src)="([^"]*)"/g)) {
      if (raw === '' || raw === '#' || /^[a-z][a-z0-9+.-]*:/i.test(raw) || raw.startsWith('//')) continue
      const link = raw.replace(/&amp;/g, '&')
      const [pathAndQuery, fragment] = link.split('#')
      const target = pathAndQuery === '' ? page : resolve(page, '..', pathAndQuery.split('?')[0])
      count++
      const where = `${relative(site, page)}: ${attr}="${raw}"`
      if (!existsSync(target)) broken.push(`${where} (no such file)`)
      else if (fragment !== undefined && fragment !== '' && target.endsWith('.html')) {
        if (!idsFor(target).has(decodeURIComponent(fragment))) broken.push(`${where} (no such anchor)`)
      }
    }
  }
  return { pages: pages.length, count, broken }
}

/** A page opened in a new tab, with its console errors, uncaught errors and failed requests. */
const openPage = async (browser, url) => {
  const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } })
  const errors = []
  tab.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`))
  tab.on('pageerror', (e) => errors.push(`uncaught: ${String(e)}`))
  tab.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`))
  tab.on('response', (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`))
  await tab.goto(url, { waitUntil: 'load' })
  return { tab, errors }
}

/** The playground, one epoch of training, in one serving mode; returns its report. */
const trainInPlayground = async (browser, base, mode, check, screenshot) => {
  const { tab, errors } = await openPage(browser, `${base}/${mode}/media/playground.html`)
  try {
    await tab.waitForFunction(() => globalThis.purennPlayground?.state !== 'loading', null, {
      timeout: 30_000,
    })
    const ready = await tab.evaluate(() => ({
      ...globalThis.purennPlayground,
      isolated: globalThis.crossOriginIsolated,
    }))
    check(
      ready.state === 'ready',
      `playground (${mode}): loads the Fashion-MNIST subset (${ready.error ?? ready.state})`,
    )
    if (ready.state !== 'ready') return undefined
    check(
      ready.isolated === (mode === 'isolated') &&
        (mode === 'plain' ? ready.threads === 1 : ready.threads >= 1),
      `playground (${mode}): crossOriginIsolated ${ready.isolated}, ${ready.threads} thread(s)`,
    )
    const summary = await tab.textContent('#summary')
    check(
      summary.includes('Total params: 271,346'),
      "playground: the summary of the chapter's first BN model (271,346 params)",
    )
    await tab.fill('#epochs', '1')
    const started = Date.now()
    await tab.click('#train')
    await tab.waitForFunction(
      () => ['done', 'stopped', 'error'].includes(globalThis.purennPlayground.state),
      null,
      {
        timeout: 120_000,
      },
    )
    const seconds = (Date.now() - started) / 1000
    const r = await tab.evaluate(() => globalThis.purennPlayground)
    const [before, after] = [r.evaluations[0], r.evaluations.at(-1)]
    console.log(
      `playground (${mode}): ${r.steps} steps in ${seconds.toFixed(1)} s, test accuracy ${before?.accuracy.toFixed(3)} -> ${after?.accuracy.toFixed(3)}, loss ${before?.loss.toFixed(3)} -> ${after?.loss.toFixed(3)}`,
    )
    check(
      r.state === 'done' && r.steps === 63 && r.evaluations.length === 2,
      `playground (${mode}): one epoch, 63 steps of 32 images (${r.error ?? r.state})`,
    )
    // before training the test accuracy is near chance (0.1); one epoch of SGD takes it well past 0.5
    check(
      after !== undefined && after.accuracy >= before.accuracy + 0.3 && after.loss < before.loss,
      `playground (${mode}): test accuracy rises by at least 0.3 and the loss falls`,
    )
    const cards = await tab.$$eval('#predictions figure', (fs) => fs.length)
    const stds = await tab.$$eval('#predictions .label', (ls) =>
      ls.map((l) => Number(l.textContent.split('±')[1])).filter((v) => v > 0),
    )
    check(cards === 8 && stds.length > 0, `playground (${mode}): 8 test images with MC-dropout mean ± std`)
    // each class's text sits clear of its bar and its ± std error bar (they used to cross it)
    const crossings = await tab.$$eval('#predictions .bar', (rows) =>
      rows.flatMap((row) => {
        const text = row.querySelector('.label').getBoundingClientRect()
        return [...row.querySelectorAll('.fill, .band')].flatMap((e) => {
          const r = e.getBoundingClientRect()
          const overlap =
            r.width > 0 &&
            r.left < text.right &&
            r.right > text.left &&
            r.top < text.bottom &&
            r.bottom > text.top
          return overlap ? [`${row.querySelector('.label').textContent} (${e.className})`] : []
        })
      }),
    )
    check(
      crossings.length === 0,
      `playground (${mode}): no bar or ± std line drawn over a label${crossings.length ? `: ${crossings.slice(0, 4).join(', ')}${crossings.length > 4 ? ', ...' : ''}` : ''}`,
    )
    const charts = await tab.$$eval('#curves svg', (s) => s.length)
    check(charts === 2, `playground (${mode}): the loss and accuracy curves are drawn`)
    if (screenshot !== undefined) await tab.screenshot({ path: screenshot, fullPage: true })
    check(
      errors.length === 0,
      `playground (${mode}): no console errors${errors.length ? `: ${errors.join(' | ')}` : ''}`,
    )
    return r
  } finally {
    await tab.close()
  }
}

/**
 * The docs-site checks. `site` is typedoc's output folder, `out` where screenshots go, `check`
 * the test's `(ok, what) => void`.
 */
export const checkDocsSite = async ({ browser, site, out, check }) => {
  const pages = ['index.html', 'documents/Batch_normalization.html', 'documents/Playground.html']
  if (![...pages, 'media/playground.html'].every((p) => existsSync(join(site, p)))) {
    check(false, `docs site: no built site with the playground in ${site} (run \`pnpm run docs\` first)`)
    return
  }
  mkdirSync(out, { recursive: true })
  const links = brokenLinks(site)
  check(
    links.broken.length === 0,
    `docs site: ${links.count} internal links in ${links.pages} pages resolve${links.broken.length ? `:\n  ${links.broken.slice(0, 20).join('\n  ')}` : ''}`,
  )
  const { server, base } = await serveStatic(resolve(site))
  try {
    for (const page of pages) {
      const { tab, errors } = await openPage(browser, `${base}/plain/${page}`)
      await tab.waitForLoadState('networkidle')
      if (page.includes('Batch_normalization')) await tab.screenshot({ path: join(out, 'docs-guide.png') })
      if (page === 'index.html') {
        await tab.click('#tsd-search-trigger')
        await tab.fill('#tsd-search-input', 'batchNormalization')
        const hit = await tab
          .waitForFunction(
            () =>
              [...document.querySelectorAll('#tsd-search-results li a')].some((a) =>
                /batchNormalization/.test(a.textContent ?? ''),
              ),
            null,
            { timeout: 10_000 },
          )
          .then(
            () => true,
            () => false,
          )
        check(hit, 'docs site: the search finds batchNormalization')
      }
      check(
        errors.length === 0,
        `docs site: ${page} loads with no console errors${errors.length ? `: ${errors.join(' | ')}` : ''}`,
      )
      await tab.close()
    }
    await trainInPlayground(browser, base, 'isolated', check, join(out, 'playground.png'))
    await trainInPlayground(browser, base, 'plain', check, undefined)
  } finally {
    server.close()
  }
}
