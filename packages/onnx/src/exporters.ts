import type { AnyLayer, Json, Sequential } from '@purenn/layers'
import { type Tensor, type Tree, tensor } from '@purenn/tensor'
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
    case 'relu6':
      return g.node('Clip', [x, g.constant(0, 'zero'), g.constant(6, 'six')])
    case 'hardSigmoid':
      // Keras 3: relu6(x + 3)/6 = max(0, min(1, x/6 + 1/2))
      return g.node('HardSigmoid', [x], { alpha: { f: 1 / 6 }, beta: { f: 0.5 } })
    case 'hardSwish':
      return g.node('HardSwish', [x])
    case 'mish':
      // opset 17 has no Mish: x·tanh(softplus(x))
      return g.node('Mul', [x, g.node('Tanh', [g.node('Softplus', [x])])])
    case 'gelu': {
      if (
        typeof config === 'object' &&
        config !== null &&
        (config as { approximate?: Json }).approximate === true
      ) {
        // x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))
        const cube = g.node('Mul', [g.node('Mul', [x, x]), x])
        const inner = g.node('Add', [x, g.node('Mul', [cube, g.constant(0.044715, 'c')])])
        const t = g.node('Tanh', [
          g.node('Mul', [inner, g.constant(Math.sqrt(2 / Math.PI), 'sqrt_2_over_pi')]),
        ])
        return g.node('Mul', [
          g.node('Mul', [x, g.constant(0.5, 'half')]),
          g.node('Add', [t, g.constant(1, 'one')]),
        ])
      }
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

/** A config value that is a number or a pair, as a pair. */
const pairOf = (ctx: OnnxLayerContext, key: string, fallback: number): [number, number] => {
  const v = ctx.layer.config[key] ?? fallback
  if (typeof v === 'number') return [v, v]
  if (Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === 'number'))
    return [v[0] as number, v[1] as number]
  throw problem(ctx, `config.${key} is not a number or a pair`)
}

/**
 * ONNX's NCHW spatial ops around purenn's NHWC tensors: transpose in, run, transpose out;
 * 'same' padding as TensorFlow splits it (the smaller half before), explicit `pads`.
 */
const spatial = (
  ctx: OnnxLayerContext,
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
  padding: string,
  run: (nchw: string, attrs: { readonly [k: string]: { readonly ints: readonly number[] } }) => string,
  channels: number,
): OnnxLayerOutput => {
  const [h, w] = [ctx.inputShape[0]!, ctx.inputShape[1]!]
  const out = (size: number, i: 0 | 1) => {
    const eff = (kernel[i] - 1) * dilations[i] + 1
    return padding === 'same' ? Math.ceil(size / strides[i]) : Math.floor((size - eff) / strides[i]) + 1
  }
  const [oh, ow] = [out(h, 0), out(w, 1)]
  const total = (o: number, size: number, i: 0 | 1) =>
    padding === 'same' ? Math.max((o - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size, 0) : 0
  const [th, tw] = [total(oh, h, 0), total(ow, w, 1)]
  const pads = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)]
  const g = ctx.graph
  const nchw = g.node('Transpose', [ctx.input], { perm: { ints: [0, 3, 1, 2] } })
  const y = run(nchw, { kernel_shape: { ints: kernel }, strides: { ints: strides }, pads: { ints: pads } })
  return {
    output: g.node('Transpose', [y], { perm: { ints: [0, 2, 3, 1] } }),
    outputShape: [oh, ow, channels],
  }
}

const conv2d: OnnxLayerExporter = (ctx) => {
  const kernel = required(ctx, ctx.params, 'kernel')
  const bias = tensorAt(ctx, ctx.params, 'bias')
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number]
  // purenn's kernel is HWIO (Keras); ONNX's weight is OIHW
  const oihw = new Float32Array(kernel.size)
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < cin; c++)
        for (let o = 0; o < cout; o++)
          oihw[((o * cin + c) * kh + i) * kw + j] = kernel.data[((i * kw + j) * cin + c) * cout + o]!
  const g = ctx.graph
  const dilations = pairOf(ctx, 'dilationRate', 1)
  const r = spatial(
    ctx,
    [kh, kw],
    pairOf(ctx, 'strides', 1),
    dilations,
    String(ctx.layer.config.padding ?? 'valid'),
    (x, attrs) =>
      g.node(
        'Conv',
        [
          x,
          g.constant(tensor(oihw, [cout, cin, kh, kw]), 'kernel'),
          ...(bias === undefined ? [] : [g.constant(bias, 'bias')]),
        ],
        { ...attrs, dilations: { ints: dilations } },
      ),
    cout,
  )
  return {
    output: activationNodes(ctx, g, r.output, ctx.layer.config.activation ?? 'linear'),
    outputShape: r.outputShape,
  }
}

