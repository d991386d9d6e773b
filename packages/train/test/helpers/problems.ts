/**
 * Shared test helpers: small synthetic classification problems drawn from PRNG keys, small
 * models, a bitwise snapshot of a model's values, and a text sink standing in for a stream.
 */

import { PassThrough } from 'node:stream'
import {
  batchNormalization,
  dense,
  dropout,
  initModel,
  type Layer,
  type Model,
  sequential,
} from '@purenn/layers'
import { add, concat, type Key, normal, type Tensor, tensor, tree } from '@purenn/tensor'
import { isOwnedFloats } from '@purenn/tensor/internal'

/** Inputs and class labels. */
export interface Problem {
  readonly x: Tensor
  readonly y: Tensor
}

/**
 * Two Gaussian blobs in 2-D (standard deviation 1, centres at ±`distance`/2 on both axes),
 * `n` rows with alternating labels 0, 1, 0, 1, ... so any prefix of the rows has both classes.
 */
export const blobs = (k: Key, n: number, distance = 3): Problem => {
  const noise = normal(k, [n, 2])
  const half = distance / 2
  const centres = tensor(Array.from({ length: n }, (_, i) => (i % 2 === 0 ? [-half, -half] : [half, half])))
  return { x: add(noise, centres), y: tensor(Array.from({ length: n }, (_, i) => i % 2)) }
}

/** Rows `[start, start + n)` of a problem, made from plain arrays (independent of `fit`'s own slicing). */
export const rowsOf = (p: Problem, start: number, n: number): Problem => {
  const width = p.x.size / p.x.shape[0]!
  return {
    x: tensor(Array.from(p.x.data.slice(start * width, (start + n) * width)), [n, ...p.x.shape.slice(1)]),
    y: tensor(Array.from(p.y.data.slice(start, start + n))),
  }
}

/** The rows of two problems one after the other. */
export const concatRows = (a: Problem, b: Problem): Problem => ({
  x: concat([a.x, b.x], 0),
  y: concat([a.y, b.y], 0),
})

/** The same inputs with the labels 0 and 1 swapped. */
export const flipped = (p: Problem): Problem => ({ x: p.x, y: tensor(Array.from(p.y.data, (v) => 1 - v)) })

/** A 2 → 2 softmax classifier (logistic regression with two outputs). */
export const linearModel = (k: Key): Model =>
  initModel(sequential([dense({ units: 2, activation: 'softmax' })], { inputShape: [2] }), { key: k })

/** Dense 8 relu → batch norm → dense 2 softmax, for 2-D inputs. */
export const bnModel = (k: Key): Model =>
  initModel(
    sequential(
      [
        dense({ units: 8, activation: 'relu', kernelInitializer: 'heNormal' }),
        batchNormalization(),
        dense({ units: 2, activation: 'softmax' }),
      ],
      { inputShape: [2] },
    ),
    { key: k },
  )

/** Dense 16 relu → dropout(rate) → dense 2 with a linear output, for 2-D inputs. */
export const dropoutModel = (k: Key, rate: number): Model =>
  initModel(
    sequential([dense({ units: 16, activation: 'relu' }), dropout({ rate }), dense({ units: 2 })], {
      inputShape: [2],
    }),
    { key: k },
  )

/** The bits of every float32 value, by dotted path (`+0` and `−0`, NaN payloads all distinct). */
export const bits = (t: unknown): Record<string, number[]> =>
  Object.fromEntries(
    tree
      .flatten(t as never)
      .map(([path, leaf]) => [path, Array.from(new Uint32Array(Float32Array.from(leaf.data).buffer))]),
  )

/** The bits of a model's params and state. */
export const modelBits = (m: Model) => ({ params: bits(m.params), state: bits(m.state) })

/** Whether every value of every leaf is finite. */
export const allFinite = (t: unknown): boolean =>
  tree.leaves(t as never).every((leaf) => Array.from(leaf.data).every(Number.isFinite))

/** A stream that collects what is written to it, as a terminal (`isTTY`) or not. */
export const textSink = (isTTY = false) => {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean }
  if (isTTY) stream.isTTY = true
  const chunks: string[] = []
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')))
  /** Everything written so far, once pending writes have been delivered. */
  const text = async (): Promise<string> => {
    await new Promise((resolve) => setImmediate(resolve))
    return chunks.join('')
  }
  return { stream, text }
}

/**
 * A layer that passes its input on and pushes onto `where` whether the input is on an owned
 * block of the kernels' memory (a boolean, not the tensor: it keeps nothing past its step).
 */
export const probeLayer = (where: boolean[]): Layer => ({
  kind: 'Probe',
  config: {},
  init: (_k, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
  apply: (_p, st, input) => {
    where.push(isOwnedFloats((input as Tensor).data))
    return { y: input, state: st }
  },
})
