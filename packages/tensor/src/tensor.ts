import { ShapeError } from './errors.js'
import { kernelSet } from './internal/kernel-set.js'
import { platform } from './internal/platform.js'
import { poolThreads } from './internal/pool.js'
import { checkShape, fmt, type Shape, sizeOf } from './internal/shape.js'
import {
  HEAP_MIN,
  heapFloats,
  isHeapSlice,
  isOwnedFloats,
  ownedFloats,
  scopedFloats,
  wasReleased,
} from './internal/wasm/heap.js'

/**
 * The read-only view of a tensor's float32 buffer: every reading member of `Float32Array`,
 * no writing one. Kernels write only into the fresh buffer of the tensor they return.
 *
 * @category Tensor
 */
export type ReadonlyFloat32Array = Omit<Float32Array, 'set' | 'fill' | 'copyWithin' | 'sort' | 'reverse'> & {
  readonly [index: number]: number
}

/**
 * Where a tensor came from inside a running `valueAndGrad`: its parents and, for each,
 * the vector-Jacobian product that maps the output cotangent to that parent's. A tensor
 * has one node per live trace (level) it depends on, chained through `next`; `compose`
 * is a fused op's differentiable composition, used when its VJP is differentiated.
 *
 * @internal
 */
export interface TapeNode {
  readonly trace: Trace
  readonly seq: number
  readonly op: string
  readonly parents: readonly Tensor[]
  readonly vjps: readonly ((g: Tensor) => Tensor)[]
  readonly compose?: ((...inputs: Tensor[]) => Tensor) | undefined
  readonly next?: TapeNode | undefined
}

/**
 * One `valueAndGrad` call (one level of the tape). `active` is true while the function being
 * differentiated runs; `seq` numbers its nodes in recording order. Traces are compared by
 * identity.
 *
 * @internal
 */
export interface Trace {
  active: boolean
  seq: number
  /** Its leaves' gradients may go to owned buffers that the caller frees (`ownsGradient` in tape.ts). */
  readonly ownedGradients: boolean
  /** The owned buffers its VJPs made (`ownedGradientBuffer`), for `releaseUnreturned`. */
  readonly owned: Float32Array[]
}

/**
 * An immutable, row-major, contiguous float32 array with a shape.
 *
 * @remarks
 * The object is frozen and `data` is typed read-only: no public function writes into an
 * existing tensor's data. `size` is the product of `shape` (1 for a scalar, whose shape is `[]`).
 *
 * @example
 * ```ts
 * import { tensor } from '@purenn/tensor'
 * const t = tensor([[1, 2, 3], [4, 5, 6]])
 * console.log(t.shape, t.size, t.data[5]) // [ 2, 3 ] 6 6
 * ```
 * @category Tensor
 */
export interface Tensor {
  /** Length of each axis, outermost first. */
  readonly shape: readonly number[]
  /** Number of elements: the product of `shape`. */
  readonly size: number
  /** The elements in row-major order. */
  readonly data: ReadonlyFloat32Array
  /** @internal */
  readonly node?: TapeNode
  /** The elements as nested arrays: same as {@link toArray}. */
  toArray(): NestedArray
  /** The value of a one-element tensor: same as {@link item}. */
  item(): number
  /** NumPy-like rendering: same as {@link toString}. */
  toString(): string
}

/** Nested arrays of numbers, as accepted by {@link tensor} and returned by {@link toArray}. */
export type NestedArray = number | readonly NestedArray[]

/**
 * Buffers at least this long are allocated on a SharedArrayBuffer so worker threads can read
 * them, while more than one thread is set (where there are workers with shared memory: see
 * internal/platform.ts). A SharedArrayBuffer costs about three times an ArrayBuffer to
 * allocate and fill (fresh pages every time), so on one thread buffers are plain; a plain
 * operand only keeps an op on the calling thread, with the same result.
 */
const SHARED_MIN = 1 << 14

/**
 * A fresh zeroed float32 buffer of `n` elements: a block of the kernels' heap when the wasm
 * kernels run on a shared memory and `n` is neither small nor huge (see
 * `internal/wasm/heap.ts`), else shared memory when large and pooled, else a plain buffer.
 * @internal
 */
export const alloc = (n: number): Float32Array => allocZeroed(n, true)

/**
 * What {@link alloc} gives, for a caller that writes all `n` elements before anything reads
 * them (an op's kernel that overwrites its output, on every path): a block of an open step
 * scope is then handed out as it is, not zeroed first (at batch 512 the zeroing was 2.7% of
 * a step). @internal
 */
export const allocWritten = (n: number): Float32Array => allocZeroed(n, false)

