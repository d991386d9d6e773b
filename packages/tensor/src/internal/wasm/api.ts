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

/** The `WebAssembly` global, or undefined where there is none. */
export const wasmApi = (): WasmApi | undefined => (globalThis as { WebAssembly?: WasmApi }).WebAssembly
