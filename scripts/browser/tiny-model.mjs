// A tiny training run, the same code in Node and in a page: the modules come as arguments
// (Node imports the built packages, the page gets them bundled for the browser). Sizes are
// above the worker pool's thresholds (matmuls, dropout masks and optimizer updates go to the
// pool when it has more than one thread), so the run exercises the pool where there is one.

/** FNV-1a over the bytes of float32 arrays: one number that changes with any bit. */
export const fnv1a = (arrays) => {
  let h = 0x811c9dc5
  for (const a of arrays) {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
    for (let i = 0; i < bytes.length; i++) {
      h ^= bytes[i]
      h = Math.imul(h, 0x01000193) >>> 0
    }
  }
  return h.toString(16).padStart(8, '0')
}

/**
 * Trains a 64 → 512 relu → dropout → 10 softmax model with Adam for 2 epochs on 256 rows
 * of data made from keys, on `threads` threads. Returns the fingerprint of the weights,
 * the loss history and how the pool ran.
 */
export const trainTiny = async ({ tensor, layers, optim, train, internal }, threads) => {
  tensor.setThreads(threads)
  const before = internal.__poolForTests.chunksByWorkers()
  const x = tensor.normal(tensor.key(1), [256, 64])
  const y = tensor.tensor(Array.from({ length: 256 }, (_, i) => (i * 7) % 10))
  const arch = layers.sequential(
    [
      layers.dense({ units: 512, activation: 'relu', kernelInitializer: 'heNormal' }),
      layers.dropout({ rate: 0.2 }),
      layers.dense({ units: 10, activation: 'softmax' }),
    ],
    { inputShape: [64] },
  )
  const model = layers.initModel(arch, { key: tensor.key(42) })
  const { model: trained, history } = await train.fit(model, x, y, {
    loss: 'sparseCategoricalCrossentropy',
    optimizer: optim.adam({ learningRate: 0.001 }),
    metrics: ['accuracy'],
    epochs: 2,
    batchSize: 64,
    key: tensor.key(7),
    verbose: 0,
  })
  const weights = tensor.tree.leaves(trained.params).map((t) => t.data)
  return {
    model: trained,
    threads: tensor.getThreads(),
    fingerprint: fnv1a(weights),
    loss: history.history.loss,
    values: weights.reduce((n, w) => n + w.length, 0),
    chunksByWorkers: internal.__poolForTests.chunksByWorkers() - before,
    platform: internal.__poolForTests.platform(),
  }
}

/** The fingerprint of a model's params, as `trainTiny` reports it. */
export const fingerprint = (tensor, model) => fnv1a(tensor.tree.leaves(model.params).map((t) => t.data))
