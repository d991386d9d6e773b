#!/usr/bin/env node
// The browser test: bundles the packages for the browser with esbuild (no shims: the
// `browser`/`default` export conditions), serves the page on 127.0.0.1 twice (once
// cross-origin isolated, with COOP/COEP headers, once plain), and in Debian's Chromium
// (driven by playwright-core) trains a tiny model on 1 and 2 threads. Every run must give
// bitwise the weights of the same run in Node; the isolated page must use its Web Workers,
// the plain one must run single-threaded. A screenshot goes to out/browser-test.png.
// Then the docs site and its playground (scripts/browser/docs-site.mjs): links, search, no
// console errors, the playground trains and its accuracy rises; screenshots out/playground.png
// and out/docs-guide.png. Then a guide's formulas typeset by KaTeX (scripts/browser/docs-maths.mjs).
// Last, Debian's firefox-esr (puppeteer-core, WebDriver BiDi): the bundle's page trains to
// Node's weights on 1 and 2 threads, and the playground trains (scripts/browser/firefox.mjs).
// Usage: node scripts/browser-test.mjs   (after `tsc -b` and `pnpm run docs`; CHROMIUM=/path
// and FIREFOX=/path override the browsers, FIREFOX=none leaves Firefox out)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { checkDocsSite } from './browser/docs-site.mjs'
import { checkFirefox } from './browser/firefox.mjs'
import { bundleGuideSnippets, checkGuideSnippets } from './browser/guide-snippets.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium'
if (!existsSync(executablePath)) {
  console.error(`browser test: no Chromium at ${executablePath} (apt-get install -y chromium)`)
  process.exit(1)
}
// Debian's firefox-esr (FIREFOX=/path overrides it, FIREFOX=none leaves Firefox out)
const firefoxPath = process.env.FIREFOX ?? '/usr/bin/firefox-esr'
if (firefoxPath !== 'none' && !existsSync(firefoxPath)) {
  console.error(
    `browser test: no Firefox at ${firefoxPath} (apt-get install -y firefox-esr, or FIREFOX=none)`,
  )
  process.exit(1)
}
const failures = []
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
  if (!ok) failures.push(what)
}

