/**
 * The tape. There is no global tape: a tensor computed from a traced input carries a
 * {@link TapeNode} (its parents and one VJP per parent), so the graph lives in the values.
 * `record` adds that node only when an input belongs to a trace that is still running;
 * outside `valueAndGrad` it returns the plain tensor and costs one loop over the inputs.
 *
 * Nesting (levels, as JAX calls them): each running `valueAndGrad` is one {@link Trace}, and
 * a tensor carries one node per live trace it depends on, chained through `next` (almost
 * always a single node). `record` gives the output one node for each distinct live trace
 * among its inputs. A trace's backward pass follows only its own nodes and runs after that
 * trace is closed but while the enclosing ones are still running, so every op a VJP calls is
 * recorded on the outer traces: the gradient is itself differentiable. Traces are told apart
 * by identity; no counter or registry is needed.
 */

import { alloc, allocOwned, buf, fromBuffer, type TapeNode, type Tensor, type Trace } from '../tensor.js'
import { expand, sumTo, zip } from './kernels.js'
import { type Shape, sameShape } from './shape.js'
import { isOwnedFloats, releaseFloats } from './wasm/heap.js'

/** A VJP: maps the cotangent of an op's output to the cotangent of one of its inputs. */
export type Vjp = (g: Tensor) => Tensor

/**
 * How a fused op is differentiated when its VJP must itself be differentiated: the same
 * function written with recorded primitives, called with the op's inputs in order.
 */
export type Composition = (...inputs: Tensor[]) => Tensor

/** The node of `x` on `trace`, if `x` depends on that trace. */
export const nodeOn = (x: Tensor, trace: Trace): TapeNode | undefined => {
  for (let n = x.node; n !== undefined; n = n.next) if (n.trace === trace) return n
  return undefined
}

/** True when `x` depends on a trace that is still running (its value is being differentiated). */
export const isLive = (x: Tensor): boolean => {
  for (let n = x.node; n !== undefined; n = n.next) if (n.trace.active) return true
  return false
}

const hasTrace = (chain: TapeNode | undefined, trace: Trace): boolean => {
  for (let n = chain; n !== undefined; n = n.next) if (n.trace === trace) return true
  return false
}

/** One node per distinct live trace among the inputs, chained in front of `tail`. */
const nodesFor = (
  op: string,
  inputs: readonly Tensor[],
  vjps: readonly Vjp[],
  compose: Composition | undefined,
  tail: TapeNode | undefined,
): TapeNode | undefined => {
  let chain = tail
  for (const x of inputs)
    for (let n = x.node; n !== undefined; n = n.next)
      if (n.trace.active && !hasTrace(chain, n.trace))
        chain = makeNode(n.trace, op, inputs, vjps, compose, chain)
  return chain
}

/** A node on `trace` (every node is made here, so they all share one object layout). */
const makeNode = (
  trace: Trace,
  op: string,
  parents: readonly Tensor[],
  vjps: readonly Vjp[],
  compose: Composition | undefined,
  next: TapeNode | undefined,
): TapeNode => ({ trace, seq: trace.seq++, op, parents, vjps, compose, next })

/**
 * Wraps a kernel's fresh output as a tensor, recording how to differentiate it when one
 * of `inputs` is being traced. `vjps[i]` is called only if input i needs a gradient.
 * The cotangent a VJP returns may have the broadcast output shape: the backward pass
 * sums it down to the input's shape (the one place unbroadcasting happens).
 *
 * A VJP should be written with recorded ops (then it is differentiable, to any order).
 * A fused op whose VJP runs raw kernels passes `compose`, the same function written with
 * recorded primitives: when the cotangent or an input is itself being differentiated (a
 * gradient of a gradient), the backward pass differentiates `compose` instead.
 */
export const record = (
  op: string,
  shape: Shape,
  data: Float32Array,
  inputs: readonly Tensor[],
  vjps: readonly Vjp[],
  compose?: Composition,
): Tensor => fromBuffer(shape, data, nodesFor(op, inputs, vjps, compose, undefined))

/** A new trace, for one `valueAndGrad` call (see {@link ownsGradient} for `ownedGradients`). */
export const newTrace = (ownedGradients = false): Trace => ({
  active: true,
  seq: 0,
  ownedGradients,
  owned: [],
})

/**
 * True when an op's VJP may write the gradient of its input `x` into an owned buffer
 * (`allocOwned`, freed by the caller of `valueAndGrad`): `x` is a leaf of a trace whose
 * `valueAndGrad` asked for owned gradients, and no enclosing trace differentiates it (the
 * gradient is then handed back as it is, and the caller is the only one to see it).
 */
export const ownsGradient = (x: Tensor): boolean => {
  const n = x.node
  return n !== undefined && n.next === undefined && n.op === 'input' && n.trace.ownedGradients
}

/**
 * A buffer of `n` floats for the gradient of `x` that a VJP is about to fill: an owned one,
 * remembered by `x`'s trace, when {@link ownsGradient}; else a fresh plain one.
 */
export const gradientBuffer = (x: Tensor, n: number): Float32Array => {
  if (!ownsGradient(x)) return alloc(n)
  const b = allocOwned(n)
  if (isOwnedFloats(b)) x.node!.trace.owned.push(b)
  return b
}

/**
 * Frees the owned buffers `trace`'s VJPs made that are not the data of one of `returned`
 * (the gradients `valueAndGrad` hands back): a leaf used more than once (a regularized or
 * shared kernel) gets the sum of its contributions, and the owned parts are then read by
 * nobody.
 */
