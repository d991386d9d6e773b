/**
 * The tape. There is no global tape: a tensor computed from a traced input carries a
 * {@link TapeNode} (its parents and one VJP per parent), so the graph lives in the values.
 * `record` adds that node only when an input belongs to a trace that is still running;
 * outside `valueAndGrad` it returns the plain tensor and costs one loop over the inputs.
 */

import { buf, fromBuffer, type Tensor, type Trace } from '../tensor.js'
import { sumTo, zip } from './kernels.js'
import { type Shape, sameShape } from './shape.js'

/** A VJP: maps the cotangent of an op's output to the cotangent of one of its inputs. */
export type Vjp = (g: Tensor) => Tensor

/** The live trace an input belongs to, if any (the most recently started one when several). */
const liveTrace = (inputs: readonly Tensor[]): Trace | undefined => {
  let found: Trace | undefined
  for (const x of inputs) {
    const t = x.node?.trace
    if (t?.active && (found === undefined || t.id > found.id)) found = t
  }
  return found
}

/**
 * Wraps a kernel's fresh output as a tensor, recording how to differentiate it when one
 * of `inputs` is being traced. `vjps[i]` is called only if input i needs a gradient.
 * The cotangent a VJP returns may have the broadcast output shape: the backward pass
 * sums it down to the input's shape (the one place unbroadcasting happens).
 */
export const record = (
  op: string,
  shape: Shape,
  data: Float32Array,
  inputs: readonly Tensor[],
  vjps: readonly Vjp[],
): Tensor => {
  const trace = liveTrace(inputs)
  if (trace === undefined) return fromBuffer(shape, data)
  return fromBuffer(shape, data, { trace, seq: trace.seq++, op, parents: inputs, vjps })
}

/** How many traces have been started: the next trace's id. */
let traces = 0

/** A new trace, for one `valueAndGrad` call. */
export const newTrace = (): Trace => ({ id: traces++, active: true, seq: 0 })

/** The traced stand-in of an input leaf: same data, a node with no parents. */
export const traceLeaf = (trace: Trace, x: Tensor): Tensor =>
  fromBuffer(x.shape, buf(x), { trace, seq: trace.seq++, op: 'input', parents: [], vjps: [] })

/** The same tensor without its tape node. */
export const detach = (x: Tensor): Tensor => (x.node === undefined ? x : fromBuffer(x.shape, buf(x)))

const accumulate = (prev: Tensor | undefined, g: Tensor): Tensor =>
  prev === undefined
    ? g
    : fromBuffer(prev.shape, zip('grad', buf(prev), prev.shape, buf(g), g.shape, (x, y) => x + y).data)

/**
 * Reverse sweep from `output` (whose cotangent is `seed`) over the nodes of `trace`, in
 * reverse recording order. Returns the cotangent of every node reached, keyed by tensor.
 * The trace must be inactive, so the VJPs' own ops record nothing.
 */
export const backward = (trace: Trace, output: Tensor, seed: Tensor): Map<Tensor, Tensor> => {
  const grads = new Map<Tensor, Tensor>()
  if (output.node?.trace !== trace) return grads
  // collect the nodes reachable from the output
  const seen = new Set<Tensor>()
  const order: Tensor[] = []
  const stack: Tensor[] = [output]
  while (stack.length > 0) {
    const t = stack.pop()!
    if (seen.has(t)) continue
    seen.add(t)
    order.push(t)
    for (const p of t.node!.parents) if (p.node?.trace === trace && !seen.has(p)) stack.push(p)
  }
  order.sort((x, y) => y.node!.seq - x.node!.seq)
  grads.set(output, seed)
  for (const t of order) {
    const g = grads.get(t)
    const node = t.node!
    if (g === undefined || node.parents.length === 0) continue
    node.parents.forEach((p, i) => {
      if (p.node?.trace !== trace) return
      let gp = node.vjps[i]!(g)
      if (!sameShape(gp.shape, p.shape)) gp = fromBuffer(p.shape, sumTo(buf(gp), gp.shape, p.shape))
      grads.set(p, accumulate(grads.get(p), gp))
    })
    grads.delete(t)
  }
  return grads
}
