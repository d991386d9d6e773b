/**
 * The part of the WebAssembly JavaScript API the kernels use, typed here because the
 * project's `lib` (ES2022, no DOM) does not declare it. Node >= 16 and every current
 * browser provide it; `wasmApi()` is undefined where WebAssembly is missing.
 */

/** A linear memory; `buffer` is a SharedArrayBuffer when the memory is shared. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer
  grow(pages: number): number
}

/** A compiled module (opaque; can be posted to workers). */
export interface WasmModule {
  readonly __brand?: 'WebAssembly.Module'
}

/** The subset of the `WebAssembly` global the kernels use. */
export interface WasmApi {
  readonly Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory
  readonly Module: new (bytes: Uint8Array) => WasmModule
  readonly Instance: new (
    module: WasmModule,
    imports: { env: { memory: WasmMemory } },
  ) => { readonly exports: Record<string, unknown> }
  validate(bytes: Uint8Array): boolean
}

/**
 * In a worker of the pool: the exports of `module` instantiated on the shared `memory`, made
 * with the first chunk that asks and kept on `globalThis` under `slot` (the only state a
 * shipped function can keep; a worker belongs to one pool, which serves one memory).
 * Self-contained: kernels ship it as a part named `workerExports` (see `pool.ts`), and their
 * worker chunks call it by that name.
 */
export const wasmWorkerExports = <E>(
  slot: string,
  [memory, module]: readonly [WasmMemory, WasmModule],
): E => {
  const g = globalThis as unknown as Record<string, unknown> & { WebAssembly: WasmApi }
  let ex = g[slot] as E | undefined
  if (ex === undefined) {
    ex = new g.WebAssembly.Instance(module, { env: { memory } }).exports as E
    g[slot] = ex
  }
  return ex
}

/** The `WebAssembly` global, or undefined where there is none. */
export const wasmApi = (): WasmApi | undefined => (globalThis as { WebAssembly?: WasmApi }).WebAssembly