const allocZeroed = (n: number, zeroed: boolean): Float32Array =>
  (n >= HEAP_MIN && kernelSet() === 'wasm' ? (scopedFloats(n, zeroed) ?? heapFloats(n)) : undefined) ??
  (n >= SHARED_MIN && platform.pooled && poolThreads() > 1
    ? new Float32Array(new SharedArrayBuffer(n * 4))
    : new Float32Array(n))

/**
 * A float32 buffer of `n` elements that its caller fills completely and whose lifetime it
 * manages: a block of the kernels' heap outside the budget when the wasm kernels run on a
 * shared memory (`internal/wasm/heap.ts`'s `ownedFloats`; contents unspecified until
 * written), which `releaseFloats` frees; else what {@link alloc} gives. @internal
 */
export const allocOwned = (n: number): Float32Array =>
  (n >= HEAP_MIN && kernelSet() === 'wasm' ? ownedFloats(n) : undefined) ?? alloc(n)

// The reading methods live on one shared, frozen prototype: tensors stay plain data
// (`shape`, `size`, `data` are their only own enumerable fields), yet `String(t)`,
// `t.toArray()` and `console.log(t)` read well.
const tensorMethods = Object.freeze({
  toArray(this: Tensor): NestedArray {
    return toArray(this)
  },
  item(this: Tensor): number {
    return item(this)
  },
  toString(this: Tensor): string {
    return toString(this)
  },
  [Symbol.for('nodejs.util.inspect.custom')](this: Tensor): string {
    return toString(this)
  },
})

/** Where a tensor on an owned block keeps its data (read through the `data` getter below). */
const OWNED = Symbol('purenn.ownedData')

// A tensor whose data is an owned block of the kernels' heap (a training loop frees it when
// its step or state dies: `openStepScope`, `fit`'s ledger) reads it through a getter on its
// prototype that refuses once the block was freed: a tensor kept past its step (in a cache,
// a closure, a variable outside the step) then fails with an error saying so, instead of
// showing whatever the block holds next. A raw `data` taken while it was live is not guarded.
const ownedTensorMethods = Object.freeze(
  Object.create(tensorMethods, {
    data: {
      enumerable: true,
      get(this: Tensor & { [OWNED]: Float32Array }): ReadonlyFloat32Array {
        const data = this[OWNED]
        if (wasReleased(data))
          throw new Error(
            `this tensor (shape ${fmt(this.shape)}) was made during a step of fit or a batch of ` +
              'predict, evaluate or mcPredict (in a layer, a loss, a metric or an optimizer) and kept ' +
              'past it, outside what the step returns; its memory was reused when the step ended. ' +
              'Copy its values out while the step runs (Array.from(t.data)), make it before fit, ' +
              "or return it in the layer's state",
          )
        return data as ReadonlyFloat32Array
      },
    },
  }),
)

/**
 * Wraps a buffer the caller has just filled and will never write again. A view of the
 * kernels' heap that is not a whole block handed out by `alloc` (a subarray of another
 * tensor's data) is copied first: its block is freed when the view that owns it is
 * collected, which the slice would not prevent. @internal
 */
export const fromBuffer = (shape: Shape, data: Float32Array, node?: TapeNode): Tensor => {
  if (isHeapSlice(data)) {
    const own = alloc(data.length)
    own.set(data)
    data = own
  }
  const owned = isOwnedFloats(data)
  const t = Object.create(owned ? ownedTensorMethods : tensorMethods) as {
    -readonly [K in keyof Tensor]: Tensor[K]
  } & { [OWNED]?: Float32Array }
  t.shape = Object.freeze(shape.slice())
  t.size = data.length
  if (owned) t[OWNED] = data
  else t.data = data as ReadonlyFloat32Array
  if (node !== undefined) Object.defineProperty(t, 'node', { value: node, enumerable: false })
  return Object.freeze(t)
}

/** The raw buffer of a tensor, for kernels that only read it. @internal */
export const buf = (t: Tensor): Float32Array => t.data as unknown as Float32Array

/**
 * True when `x` is a {@link Tensor} (the leaf test of parameter trees).
 *
 * @example
 * ```ts
 * import { isTensor, scalar } from '@purenn/tensor'
 * console.log(isTensor(scalar(1)), isTensor({ shape: [] })) // true false
 * ```
 * @category Tensor
 */
export const isTensor = (x: unknown): x is Tensor =>
  typeof x === 'object' && x !== null && (x as { data?: unknown }).data instanceof Float32Array

const inferShape = (x: NestedArray): number[] => {
  const shape: number[] = []
  let cur: NestedArray = x
  while (Array.isArray(cur)) {
    shape.push(cur.length)
    if (cur.length === 0) break
    cur = (cur as readonly NestedArray[])[0]!
  }
  return shape
}

