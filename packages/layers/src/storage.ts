import type { Model } from './model.js'
import {
  decodeModel,
  encodeModel,
  type LoadModelOptions,
  type ModelFiles,
  type ModelJson,
  parseModelJson,
} from './modelFormat.js'

// Saving and loading without a file system: URLs (fetch), Blobs and Files, IndexedDB. The
// format is the one of saveModel (model.json + weights.bin), so a model saved by Node loads in
// a browser and back.

/**
 * Options of {@link loadModelFromUrl}.
 *
 * @example
 * ```ts
 * import type { LoadModelFromUrlOptions } from '@purenn/layers'
 * const opts: LoadModelFromUrlOptions = { fetch: globalThis.fetch }
 * console.log(typeof opts.fetch) // function
 * ```
 * @category Saving
 */
export interface LoadModelFromUrlOptions extends LoadModelOptions {
  /** The `fetch` to use (default the global one). */
  readonly fetch?: (url: string) => Promise<{
    readonly ok: boolean
    readonly status: number
    text(): Promise<string>
    arrayBuffer(): Promise<ArrayBuffer>
  }>
}

/**
 * Loads a model from the URL of a directory saved by `saveModel` (served as files):
 * `<url>/model.json` and `<url>/weights.bin` are fetched and decoded with every check of
 * {@link decodeModel}. When `<url>/CURRENT` is served (the versioned layout `saveModel`
 * writes), the files are read from the version it names, `<url>/v000001/` say.
 *
 * @param url - the directory's URL, with or without a final `/`
 * @param opts - `{ customLayers?, fetch? }`
 * @returns the model as saved
 * @throws Error (a rejected promise) naming the file and the HTTP status, or the first
 * problem in the files.
 * @example
 * ```ts
 * import { dense, encodeModel, initModel, loadModelFromUrl } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const files = encodeModel(initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] }))
 * const served: Record<string, string | Uint8Array> = {
 *   'https://example.org/m/model.json': files.modelJson,
 *   'https://example.org/m/weights.bin': files.weightsBin,
 * }
 * const fetch = async (url: string) => new Response(served[url] ?? null, { status: url in served ? 200 : 404 })
 * const model = await loadModelFromUrl('https://example.org/m', { fetch })
 * console.log(model.inputShape) // [ 3 ]
 * ```
 * @category Saving
 */
export const loadModelFromUrl = async (url: string, opts: LoadModelFromUrlOptions = {}): Promise<Model> => {
  const fetchFn = opts.fetch ?? globalThis.fetch
  const dir = url.endsWith('/') ? url : `${url}/`
  // the versioned layout: CURRENT names the published folder; without it, the flat layout
  const current = await fetchFn(`${dir}CURRENT`).then(
    async (res) => (res.ok ? (await res.text()).trim() : undefined),
    () => undefined,
  )
  if (current !== undefined && !/^v\d{6,}$/.test(current))
    throw new Error(
      `CURRENT: expected the name of a published version (v000001, ...), got ${JSON.stringify(current.slice(0, 40))}`,
    )
  const base = current === undefined ? dir : `${dir}${current}/`
  const get = async (file: string) => {
    const res = await fetchFn(`${base}${file}`).catch((e: Error) => {
      throw new Error(`${file}: cannot fetch ${base}${file}: ${e.message}`)
    })
    if (!res.ok) throw new Error(`${file}: cannot fetch ${base}${file}: HTTP status ${res.status}`)
    return res
  }
  const modelJson = await (await get('model.json')).text()
  const json = parseModelJson(modelJson)
  if (json.shards === undefined) {
    const weightsBin = new Uint8Array(await (await get('weights.bin')).arrayBuffer())
    return decodeModel({ modelJson, weightsBin }, opts)
  }
  // a save in shards (format version 3): each fetched, its size checked, then put end to end
  checkMaxBytes(json, opts)
  const shards: Uint8Array[] = []
  for (const { path } of json.shards) shards.push(new Uint8Array(await (await get(path)).arrayBuffer()))
  return decodeModel({ modelJson, weightsBin: joinShards(json, shards) }, opts)
}