const pooling =
  (op: 'MaxPool' | 'AveragePool'): OnnxLayerExporter =>
  (ctx) => {
    const size = pairOf(ctx, 'poolSize', 2)
    // TensorFlow's average leaves the padding out of the count
    const extra = op === 'AveragePool' ? { count_include_pad: { i: 0 } } : {}
    return spatial(
      ctx,
      size,
      pairOf(ctx, 'strides', size[0]),
      [1, 1],
      String(ctx.layer.config.padding ?? 'valid'),
      (x, attrs) => ctx.graph.node(op, [x], { ...attrs, ...extra }),
      ctx.inputShape[2]!,
    )
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
 * The layer kinds {@link onnxModel} exports without help, by kind. Dropout and noise layers
 * (`Dropout`, `MCDropout`, `AlphaDropout`, `MCAlphaDropout`, `GaussianDropout`,
 * `GaussianNoise`) export as the identity: an ONNX file is for deterministic inference (run
 * purenn's `mcPredict` for Monte Carlo estimates). `PReLU` is ONNX's `PRelu`, `RReLU` a
 * `LeakyRelu` with the mean slope (its inference form), `Normalization` a `Sub` and a `Div`.
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
  Serial: sequential,
  // y = x + block(x); the block's params are the residual's own (no extra level)
  Residual: (ctx) => {
    const block = (ctx.layer as unknown as { readonly layers: readonly AnyLayer[] }).layers[0]!
    const r = ctx.child(block, ctx.params, ctx.state, ctx.input, ctx.inputShape, '')
    return same(ctx, ctx.graph.node('Add', [ctx.input, r.output]))
  },
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
  // y = max(0, x) + α·min(0, x), α of shape inputShape (shared axes 1): broadcasts over the batch
  PReLU: (ctx) =>
    same(
      ctx,
      ctx.graph.node('PRelu', [ctx.input, ctx.graph.constant(required(ctx, ctx.params, 'alpha'), 'alpha')]),
    ),
  // at inference RReLU is a leaky ReLU with the mean slope (lower + upper)/2
  RReLU: (ctx) => {
    const { lower, upper } = ctx.layer.config
    if (typeof lower !== 'number' || typeof upper !== 'number')
      throw problem(ctx, 'config.lower and config.upper must be numbers')
    return same(ctx, ctx.graph.node('LeakyRelu', [ctx.input], { alpha: { f: (lower + upper) / 2 } }))
  },
  // noise layers, like dropout, are the identity at inference
  AlphaDropout: (ctx) => same(ctx, ctx.input),
  MCAlphaDropout: (ctx) => same(ctx, ctx.input),
  GaussianDropout: (ctx) => same(ctx, ctx.input),
  GaussianNoise: (ctx) => same(ctx, ctx.input),
  // (x − mean) / max(√variance, 1e-7), the divisor computed here once (√ of a float32 is correctly
  // rounded either way, so the constant equals the tensor op's)
  Normalization: (ctx) => {
    const mean = required(ctx, ctx.state, 'mean')
    const variance = required(ctx, ctx.state, 'variance')
    const divisor = tensor(
      Float32Array.from(variance.data, (v) => Math.max(Math.sqrt(v), 1e-7)),
      [...variance.shape],
    )
    const g = ctx.graph
    return same(
      ctx,
      g.node('Div', [g.node('Sub', [ctx.input, g.constant(mean, 'mean')]), g.constant(divisor, 'std')]),
    )
  },
  Conv2D: conv2d,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  GlobalAveragePooling2D: (ctx) => {
    const keep = ctx.layer.config.keepdims === true
    const c = ctx.inputShape[2]!
    return {
      output: ctx.graph.node('ReduceMean', [ctx.input], {
        axes: { ints: [1, 2] },
        keepdims: { i: keep ? 1 : 0 },
      }),
      outputShape: keep ? [1, 1, c] : [c],
    }
  },
  Flatten: (ctx) => ({
    output: ctx.graph.node('Flatten', [ctx.input], { axis: { i: 1 } }),
    outputShape: [ctx.inputShape.reduce((p, d) => p * d, 1)],
  }),
})
