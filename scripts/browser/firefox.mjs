// The browser test's Firefox part (called by scripts/browser-test.mjs after Chromium):
// Debian's firefox-esr, headless, driven by puppeteer-core over WebDriver BiDi (playwright-core
// drives only its own patched Firefox builds, which cannot be downloaded here).
// - the browser bundle's page, served cross-origin isolated and plain, trains the tiny model
//   with setThreads(1) and setThreads(2) to bitwise the weights and loss history of Node
//   (the isolated page on its Web Workers, the plain one single-threaded), with no console error;
// - the docs site's playground, served isolated, loads its data and its model summary, trains
//   one epoch with its test accuracy rising, with no console error or failed request.
// A screenshot of the trained playground goes to out/playground-firefox.png.
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import puppeteer from 'puppeteer-core'
import { serveStatic } from './docs-site.mjs'

/** A new tab with its console errors, uncaught errors and failed requests collected. */
const openTab = async (browser, url) => {
  const tab = await browser.newPage()
  await tab.setViewport({ width: 1200, height: 900 })
  const errors = []
  tab.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`))
  tab.on('pageerror', (e) => errors.push(`uncaught: ${String(e)}`))
  tab.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`))
  tab.on('response', (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`))
  await tab.goto(url, { waitUntil: 'load' })
  return { tab, errors }
}

/** The tiny model on 1 and 2 threads in the bundle's page, in one serving mode. */
const trainBundle = async (browser, base, mode, node, check) => {
  const { tab, errors } = await openTab(browser, `${base}/${mode}/`)
  try {
    await tab.waitForFunction(() => globalThis.purennTest !== undefined, { timeout: 30_000 })
    const isolated = await tab.evaluate(() => globalThis.purennTest.isolated)
    check(isolated === (mode === 'isolated'), `firefox, ${mode} page: crossOriginIsolated is ${isolated}`)
    for (const threads of [1, 2]) {
      await tab.evaluate((n) => globalThis.purennTest.warmUp(n), threads)
      let r
      try {
        r = await tab.evaluate((n) => globalThis.purennTest.run(n), threads)
      } catch (e) {
        check(false, `firefox, ${mode} page, ${threads} thread(s): trains (${String(e).split('\n')[0]})`)
        continue
      }
      console.log(
        `firefox, ${mode}, setThreads(${threads}): ${r.fingerprint}, ${r.chunksByWorkers} chunks by workers`,
      )
      check(
        r.fingerprint === node.fingerprint && JSON.stringify(r.loss) === JSON.stringify(node.loss),
        `firefox, ${mode} page, ${threads} thread(s): bitwise the weights and loss history of Node (${r.fingerprint})`,
      )
      if (mode === 'isolated' && threads === 2)
        check(
          r.threads === 2 && r.platform === 'browser' && r.chunksByWorkers > 0,
          `firefox, isolated page: 2 threads on Web Workers (${r.chunksByWorkers} chunks by workers)`,
        )
      if (mode === 'plain')
        check(r.threads === 1 && r.platform === 'none', `firefox, plain page: single-threaded (${r.threads})`)
    }
    check(
      errors.length === 0,
      `firefox, ${mode} page: no console errors${errors.length ? `: ${errors.join(' | ')}` : ''}`,
    )
  } finally {
    await tab.close()
  }
}

/** The docs site's playground, served isolated: loads, trains one epoch, accuracy rises. */
const trainPlayground = async (browser, site, out, check) => {
  if (!existsSync(join(site, 'media/playground.html'))) {
    check(false, `firefox: no built playground in ${site} (run \`pnpm run docs\` first)`)
    return
  }
  const { server, base } = await serveStatic(resolve(site))
  const { tab, errors } = await openTab(browser, `${base}/isolated/media/playground.html`)
  try {
    await tab.waitForFunction(() => globalThis.purennPlayground?.state !== 'loading', { timeout: 30_000 })
    const ready = await tab.evaluate(() => ({
      ...globalThis.purennPlayground,
      isolated: crossOriginIsolated,
    }))
    const summary = await tab.$eval('#summary', (e) => e.textContent)
    check(
      ready.state === 'ready' && ready.isolated && summary.includes('Total params: 271,346'),
      `firefox, playground: loads its data and the model summary, isolated on ${ready.threads} thread(s) (${ready.error ?? ready.state})`,
    )
    if (ready.state !== 'ready') return
    await tab.$eval('#epochs', (e) => {
      e.value = '1'
      e.dispatchEvent(new Event('input', { bubbles: true }))
      e.dispatchEvent(new Event('change', { bubbles: true }))
    })
    const started = Date.now()
    await tab.click('#train')
    await tab.waitForFunction(
      () => ['done', 'stopped', 'error'].includes(globalThis.purennPlayground.state),
      {
        timeout: 120_000,
      },
    )
    const r = await tab.evaluate(() => globalThis.purennPlayground)
    const [before, after] = [r.evaluations[0], r.evaluations.at(-1)]
    console.log(
      `firefox, playground: ${r.steps} steps in ${((Date.now() - started) / 1000).toFixed(1)} s, test accuracy ${before?.accuracy.toFixed(3)} -> ${after?.accuracy.toFixed(3)}`,
    )
    check(
      r.state === 'done' && r.steps === 63 && after !== undefined && after.accuracy >= before.accuracy + 0.3,
      `firefox, playground: one epoch of 63 steps, test accuracy up by at least 0.3 (${r.error ?? r.state})`,
    )
    await tab.screenshot({ path: join(out, 'playground-firefox.png'), fullPage: true })
    check(
      errors.length === 0,
      `firefox, playground: no console errors${errors.length ? `: ${errors.join(' | ')}` : ''}`,
    )
  } finally {
    await tab.close()
    server.close()
  }
}

/**
 * The Firefox checks. `bundleBase` serves the bundle's page under `/isolated/` and `/plain/`,
 * `node` is Node's run of the tiny model on one thread, `site` the built docs site, `out`
 * where the screenshot goes, `check` the test's `(ok, what) => void`.
 */
export const checkFirefox = async ({ executablePath, bundleBase, node, site, out, check }) => {
  const started = Date.now()
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath, headless: true })
  try {
    console.log(`firefox: ${await browser.version()}`)
    for (const mode of ['isolated', 'plain']) await trainBundle(browser, bundleBase, mode, node, check)
    await trainPlayground(browser, site, out, check)
  } finally {
    await browser.close()
  }
  console.log(`firefox: ${((Date.now() - started) / 1000).toFixed(1)} s`)
}