const flattenInto = (x: NestedArray, shape: Shape, depth: number, out: Float32Array, pos: number[]): void => {
  if (depth === shape.length) {
    if (typeof x !== 'number')
      throw new ShapeError(`tensor: ragged nested array: expected a number at depth ${depth}`)
    out[pos[0]!++] = x
    return
  }
  if (!Array.isArray(x) || x.length !== shape[depth])
    throw new ShapeError(
      `tensor: ragged nested array: expected length ${shape[depth]} at depth ${depth} for shape ${fmt(shape)}`,
    )
  for (const item of x as readonly NestedArray[]) flattenInto(item, shape, depth + 1, out, pos)
}

/**
 * Creates a tensor from nested arrays, or from a flat array or typed array and a shape.
 *
 * @remarks
 * Values are rounded to float32. The input is copied, so later changes to it do not reach
 * the tensor. `Int32Array` and other typed arrays are accepted (label and index arrays).
 *
 * @param values - nested arrays of numbers, or a flat `number[]`/typed array
 * @param shape - required shape for flat input (defaults to `[values.length]`); checked against the size
 * @returns a new immutable tensor
 * @example
 * ```ts
 * import { tensor } from '@purenn/tensor'
 * console.log(tensor([[1, 2], [3, 4]]).shape) // [ 2, 2 ]
 * console.log(tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]).shape) // [ 2, 3 ]
 * ```
 * @category Creation
 */
