// typedoc plugin of the docs site: the index page shows the project's title once (typedoc
// puts the project name above the README, whose own first heading is the same title).
import { MarkdownEvent } from 'typedoc'

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.renderer.on(
    MarkdownEvent.PARSE,
    (event) => {
      if (event.page.url !== 'index.html') return
      const name = app.options.getValue('name')
      const title = new RegExp(`^\\s*<h1[^>]*>${name}(<a [^]*?</a>)?</h1>\\s*`)
      event.parsedText = event.parsedText.replace(title, '')
    },
    -100, // after typedoc has turned the markdown into HTML
  )
}
