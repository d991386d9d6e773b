import type { AnyLayer, Shape } from '@purenn/layers'
import type { Tensor, Tree } from '@purenn/tensor'
import { AttributeType, FLOAT } from './proto.js'

/**
 * An attribute of an ONNX node, tagged with its ONNX type: `{ f }` a float, `{ i }` an
 * integer, `{ floats }` / `{ ints }` lists.
 *
 * @example
 * ```ts
 * import type { OnnxAttribute } from '@purenn/onnx'
 * const alpha: OnnxAttribute = { f: 0.2 }
 * const axes: OnnxAttribute = { ints: [1] }
 * console.log(alpha, axes) // { f: 0.2 } { ints: [ 1 ] }
 * ```
 * @category ONNX
 */
export type OnnxAttribute =
  | { readonly f: number }
  | { readonly i: number }
  | { readonly floats: readonly number[] }
  | { readonly ints: readonly number[] }

/**
 * The graph an exporter writes into: nodes and float32 constants. Names are made unique by
 * the graph, so exporters never collide.
 *
 * @example
 * ```ts
 * import type { OnnxGraph } from '@purenn/onnx'
 * // x ↦ 2·x + 1 as ONNX nodes
 * const affine = (g: OnnxGraph, x: string) => g.node('Add', [g.node('Mul', [x, g.constant(2)]), g.constant(1)])
 * console.log(typeof affine) // function
 * ```
 * @category ONNX
 */
export interface OnnxGraph {
  /**
   * Adds a node with one output and returns that output's name.
   * @param opType - the ONNX operator (`'MatMul'`, `'Relu'`, ...), default domain, opset 17
   * @param inputs - names of the node's inputs (graph input, constants, other outputs)
   * @param attributes - the operator's attributes
   */
  node(
    opType: string,
    inputs: readonly string[],
    attributes?: { readonly [name: string]: OnnxAttribute },
  ): string
  /** Adds a float32 constant (an ONNX initializer) and returns its name. */
  constant(value: Tensor | number, label?: string): string
}

/**
 * What an exporter gets for one layer: the layer, its params and state, the name and shape
 * (without batch axis) of its input, its path in the model (`'dense_1'`,
 * `'block/dense'`) and the graph to write into.
 *
 * @example
 * ```ts
 * import type { OnnxLayerContext } from '@purenn/onnx'
 * const describe = (ctx: OnnxLayerContext) => `${ctx.path}: ${ctx.layer.kind} on [${ctx.inputShape.join(', ')}]`
 * console.log(typeof describe) // function
 * ```
 * @category ONNX
 */
export interface OnnxLayerContext {
  readonly layer: AnyLayer
  readonly params: Tree
  readonly state: Tree
  readonly input: string
  readonly inputShape: Shape
  readonly path: string
  readonly graph: OnnxGraph
  /** Exports a child layer of a container (its path is `path/name`). */
  readonly child: (
    layer: AnyLayer,
    params: Tree,
    state: Tree,
    input: string,
    inputShape: Shape,
    name: string,
  ) => OnnxLayerOutput
}

/**
 * What an exporter returns: the name of the layer's output in the graph and its shape
 * without the batch axis.
 *
 * @example
 * ```ts
 * import type { OnnxLayerOutput } from '@purenn/onnx'
 * const out: OnnxLayerOutput = { output: 'dense/Add_1', outputShape: [10] }
 * console.log(out.outputShape) // [ 10 ]
 * ```
 * @category ONNX
 */
export interface OnnxLayerOutput {
  readonly output: string
  readonly outputShape: Shape
}

/**
 * Writes one layer kind as ONNX nodes: the extension point for custom layers (pass it in
 * `onnxModel(model, { exporters: { MyKind: ... } })`).
 *
 * @example
 * ```ts
 * import type { OnnxLayerExporter } from '@purenn/onnx'
 * // a custom 'Square' layer: y = x·x, shape unchanged
 * const square: OnnxLayerExporter = (ctx) => ({
 *   output: ctx.graph.node('Mul', [ctx.input, ctx.input]),
 *   outputShape: ctx.inputShape,
 * })
 * console.log(typeof square) // function
 * ```
 * @category ONNX
 */
export type OnnxLayerExporter = (ctx: OnnxLayerContext) => OnnxLayerOutput

/** Plain objects of the protobufjs messages, as {@link buildGraph} collects them. @internal */
export interface GraphParts {
  readonly nodes: object[]
  readonly initializers: object[]
}

const littleEndianFloat32 = (values: ArrayLike<number>): Uint8Array => {
  const bytes = new Uint8Array(values.length * 4)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true)
  return bytes
}

const attribute = (name: string, a: OnnxAttribute): object => {
  if ('f' in a) return { name, type: AttributeType.FLOAT, f: a.f }
  if ('i' in a) return { name, type: AttributeType.INT, i: a.i }
  if ('floats' in a) return { name, type: AttributeType.FLOATS, floats: [...a.floats] }
  return { name, type: AttributeType.INTS, ints: [...a.ints] }
}

/**
 * A graph under construction, scoped to one export call (no state outlives it). `scope`
 * prefixes the names of what is added, so every node says which layer it came from.
 * @internal
 */
export const graphBuilder = (): {
  readonly parts: GraphParts
  readonly scoped: (path: string) => OnnxGraph
} => {
  const nodes: object[] = []
  const initializers: object[] = []
  const used = new Set<string>()
  const fresh = (base: string) => {
    let name = base
    for (let n = 1; used.has(name); n++) name = `${base}_${n}`
    used.add(name)
    return name
  }
  const scoped = (path: string): OnnxGraph => {
    const prefix = path === '' ? '' : `${path}/`
    return {
      node: (opType, inputs, attributes = {}) => {
        const name = fresh(`${prefix}${opType}`)
        nodes.push({
          name,
          opType,
          input: [...inputs],
          output: [name],
          attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
        })
        return name
      },
      constant: (value, label = 'const') => {
        const name = fresh(`${prefix}${label}`)
        const [dims, data] = typeof value === 'number' ? [[], [value]] : [[...value.shape], value.data]
        initializers.push({ name, dims, dataType: FLOAT, rawData: littleEndianFloat32(data) })
        return name
      },
    }
  }
  return { parts: { nodes, initializers }, scoped }
}