export const releaseUnreturned = (trace: Trace, returned: readonly Tensor[]): void => {
  if (trace.owned.length === 0) return
  const kept = new Set<object>(returned.map((g) => g.data))
  for (const b of trace.owned) if (!kept.has(b)) releaseFloats(b)
  trace.owned.length = 0
}

/**
 * The traced stand-in of an input leaf: same data, a node with no parents on `trace`, and,
 * when `x` is itself being differentiated by enclosing traces, an identity node on each of
 * those (so the leaf's uses reach `x` on the outer levels).
 */
export const traceLeaf = (trace: Trace, x: Tensor): Tensor => {
  const outer = x.node === undefined ? undefined : nodesFor('identity', [x], [identity], undefined, undefined)
  return fromBuffer(x.shape, buf(x), makeNode(trace, 'input', [], [], undefined, outer))
}

const identity: Vjp = (g) => g

/** The same tensor without its tape nodes. */
export const detach = (x: Tensor): Tensor => (x.node === undefined ? x : fromBuffer(x.shape, buf(x)))

/**
 * The same tensor keeping only its nodes on traces still running: what a finished
 * `valueAndGrad` hands back (its own nodes are dropped; the outer levels still see the value).
 */
export const keepLive = (x: Tensor): Tensor => {
  if (x.node === undefined) return x
  let chain: TapeNode | undefined
  let all = true
  for (let n: TapeNode | undefined = x.node; n !== undefined; n = n.next)
    if (n.trace.active)
      chain = {
        trace: n.trace,
        seq: n.seq,
        op: n.op,
        parents: n.parents,
        vjps: n.vjps,
        compose: n.compose,
        next: chain,
      }
    else all = false
  return all ? x : fromBuffer(x.shape, buf(x), chain)
}

// Unbroadcasting and accumulation, recorded when an outer trace is differentiating them.

const sumToShape = (g: Tensor, shape: Shape): Tensor => {
  const data = sumTo(buf(g), g.shape, shape)
  if (g.node === undefined) return fromBuffer(shape, data)
  return fromBuffer(
    shape,
    data,
    nodesFor('sumTo', [g], [(h) => broadcastToShape(h, g.shape)], undefined, undefined),
  )
}

const broadcastToShape = (h: Tensor, shape: Shape): Tensor =>
  fromBuffer(
    shape,
    expand(buf(h), h.shape, shape),
    nodesFor('broadcastTo', [h], [(k) => sumToShape(k, h.shape)], undefined, undefined),
  )

const plus = (x: number, y: number): number => x + y

const accumulate = (prev: Tensor | undefined, g: Tensor): Tensor => {
  if (prev === undefined) return g
  const data = zip('grad', buf(prev), prev.shape, buf(g), g.shape, plus).data
  if (prev.node === undefined && g.node === undefined) return fromBuffer(prev.shape, data)
  return fromBuffer(prev.shape, data, nodesFor('add', [prev, g], [identity, identity], undefined, undefined))
}

/** The cotangents of a fused node's inputs, by differentiating its composition on a fresh trace. */
const composedVjps = (compose: Composition, parents: readonly Tensor[], g: Tensor): Tensor[] => {
  const inner = newTrace()
  const leaves = parents.map((p) => traceLeaf(inner, p))
  let out: Tensor
  try {
    out = compose(...leaves)
  } finally {
    inner.active = false
  }
  const grads = backward(inner, out, g)
  return leaves.map((l) => keepLive(grads.get(l) ?? fromBuffer(l.shape, new Float32Array(l.size))))
}

/**
 * Reverse sweep from `output` (whose cotangent is `seed`) over the nodes of `trace`, in
 * reverse recording order. Returns the cotangent of every node reached, keyed by tensor.
 * The trace must be inactive, so the VJPs' own ops are recorded only on enclosing traces.
 */
export const backward = (trace: Trace, output: Tensor, seed: Tensor): Map<Tensor, Tensor> => {
  const grads = new Map<Tensor, Tensor>()
  if (nodeOn(output, trace) === undefined) return grads
  // collect the nodes reachable from the output
  const seen = new Set<Tensor>()
  const order: Tensor[] = []
  const stack: Tensor[] = [output]
  while (stack.length > 0) {
    const t = stack.pop()!
    if (seen.has(t)) continue
    seen.add(t)
    order.push(t)
    for (const p of nodeOn(t, trace)!.parents)
      if (!seen.has(p) && nodeOn(p, trace) !== undefined) stack.push(p)
  }
  order.sort((x, y) => nodeOn(y, trace)!.seq - nodeOn(x, trace)!.seq)
  grads.set(output, seed)
  for (const t of order) {
    const g = grads.get(t)
    const node = nodeOn(t, trace)!
    if (g === undefined || node.parents.length === 0) continue
    const composed =
      node.compose !== undefined && (isLive(g) || node.parents.some(isLive))
        ? composedVjps(node.compose, node.parents, g)
        : undefined
    node.parents.forEach((p, i) => {
      if (nodeOn(p, trace) === undefined) return
      let gp = composed === undefined ? node.vjps[i]!(g) : composed[i]!
      if (!sameShape(gp.shape, p.shape)) gp = sumToShape(gp, p.shape)
      grads.set(p, accumulate(grads.get(p), gp))
    })
    grads.delete(t)
  }
  return grads
}
