// typedoc plugin of the docs site: the playground (docs/playground/).
// A document links to docs/playground/playground.html, so typedoc copies the page to
// `media/playground.html`; after that (at the end of rendering), this plugin puts what the page loads beside it in
// `media/playground/`: the script (docs/playground/main.ts bundled by esbuild for browsers,
// with the packages' browser entries, from their built `dist/`), the style sheet, and the
// Fashion-MNIST subset (docs/playground/data/, built by `pnpm docs:playground-data`).
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'
import { RendererEvent } from 'typedoc'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const source = join(root, 'docs/playground')

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.renderer.on(
    RendererEvent.END,
    (event) => {
      const media = join(event.outputDirectory, 'media')
      if (!existsSync(join(media, 'playground.html'))) {
        app.logger.error(
          'playground: typedoc did not copy docs/playground/playground.html to media/ (no document links to it)',
        )
        return
      }
      const out = join(media, 'playground')
      mkdirSync(join(out, 'data'), { recursive: true })
      let result
      try {
        result = buildSync({
          entryPoints: [join(source, 'main.ts')],
          bundle: true,
          format: 'esm',
          platform: 'browser',
          target: 'es2022',
          minify: true,
          outfile: join(out, 'playground.js'),
          // the packages as a user's bundler sees them: through their `exports`, browser entries
          nodePaths: [join(root, 'packages/purenn/node_modules'), join(root, 'packages/train/node_modules')],
          // not docs/playground/tsconfig.json, whose `paths` point the type checker at the .d.ts files
          tsconfig: join(root, 'tsconfig.base.json'),
          metafile: true,
          logLevel: 'silent',
        })
      } catch (e) {
        app.logger.error(`playground: esbuild failed (run \`pnpm build\` first?): ${e.message}`)
        return
      }
      const nodeInputs = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('node:'))
      if (nodeInputs.length > 0)
        app.logger.error(`playground: the bundle imports Node modules: ${nodeInputs.join(', ')}`)
      cpSync(join(source, 'playground.css'), join(out, 'playground.css'))
      const files = readdirSync(join(source, 'data')).filter((f) => f.endsWith('.gz'))
      if (files.length !== 4)
        app.logger.error(
          `playground: expected 4 files in docs/playground/data, found ${files.length} (pnpm docs:playground-data)`,
        )
      for (const f of files) cpSync(join(source, 'data', f), join(out, 'data', f))
      app.logger.info(`playground: media/playground.html and media/playground/ written`)
    },
    -100, // after typedoc has copied the linked files to media/
  )
}
