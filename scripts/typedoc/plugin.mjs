// typedoc plugin of the docs site:
// - the index page shows the project's title once (typedoc puts the project name above the
//   README, whose own first heading is the same title; its anchor stays, for the table of contents);
// - headings keep their code in the page's table of contents (typedoc takes a heading's text
//   without its inline code: "## `rate` is the probability" became " is the probability").
//   The anchors stay typedoc's, so links written against them keep working;
// - maths typeset by KaTeX (./maths.mjs).
import { MarkdownEvent } from 'typedoc'
import { loadMaths } from './maths.mjs'

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const entities = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" }
const textOf = (html) => html.replace(/<[^>]+>/g, '').replace(/&(amp|lt|gt|quot|#39);/g, (e) => entities[e])

/** @param {import('typedoc').Application} app */
export function load(app) {
  loadMaths(app)
  app.renderer.on(
    MarkdownEvent.PARSE,
    (event) => {
      for (const h of event.page.pageHeadings) {
        const id = escapeRegExp(h.link.slice(1))
        const m = event.parsedText.match(new RegExp(`<h[1-6] id="${id}"[^>]*>([^]*?)<a href="#${id}"`))
        if (m !== null) h.text = textOf(m[1])
      }
      if (event.page.url !== 'index.html') return
      const name = app.options.getValue('name')
      const title = new RegExp(`^\\s*<h1(?: id="([^"]*)")?[^>]*>${name}(<a [^]*?</a>)?</h1>\\s*`)
      // the anchor stays: the page's table of contents links to it
      event.parsedText = event.parsedText.replace(title, (_, id) =>
        id === undefined ? '' : `<a id="${id}"></a>`,
      )
    },
    -100, // after typedoc has turned the markdown into HTML
  )
}
