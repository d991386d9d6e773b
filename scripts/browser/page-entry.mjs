// The page's script: the packages as a browser bundle sees them (esbuild, `browser` and
// `default` export conditions), and the umbrella `purenn` to show that it bundles too.
import * as layers from '@purenn/layers'
import * as optim from '@purenn/optim'
import * as tensor from '@purenn/tensor'
import * as internal from '@purenn/tensor/internal'
import * as train from '@purenn/train'
import * as purenn from '../../packages/purenn/dist/index.js'
import { trainTiny } from './tiny-model.mjs'

globalThis.purennTest = {
  isolated: globalThis.crossOriginIsolated === true,
  namespaces: Object.keys(purenn).sort(),
  run: (threads) => trainTiny({ tensor, layers, optim, train, internal }, threads),
  /** Builds the pool and lets its workers start (they need the page's event loop once). */
  warmUp: async (threads) => {
    tensor.setThreads(threads)
    tensor.matmul(tensor.ones([64, 512]), tensor.ones([512, 64]))
    await new Promise((resolve) => setTimeout(resolve, 500))
  },
}
