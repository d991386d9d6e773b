// Maths on the docs site: `$...$` (inline) and `$$...$$` (display) in the guides and in TSDoc
// comments are typeset at build time by KaTeX (HTML for the eye, MathML for screen readers and
// copy-paste), through @vscode/markdown-it-katex in typedoc's markdown-it parser. The page
// needs no script: the KaTeX stylesheet and its fonts are copied to assets/katex/ and linked
// from every page. A formula KaTeX cannot typeset (or would typeset with a warning, e.g. a
// Unicode letter in maths mode) is an error that names the page and fails `pnpm run docs`.
// How to write formulas: docs/contributing/formulas.md.
import { cpSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Application, JSX, MarkdownEvent, RendererEvent } from 'typedoc'

const require = createRequire(import.meta.url)
const katex = require('katex')
const markdownItKatexModule = require('@vscode/markdown-it-katex')
const markdownItKatex = markdownItKatexModule.default ?? markdownItKatexModule

/** @param {import('typedoc').Application} app */
export function loadMaths(app) {
  let page = '' // the page being parsed, for the error messages
  app.renderer.on(MarkdownEvent.PARSE, (event) => (page = event.page.url), 100)

  // the markdown-it plugin spreads its own options into KaTeX's; pass KaTeX only ours
  const typeset = {
    renderToString(tex, { displayMode }) {
      try {
        return katex.renderToString(tex, {
          displayMode,
          throwOnError: true,
          strict: 'error',
          output: 'htmlAndMathml',
        })
      } catch (e) {
        app.logger.error(`${page}: KaTeX cannot typeset $${tex}$: ${e instanceof Error ? e.message : e}`)
        throw e // the markdown-it plugin shows the error on the page, the build fails
      }
    },
  }
  // typedoc reads its options again after loading the plugins: add the loader after that
  app.on(Application.EVENT_BOOTSTRAP_END, () => {
    const previous = app.options.getValue('markdownItLoader')
    app.options.setValue('markdownItLoader', (parser) => {
      previous(parser)
      parser.use(markdownItKatex, { katex: typeset })
    })
  })

  app.renderer.hooks.on('head.end', (context) =>
    JSX.createElement(
      JSX.Fragment,
      null,
      JSX.createElement('link', {
        rel: 'stylesheet',
        href: context.relativeURL('assets/katex/katex.min.css', true),
      }),
      // a long display formula or a wide table of formulas scrolls instead of running under the page's menu
      JSX.createElement(
        'style',
        null,
        '.katex-display{overflow-x:auto;overflow-y:hidden}.col-content table{display:block;overflow-x:auto}',
      ),
    ),
  )
  app.renderer.on(RendererEvent.END, (event) => {
    const dist = join(dirname(require.resolve('katex/package.json')), 'dist')
    const out = join(event.outputDirectory, 'assets', 'katex')
    cpSync(join(dist, 'katex.min.css'), join(out, 'katex.min.css'))
    cpSync(join(dist, 'fonts'), join(out, 'fonts'), { recursive: true })
  })
}