/** Throws when the weights are more than `maxBytes`, before any of them is read. */
const checkMaxBytes = (json: ModelJson, opts: LoadModelOptions): void => {
  const maxBytes = opts.maxBytes ?? 16 * 2 ** 30
  if (json.byteLength > maxBytes)
    throw new Error(
      `model.json: byteLength: ${json.byteLength} bytes of weights, more than maxBytes (${maxBytes})`,
    )
}

/** Checks each shard's size against the manifest, then puts the shards end to end. */
const joinShards = (json: ModelJson, shards: readonly { readonly byteLength: number }[]): Uint8Array => {
  const list = json.shards ?? []
  if (shards.length !== list.length)
    throw new Error(`model.json: shards: lists ${list.length} weight files, ${shards.length} were given`)
  list.forEach(({ path, byteLength }, k) => {
    if (shards[k]!.byteLength !== byteLength)
      throw new Error(
        `${path}: expected ${byteLength} bytes (from model.json), found ${shards[k]!.byteLength}`,
      )
  })
  const out = new Uint8Array(json.byteLength)
  let at = 0
  for (const sh of shards as readonly Uint8Array[]) {
    out.set(sh, at)
    at += sh.byteLength
  }
  return out
}

/**
 * The two files of a model as Blobs (for a download link, a `FormData` upload, or a file
 * picker's save), with the media types `application/json` and `application/octet-stream`.
 *
 * @example
 * ```ts
 * import { dense, initModel, modelToBlobs } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const { weightsBin } = modelToBlobs(initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] }))
 * console.log(weightsBin.size) // 32
 * ```
 * @category Saving
 */
export const modelToBlobs = (model: Model): { readonly modelJson: Blob; readonly weightsBin: Blob } => {
  const { modelJson, weightsBin } = encodeModel(model)
  return {
    modelJson: new Blob([modelJson], { type: 'application/json' }),
    weightsBin: new Blob([weightsBin as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
  }
}

/**
 * Loads a model from Blobs or Files (say, from an `<input type="file" multiple>`): the
 * `model.json` and the `weights.bin` of a saved model, with every check of {@link decodeModel}.
 * A model saved in shards (format version 3, see `saveModel`'s `shardBytes`) gives its shards,
 * in the order `model.json` lists them, as `weightShards`; their sizes are checked before
 * they are read.
 *
 * @example
 * ```ts
 * import { dense, initModel, loadModelFromBlobs, modelToBlobs } from '@purenn/layers'
 * import { key } from '@purenn/tensor'
 * const model = await loadModelFromBlobs(modelToBlobs(initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] })))
 * console.log(model.inputShape) // [ 3 ]
 * ```
 * @category Saving
 */
export const loadModelFromBlobs = async (
  blobs: { readonly modelJson: Blob; readonly weightsBin?: Blob; readonly weightShards?: readonly Blob[] },
  opts: LoadModelOptions = {},
): Promise<Model> => {
  const modelJson = await blobs.modelJson.text()
  const json = parseModelJson(modelJson)
  if (json.shards === undefined) {
    if (blobs.weightsBin === undefined) throw new Error('loadModelFromBlobs: weightsBin: missing')
    return decodeModel({ modelJson, weightsBin: new Uint8Array(await blobs.weightsBin.arrayBuffer()) }, opts)
  }
  if (blobs.weightShards === undefined)
    throw new Error(
      `loadModelFromBlobs: model.json lists ${json.shards.length} weight shards: pass them as weightShards`,
    )
  checkMaxBytes(json, opts)
  joinShards(
    json,
    blobs.weightShards.map((b) => ({ byteLength: b.size })),
  ) // sizes, before reading
  const shards: Uint8Array[] = []
  for (const b of blobs.weightShards) shards.push(new Uint8Array(await b.arrayBuffer()))
  return decodeModel({ modelJson, weightsBin: joinShards(json, shards) }, opts)
}

// ---------------------------------------------------------------------------------------
// IndexedDB: one object store of ModelFiles records, keyed by name

/** The parts of IndexedDB used here (the DOM types are not assumed). */
interface IdbRequest<T> {
  result: T
  error: { message: string } | null
  onsuccess: (() => void) | null
  onerror: (() => void) | null
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null
}
interface IdbDatabase {
  readonly objectStoreNames: { contains(name: string): boolean }
  createObjectStore(name: string): unknown
  transaction(store: string, mode: 'readonly' | 'readwrite'): IdbTransaction
  close(): void
}
interface IdbTransaction {
  objectStore(name: string): {
    put(value: unknown, key: string): IdbRequest<unknown>
    get(key: string): IdbRequest<unknown>
  }
  oncomplete: (() => void) | null
  onerror: (() => void) | null
  error: { message: string } | null
}
interface IdbFactory {
  open(name: string, version: number): IdbOpenRequest
}

const STORE = 'models'

const openDb = (dbName: string): Promise<IdbDatabase> => {
  const idb = (globalThis as { indexedDB?: IdbFactory }).indexedDB
  if (idb === undefined) return Promise.reject(new Error('IndexedDB is not available here'))
  return new Promise((resolve, reject) => {
    const req = idb.open(dbName, 1)
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE)
    }
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(new Error(`IndexedDB ${dbName}: ${req.error?.message ?? 'cannot open'}`))
  })
}

