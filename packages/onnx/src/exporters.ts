import type { AnyLayer, Json, Sequential } from '@purenn/layers'
import type { Tensor, Tree } from '@purenn/tensor'
import type { OnnxGraph, OnnxLayerContext, OnnxLayerExporter, OnnxLayerOutput } from './graph.js'

// SELU's constants, as in `selu` of @purenn/tensor and ONNX's `Selu` defaults
const SELU_ALPHA = 1.6732632423543772
const SELU_SCALE = 1.0507009873554805

const problem = (ctx: OnnxLayerContext, what: string): Error =>
  new Error(`onnxModel: layer '${ctx.path}' (${ctx.layer.kind}): ${what}`)

const tensorAt = (ctx: OnnxLayerContext, tree: Tree, key: string): Tensor | undefined => {
  const v = (tree as { readonly [k: string]: Tree | undefined })[key]
  if (v === undefined) return undefined
  if (typeof v !== 'object' || v === null || !('shape' in v) || !('data' in v))
    throw problem(ctx, `'${key}' is not a tensor`)
  return v as Tensor
}

const required = (ctx: OnnxLayerContext, tree: Tree, key: string): Tensor => {
  const t = tensorAt(ctx, tree, key)
  if (t === undefined) throw problem(ctx, `missing '${key}'`)
  return t
}

/**
 * An activation's config (`'relu'` or `{ name, ...params }`, as `activationToConfig` writes
 * it) as ONNX nodes after `x`. Opset 17 has no `Gelu` or `Mish`: they are composed from
 * `Erf`, `Tanh` and `Softplus` with the same formulas as the tensor ops.
 */
const activationNodes = (ctx: OnnxLayerContext, g: OnnxGraph, x: string, config: Json): string => {
  const name = typeof config === 'string' ? config : (config as { name?: Json } | null)?.name
  const param = (key: string, fallback: number): number => {
    const v =
      typeof config === 'object' && config !== null && !Array.isArray(config)
        ? (config as { [k: string]: Json })[key]
        : undefined
    return typeof v === 'number' ? v : fallback
  }
  switch (name) {
    case 'linear':
      return x
    case 'relu':
      return g.node('Relu', [x])
    case 'sigmoid':
      return g.node('Sigmoid', [x])
    case 'tanh':
      return g.node('Tanh', [x])
    case 'softplus':
      return g.node('Softplus', [x])
    case 'softmax':
      return g.node('Softmax', [x], { axis: { i: -1 } })
    case 'leakyRelu':
      return g.node('LeakyRelu', [x], { alpha: { f: param('alpha', 0.2) } })
    case 'elu':
      return g.node('Elu', [x], { alpha: { f: param('alpha', 1) } })
    case 'selu':
      return g.node('Selu', [x], { alpha: { f: SELU_ALPHA }, gamma: { f: SELU_SCALE } })
    case 'swish':
      return g.node('Mul', [x, g.node('Sigmoid', [x])])
    case 'gelu': {
      // x·(1 + erf(x/√2))/2
      const erf = g.node('Erf', [g.node('Div', [x, g.constant(Math.SQRT2, 'sqrt2')])])
      return g.node('Mul', [
        g.node('Mul', [x, g.node('Add', [erf, g.constant(1, 'one')])]),
        g.constant(0.5, 'half'),
      ])
    }
    default:
      throw problem(ctx, `activation ${JSON.stringify(config)} has no ONNX export`)
  }
}

const same = (ctx: OnnxLayerContext, output: string): OnnxLayerOutput => ({
  output,
  outputShape: ctx.inputShape,
})

const dense: OnnxLayerExporter = (ctx) => {
  const kernel = required(ctx, ctx.params, 'kernel')
  const bias = tensorAt(ctx, ctx.params, 'bias')
  const g = ctx.graph
  const product = g.node('MatMul', [ctx.input, g.constant(kernel, 'kernel')])
  const z = bias === undefined ? product : g.node('Add', [product, g.constant(bias, 'bias')])
  const units = kernel.shape[kernel.shape.length - 1]!
  return {
    output: activationNodes(ctx, g, z, ctx.layer.config.activation ?? 'linear'),
    outputShape: [...ctx.inputShape.slice(0, -1), units],
  }
}

// Inference-mode batch normalization with the moving statistics, in the order the tensor
// kernel computes it: (x − mean) / √(var + ε) · γ + β.
const batchNormalization: OnnxLayerExporter = (ctx) => {
  const g = ctx.graph
  const epsilon = ctx.layer.config.epsilon
  if (typeof epsilon !== 'number') throw problem(ctx, 'config.epsilon is not a number')
  const mean = g.constant(required(ctx, ctx.state, 'movingMean'), 'moving_mean')
  const variance = g.constant(required(ctx, ctx.state, 'movingVariance'), 'moving_variance')
  const std = g.node('Sqrt', [g.node('Add', [variance, g.constant(epsilon, 'epsilon')])])
  let y = g.node('Div', [g.node('Sub', [ctx.input, mean]), std])
  const gamma = tensorAt(ctx, ctx.params, 'gamma')
  const beta = tensorAt(ctx, ctx.params, 'beta')
  if (gamma !== undefined) y = g.node('Mul', [y, g.constant(gamma, 'gamma')])
  if (beta !== undefined) y = g.node('Add', [y, g.constant(beta, 'beta')])
  return same(ctx, y)
}

const sequential: OnnxLayerExporter = (ctx) => {
  const s = ctx.layer as Sequential
  let out: OnnxLayerOutput = { output: ctx.input, outputShape: ctx.inputShape }
  s.layers.forEach((layer: AnyLayer, i: number) => {
    const name = s.names[i]!
    const sub = (tree: Tree) => (tree as { readonly [k: string]: Tree | undefined })[name] ?? {}
    out = ctx.child(layer, sub(ctx.params), sub(ctx.state), out.output, out.outputShape, name)
  })
  return out
}

/**
 * The layer kinds {@link onnxModel} exports without help, by kind. Dropout layers
 * (`Dropout`, `MCDropout`) export as the identity: an ONNX file is for deterministic
 * inference (run purenn's `mcPredict` for Monte Carlo estimates).
 *
 * @example
 * ```ts
 * import { onnxExporters } from '@purenn/onnx'
 * console.log(Object.keys(onnxExporters).includes('BatchNormalization')) // true
 * ```
 * @category ONNX
 */
export const onnxExporters: { readonly [kind: string]: OnnxLayerExporter } = Object.freeze({
  Sequential: sequential,
  Dense: dense,
  Activation: (ctx) =>
    same(ctx, activationNodes(ctx, ctx.graph, ctx.input, ctx.layer.config.activation ?? null)),
  LeakyReLU: (ctx) => {
    const alpha = ctx.layer.config.alpha
    if (typeof alpha !== 'number') throw problem(ctx, 'config.alpha is not a number')
    return same(ctx, ctx.graph.node('LeakyRelu', [ctx.input], { alpha: { f: alpha } }))
  },
  BatchNormalization: batchNormalization,
  Dropout: (ctx) => same(ctx, ctx.input),
  MCDropout: (ctx) => same(ctx, ctx.input),
  Flatten: (ctx) => ({
    output: ctx.graph.node('Flatten', [ctx.input], { axis: { i: 1 } }),
    outputShape: [ctx.inputShape.reduce((p, d) => p * d, 1)],
  }),
})