export const tensor = (
  values: NestedArray | Float32Array | Float64Array | Int32Array | Uint8Array | readonly number[],
  shape?: readonly number[],
): Tensor => {
  if (ArrayBuffer.isView(values)) {
    const flat = values as Float32Array | Float64Array | Int32Array | Uint8Array
    const s = shape ?? [flat.length]
    checkShape('tensor', s)
    if (sizeOf(s) !== flat.length)
      throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${fmt(s)} (size ${sizeOf(s)})`)
    const out = alloc(flat.length)
    out.set(flat)
    return fromBuffer(s, out)
  }
  const inferred = inferShape(values as NestedArray)
  const out = alloc(sizeOf(inferred))
  flattenInto(values as NestedArray, inferred, 0, out, [0])
  if (shape === undefined) return fromBuffer(inferred, out)
  checkShape('tensor', shape)
  if (sizeOf(shape) !== out.length)
    throw new ShapeError(
      `tensor: ${out.length} values do not fill shape ${fmt(shape)} (size ${sizeOf(shape)})`,
    )
  return fromBuffer(shape, out)
}

/**
 * A rank-0 tensor holding one number.
 *
 * @example
 * ```ts
 * import { scalar } from '@purenn/tensor'
 * console.log(scalar(3).shape, scalar(3).item()) // [] 3
 * ```
 * @category Creation
 */
export const scalar = (value: number): Tensor => {
  const out = new Float32Array(1)
  out[0] = value
  return fromBuffer([], out)
}

/**
 * A tensor of the given shape with every element equal to `value`.
 *
 * @example
 * ```ts
 * import { full } from '@purenn/tensor'
 * console.log(full([2, 2], 7).data[3]) // 7
 * ```
 * @category Creation
 */
export const full = (shape: readonly number[], value: number): Tensor => filled('full', shape, value)

/** `full` for the creation function named `op` (the name its errors carry). */
const filled = (op: string, shape: readonly number[], value: number): Tensor => {
  checkShape(op, shape)
  const out = alloc(sizeOf(shape))
  if (value !== 0) out.fill(value)
  return fromBuffer(shape, out)
}

/**
 * A tensor of zeros.
 *
 * @example
 * ```ts
 * import { zeros } from '@purenn/tensor'
 * console.log(zeros([2, 3]).size) // 6
 * ```
 * @category Creation
 */
export const zeros = (shape: readonly number[]): Tensor => filled('zeros', shape, 0)

/**
 * A tensor of ones.
 *
 * @example
 * ```ts
 * import { ones } from '@purenn/tensor'
 * console.log(ones([3]).data[0]) // 1
 * ```
 * @category Creation
 */
export const ones = (shape: readonly number[]): Tensor => filled('ones', shape, 1)

/**
 * Zeros of the shape of `t`.
 *
 * @example
 * ```ts
 * import { zerosLike, ones } from '@purenn/tensor'
 * console.log(zerosLike(ones([2])).data[0]) // 0
 * ```
 * @category Creation
 */
export const zerosLike = (t: Tensor): Tensor => zeros(t.shape)

/**
 * Ones of the shape of `t`.
 *
 * @example
 * ```ts
 * import { onesLike, zeros } from '@purenn/tensor'
 * console.log(onesLike(zeros([2])).data[1]) // 1
 * ```
 * @category Creation
 */
export const onesLike = (t: Tensor): Tensor => ones(t.shape)

/**
 * Evenly spaced values `start, start+step, ...` below `stop` (NumPy's `arange`).
 *
 * @remarks
 * With one argument, `arange(n)` is `0, 1, ..., n-1`. Length is `ceil((stop-start)/step)`.
 *
 * @example
 * ```ts
 * import { arange } from '@purenn/tensor'
 * console.log(Array.from(arange(1, 7, 2).data)) // [ 1, 3, 5 ]
 * ```
 * @category Creation
 */
export const arange = (start: number, stop?: number, step = 1): Tensor => {
  const [lo, hi] = stop === undefined ? [0, start] : [start, stop]
  if (step === 0) throw new ShapeError('arange: step must not be 0')
  const n = Math.max(0, Math.ceil((hi - lo) / step))
  const out = alloc(n)
  for (let i = 0; i < n; i++) out[i] = lo + i * step
  return fromBuffer([n], out)
}

/**
 * The `n`×`m` identity matrix (ones on the diagonal).
 *
 * @example
 * ```ts
 * import { eye } from '@purenn/tensor'
 * console.log(eye(2).toString()) // tensor([[1, 0], [0, 1]])
 * ```
 * @category Creation
 */
export const eye = (n: number, m: number = n): Tensor => {
  checkShape('eye', [n, m])
  const out = alloc(n * m)
  for (let i = 0; i < Math.min(n, m); i++) out[i * m + i] = 1
  return fromBuffer([n, m], out)
}

/**
 * The elements as nested arrays (a number for a scalar).
 *
 * @example
 * ```ts
 * import { toArray, tensor } from '@purenn/tensor'
 * console.log(toArray(tensor([[1, 2], [3, 4]]))) // [ [ 1, 2 ], [ 3, 4 ] ]
 * ```
 * @category Reading
 */
export const toArray = (t: Tensor): NestedArray => {
  if (t.shape.length === 0) return t.data[0]!
  const build = (depth: number, offset: number): NestedArray[] => {
    const n = t.shape[depth]!
    const inner = sizeOf(t.shape.slice(depth + 1))
    const out: NestedArray[] = new Array(n)
    for (let i = 0; i < n; i++)
      out[i] = depth === t.shape.length - 1 ? t.data[offset + i]! : build(depth + 1, offset + i * inner)
    return out
  }
  return build(0, 0)
}

/**
 * The single value of a one-element tensor.
 *
 * @throws ShapeError when the tensor has more than one element.
 * @example
 * ```ts
 * import { item, scalar } from '@purenn/tensor'
 * console.log(item(scalar(2.5))) // 2.5
 * ```
 * @category Reading
 */
export const item = (t: Tensor): number => {
  if (t.size !== 1)
    throw new ShapeError(`item: expected a tensor with one element, got shape ${fmt(t.shape)}`)
  return t.data[0]!
}

const formatNumber = (v: number): string => {
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return String(v)
  if (Number.isNaN(v)) return 'nan'
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf'
  const a = Math.abs(v)
  return a !== 0 && (a < 1e-4 || a >= 1e8) ? v.toExponential(4) : String(Number(v.toPrecision(6)))
}

/**
 * A readable, NumPy-like rendering: `tensor([[1, 2], [3, 4]])`.
 *
 * @remarks
 * Tensors with more than 1000 elements are elided: each axis longer than 6 shows its first
 * three and last three entries around `...`, and the shape is appended.
 *
 * @example
 * ```ts
 * import { tensor, toString } from '@purenn/tensor'
 * console.log(toString(tensor([0.5, 1, 2]))) // tensor([0.5, 1, 2])
 * ```
 * @category Reading
 */
// biome-ignore lint/suspicious/noShadowRestrictedNames: the NumPy-like rendering is the tensor's toString
export const toString = (t: Tensor): string => {
  const elide = t.size > 1000
  const render = (depth: number, offset: number): string => {
    if (t.shape.length === 0) return formatNumber(t.data[0]!)
    const n = t.shape[depth]!
    const inner = sizeOf(t.shape.slice(depth + 1))
    const idx = elide && n > 6 ? [0, 1, 2, -1, n - 3, n - 2, n - 1] : Array.from({ length: n }, (_, i) => i)
    const parts = idx.map((i) =>
      i < 0
        ? '...'
        : depth === t.shape.length - 1
          ? formatNumber(t.data[offset + i]!)
          : render(depth + 1, offset + i * inner),
    )
    return `[${parts.join(', ')}]`
  }
  return `tensor(${render(0, 0)}${elide ? `, shape=${fmt(t.shape)}` : ''})`
}