/**
 * Options of {@link saveModelToIndexedDB} and {@link loadModelFromIndexedDB}.
 *
 * @example
 * ```ts
 * import type { IndexedDbOptions } from '@purenn/layers'
 * const opts: IndexedDbOptions = { dbName: 'my-app-models' }
 * console.log(opts.dbName) // my-app-models
 * ```
 * @category Saving
 */
export interface IndexedDbOptions {
  /** The database. Default `'purenn'`. */
  readonly dbName?: string
}

/**
 * Saves a model in the browser's IndexedDB under `name` (replacing a model of that name), as
 * the two files of the purenn format, in one transaction: a reader sees the old model or the
 * new one.
 *
 * @example
 * ```ts
 * import { saveModelToIndexedDB } from '@purenn/layers'
 * console.log(typeof saveModelToIndexedDB) // function
 * // in a page: await saveModelToIndexedDB(model, 'fashion-mnist-bn')
 * ```
 * @category Saving
 */
export const saveModelToIndexedDB = async (
  model: Model,
  name: string,
  opts: IndexedDbOptions = {},
): Promise<void> => {
  const files = encodeModel(model) // an error here writes nothing
  const db = await openDb(opts.dbName ?? 'purenn')
  try {
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(STORE, 'readwrite')
      tx.objectStore(STORE).put(files, name)
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(new Error(`saveModelToIndexedDB ${name}: ${tx.error?.message ?? 'failed'}`))
    })
  } finally {
    db.close()
  }
}

/**
 * Loads a model saved by {@link saveModelToIndexedDB}, with every check of {@link decodeModel}.
 *
 * @example
 * ```ts
 * import { loadModelFromIndexedDB } from '@purenn/layers'
 * const err = await loadModelFromIndexedDB('nothing').then(() => 'loaded', (e: Error) => e.message)
 * console.log(err) // IndexedDB is not available here
 * ```
 * @category Saving
 */
export const loadModelFromIndexedDB = async (
  name: string,
  opts: IndexedDbOptions & LoadModelOptions = {},
): Promise<Model> => {
  const db = await openDb(opts.dbName ?? 'purenn')
  let record: unknown
  try {
    record = await new Promise<unknown>((resolve, reject) => {
      const req = db.transaction(STORE, 'readonly').objectStore(STORE).get(name)
      req.onsuccess = () => resolve(req.result)
      req.onerror = () =>
        reject(new Error(`loadModelFromIndexedDB ${name}: ${req.error?.message ?? 'failed'}`))
    })
  } finally {
    db.close()
  }
  const r = record as Partial<ModelFiles> | undefined
  if (r === undefined || typeof r.modelJson !== 'string' || !(r.weightsBin instanceof Uint8Array))
    throw new Error(`loadModelFromIndexedDB: no model named "${name}" in ${opts.dbName ?? 'purenn'}`)
  return decodeModel({ modelJson: r.modelJson, weightsBin: r.weightsBin }, opts)
}