// 1. the bundle, as a user's bundler would make it from the built packages
const scratch = mkdtempSync(join(tmpdir(), 'purenn-browser-'))
const bundled = await build({
  entryPoints: [join(root, 'scripts/browser/page-entry.mjs')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outfile: join(scratch, 'bundle.js'),
  nodePaths: [join(root, 'packages/purenn/node_modules'), join(root, 'packages/train/node_modules')],
  metafile: true,
  logLevel: 'silent',
})
const bundleBytes = readFileSync(join(scratch, 'bundle.js'))
const nodeInputs = Object.keys(bundled.metafile.inputs).filter((f) => f.startsWith('node:'))
check(
  nodeInputs.length === 0,
  `the browser bundle has no Node module (${(bundleBytes.length / 1024).toFixed(0)} KB)`,
)

// the snippets of the guide "Running in the browser", each bundled on its own
const guideSnippets = await bundleGuideSnippets(root, scratch)

// 2. the reference: the same runs in Node, on the built packages
const dist = (pkg, entry = 'index.js') => pathToFileURL(join(root, 'packages', pkg, 'dist', entry)).href
const nodeModules = {
  tensor: await import(dist('tensor')),
  layers: await import(dist('layers')),
  optim: await import(dist('optim')),
  train: await import(dist('train')),
  internal: await import(dist('tensor', 'internal/index.js')),
}
const { trainTiny } = await import(pathToFileURL(join(root, 'scripts/browser/tiny-model.mjs')).href)
const node1 = await trainTiny(nodeModules, 1)
const node2 = await trainTiny(nodeModules, 2)
console.log(
  `node: 1 thread ${node1.fingerprint}, 2 threads ${node2.fingerprint} (${node2.chunksByWorkers} chunks by workers)`,
)
check(node1.fingerprint === node2.fingerprint, 'Node: the same weights on 1 and 2 threads')
nodeModules.tensor.setThreads(1)
// the model Node trained, saved with saveModel, for the page to fetch
const nodeModelDir = join(scratch, 'node-model')
await nodeModules.layers.saveModel(node1.model, nodeModelDir)

// 3. the page, served isolated (COOP + COEP) and plain
const page = `<!doctype html><html><head><meta charset="utf-8"><title>purenn browser test</title></head>
<body><h1>purenn in the browser</h1><pre id="out">running</pre><script type="module" src="bundle.js"></script></body></html>`
const server = createServer((req, res) => {
  const isolated = req.url.startsWith('/isolated/')
  const headers = isolated
    ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
    : {}
  if (req.url.endsWith('/bundle.js')) {
    res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' })
    res.end(bundleBytes)
  } else if (/\/guide-\d+\.js$/.test(req.url)) {
    res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' })
    res.end(readFileSync(join(scratch, req.url.slice(req.url.lastIndexOf('/') + 1))))
  } else if (/\/guide-\d+\/$/.test(req.url)) {
    const n = /guide-(\d+)\/$/.exec(req.url)[1]
    res.writeHead(200, { ...headers, 'Content-Type': 'text/html' })
    res.end(page.replace('src="bundle.js"', `src="../guide-${n}.js"`))
  } else if (req.url.endsWith('/')) {
    res.writeHead(200, { ...headers, 'Content-Type': 'text/html' })
    res.end(page)
  } else if (
    /\/(node-model|models\/fashion-bn)\/(CURRENT|v\d{6,}\/(model\.json|weights\.bin))$/.test(req.url)
  ) {
    // the versioned layout saveModel writes, as a static server would serve it (also where the
    // guide's snippet looks for it)
    const file = join(nodeModelDir, req.url.replace(/^.*\/(node-model|models\/fashion-bn)\//, ''))
    if (existsSync(file)) {
      res.writeHead(200, headers)
      res.end(readFileSync(file))
    } else {
      res.writeHead(404)
      res.end()
    }
  } else if (req.url.endsWith('/favicon.ico')) {
    res.writeHead(204)
    res.end()
  } else {
    res.writeHead(404)
    res.end()
  }
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const base = `http://127.0.0.1:${server.address().port}`

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] })
try {
  for (const mode of ['isolated', 'plain']) {
    const tab = await browser.newPage()
    const errors = []
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    tab.on('pageerror', (e) => errors.push(String(e)))
    await tab.goto(`${base}/${mode}/`)
    await tab.waitForFunction(() => globalThis.purennTest !== undefined, null, { timeout: 30_000 })
    const isolated = await tab.evaluate(() => globalThis.purennTest.isolated)
    check(isolated === (mode === 'isolated'), `${mode} page: crossOriginIsolated is ${isolated}`)
    const namespaces = await tab.evaluate(() => globalThis.purennTest.namespaces)
    check(
      ['data', 'layers', 'optim', 'tensor', 'train'].every((n) => namespaces.includes(n)),
      `${mode} page: purenn bundles (${namespaces.join(', ')})`,
    )
    for (const threads of [1, 2]) {
      await tab.evaluate((n) => globalThis.purennTest.warmUp(n), threads)
      let r
      try {
        r = await tab.evaluate((n) => globalThis.purennTest.run(n), threads)
      } catch (e) {
        await new Promise((resolve) => setTimeout(resolve, 500)) // the workers' messages arrive
        check(
          false,
          `${mode} page, ${threads} thread(s): trains (${String(e).split('\n')[0]}; ${errors.join(' | ')})`,
        )
        continue
      }
      console.log(
        `${mode}, setThreads(${threads}): ${JSON.stringify({ ...r, loss: r.loss.map((v) => v.toFixed(6)) })}`,
      )
      check(
        r.fingerprint === node1.fingerprint,
        `${mode} page, ${threads} thread(s): bitwise the weights of Node (${r.fingerprint})`,
      )
      check(
        JSON.stringify(r.loss) === JSON.stringify(node1.loss),
        `${mode} page, ${threads} thread(s): the loss history of Node`,
      )
      if (mode === 'isolated' && threads === 2)
        check(
          r.threads === 2 && r.platform === 'browser' && r.chunksByWorkers > 0,
          `isolated page: 2 threads on Web Workers (${r.chunksByWorkers} chunks by workers)`,
        )
      if (mode === 'plain')
        check(
          r.threads === 1 && r.platform === 'none',
          `plain page: single-threaded (getThreads() = ${r.threads})`,
        )
    }
    const idxData = [7, 2, 1, 0, 9]
    const { encodeIdx } = await import(dist('data'))
    const gz = encodeIdx({ type: 'uint8', shape: [5], data: Uint8Array.from(idxData) }, { gzip: true })
    const idx = await tab.evaluate((b) => globalThis.purennTest.idx(b), Array.from(gz))
    check(
      JSON.stringify(idx) === JSON.stringify({ shape: [5], data: idxData }),
      `${mode} page: a gzip IDX file decodes with DecompressionStream (${JSON.stringify(idx)})`,
    )
    const stored = await tab.evaluate(() => globalThis.purennTest.storage())
    check(
      stored.indexedDb === stored.trained && stored.url === node1.fingerprint,
      `${mode} page: a model through IndexedDB, and Node's saved model by URL, load bitwise (${JSON.stringify(stored)})`,
    )
    await tab.evaluate((t) => {
      document.getElementById('out').textContent = t
    }, `trained: ${node1.fingerprint}, the same as Node`)
    if (mode === 'isolated') {
      mkdirSync(join(root, 'out'), { recursive: true })
      await tab.screenshot({ path: join(root, 'out', 'browser-test.png') })
    }
    check(
      errors.length === 0,
      `${mode} page: no console errors${errors.length ? `: ${errors.join(' | ')}` : ''}`,
    )
    await tab.close()
  }
  // the guide's snippets, in the isolated page
  await checkGuideSnippets({ browser, base, snippets: guideSnippets, check })
  // the docs site (built by `pnpm run docs`) and its playground
  const site = join(root, JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8')).out)
  await checkDocsSite({ browser, site, out: join(root, 'out'), check })
  // the same site: a guide's formulas typeset by KaTeX (scripts/browser/docs-maths.mjs)
  const { checkDocsMaths } = await import(pathToFileURL(join(root, 'scripts/browser/docs-maths.mjs')).href)
  await checkDocsMaths({ browser, site, out: join(root, 'out'), check })
  // Firefox: the bundle's page and the playground again (scripts/browser/firefox.mjs)
  if (firefoxPath === 'none') console.log('firefox: skipped (FIREFOX=none)')
  else
    await checkFirefox({
      executablePath: firefoxPath,
      bundleBase: base,
      node: node1,
      site,
      out: join(root, 'out'),
      check,
    })
} finally {
  await browser.close()
  server.close()
  rmSync(scratch, { recursive: true, force: true })
}
console.log(`\nbrowser test: ${failures.length === 0 ? 'ok' : `${failures.length} failure(s)`}`)
process.exit(failures.length === 0 ? 0 : 1)
