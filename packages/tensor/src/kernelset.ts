import { type KernelSet, kernelSet, setKernelSet } from './internal/kernel-set.js'

export type { KernelSet }

/**
 * Chooses the kernel set heavy ops run on (matrix products, the fused dense epilogue,
 * batch norm, softmax and its crossentropy, elementwise ops and sums of 256 elements or
 * more, and the optimizers' update passes): `'wasm'`, WebAssembly SIMD kernels generated at
 * start-up by purenn's own small assembler, or `'js'`, the plain TypeScript kernels the
 * guides teach from. The kernels guide lists how each pair agrees (many bitwise, sums and
 * `exp`/`log` within stated bounds).
 *
 * @remarks
 * Both sets obey the determinism rule: for a given set, results are bitwise identical on
 * any thread count. The two sets differ in rounding only: the js kernels sum each dot
 * product in float64 and round once; the wasm kernels sum in float32 (blocks of 16 k, each
 * k ascending, then the block sums in order; or four interleaved partial sums for `A·Bᵀ`),
 * so they agree with the js kernels within
 * `(K + 2)·2⁻²³·Σₖ|aᵢₖ·bₖⱼ|` per element. This is process configuration, like the thread
 * count: the default comes from `PURENN_KERNELS=js|wasm`, else `'wasm'` wherever
 * WebAssembly SIMD works, else `'js'`.
 *
 * @param k - `'js'` or `'wasm'`
 * @throws TypeError when `k` is neither; Error for `'wasm'` where WebAssembly SIMD is missing.
 * @example
 * ```ts
 * import { getKernels, matmul, setKernels, tensor } from '@purenn/tensor'
 * const a = tensor([[1, 2], [3, 4]])
 * setKernels('js')
 * console.log(getKernels(), matmul(a, a).toString()) // js tensor([[7, 10], [15, 22]])
 * setKernels('wasm')
 * console.log(getKernels(), matmul(a, a).toString()) // wasm tensor([[7, 10], [15, 22]])
 * ```
 * @category Parallelism
 */
export const setKernels = (k: KernelSet): void => setKernelSet(k)

/**
 * The kernel set heavy ops run on: `'wasm'` or `'js'` (see {@link setKernels}).
 *
 * @returns the value set by {@link setKernels}, else `PURENN_KERNELS`, else `'wasm'` where
 * WebAssembly SIMD works, else `'js'`
 * @throws Error when `PURENN_KERNELS` is set to something other than `js` or `wasm`.
 * @example
 * ```ts
 * import { getKernels } from '@purenn/tensor'
 * console.log(['js', 'wasm'].includes(getKernels())) // true
 * ```
 * @category Parallelism
 */
export const getKernels = (): KernelSet => kernelSet()
