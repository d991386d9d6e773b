// The page's script: the packages as a browser bundle sees them (esbuild, `browser` and
// `default` export conditions), and the umbrella `purenn` to show that it bundles too.
import * as data from '@purenn/data'
import * as layers from '@purenn/layers'
import * as optim from '@purenn/optim'
import * as tensor from '@purenn/tensor'
import * as internal from '@purenn/tensor/internal'
import * as train from '@purenn/train'
import * as purenn from '../../packages/purenn/dist/index.js'
import { fingerprint, trainTiny } from './tiny-model.mjs'

globalThis.purennTest = {
  isolated: globalThis.crossOriginIsolated === true,
  namespaces: Object.keys(purenn).sort(),
  run: async (threads) => {
    const { model, ...report } = await trainTiny({ tensor, layers, optim, train, internal }, threads)
    return report
  },
  /** The trained model through IndexedDB, and the model Node saved, fetched from the server. */
  storage: async () => {
    const { model } = await trainTiny({ tensor, layers, optim, train, internal }, 1)
    await layers.saveModelToIndexedDB(model, 'tiny')
    const back = await layers.loadModelFromIndexedDB('tiny')
    const fromNode = await layers.loadModelFromUrl(new URL('../node-model/', location.href).href)
    return {
      trained: fingerprint(tensor, model),
      indexedDb: fingerprint(tensor, back),
      url: fingerprint(tensor, fromNode),
    }
  },
  /** An IDX file, gzip-compressed, decoded with DecompressionStream. */
  idx: async (bytes) => {
    const r = await data.decodeIdxAsync(new Uint8Array(bytes), 'labels-idx1-ubyte.gz')
    return r._tag === 'Right' ? { shape: r.right.shape, data: Array.from(r.right.data) } : r.left
  },
  /** Builds the pool and lets its workers start (they need the page's event loop once). */
  warmUp: async (threads) => {
    tensor.setThreads(threads)
    tensor.matmul(tensor.ones([64, 512]), tensor.ones([512, 64]))
    await new Promise((resolve) => setTimeout(resolve, 500))
  },
}
