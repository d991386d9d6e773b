// A child process for the resume test (resume.test.ts): trains a small dropout model with Adam,
// shuffling, validation and early stopping, and writes its final weights (as bits) and history.
//   node resume-child.mjs plain  <result.json>            an uninterrupted run, no checkpoints
//   node resume-child.mjs resume <result.json> <ckptDir>  checkpoints every 3 steps; resumes
//                                                        from <ckptDir> when it holds one
// It runs on the built packages (dist), as a user's program would.
import { existsSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { dense, dropout, initModel, sequential } from '../../../layers/dist/index.js'
import { adam } from '../../../optim/dist/index.js'
import { add, key, normal, tensor, tree } from '../../../tensor/dist/index.js'
import { earlyStopping, fit } from '../../dist/index.js'

const [mode, resultFile, dir] = process.argv.slice(2)
const n = 96
const x = add(
  normal(key(1), [n, 2]),
  tensor(Array.from({ length: n }, (_, i) => (i % 2 === 0 ? [-1, -1] : [1, 1]))),
)
const y = tensor(Array.from({ length: n }, (_, i) => i % 2))
const model = initModel(
  sequential(
    [
      dense({ units: 16, activation: 'relu' }),
      dropout({ rate: 0.3 }),
      dense({ units: 2, activation: 'softmax' }),
    ],
    {
      inputShape: [2],
    },
  ),
  { key: key(2) },
)
const resuming = mode === 'resume' && existsSync(join(dir, 'CURRENT'))
const { model: trained, history } = await fit(model, x, y, {
  loss: 'sparseCategoricalCrossentropy',
  optimizer: adam({ learningRate: 0.01 }),
  metrics: ['accuracy'],
  epochs: 6,
  batchSize: 8,
  validationSplit: 0.25,
  key: key(3),
  verbose: 0,
  callbacks: [earlyStopping({ patience: 20 })],
  ...(mode === 'resume' ? { checkpoint: { dir, everySteps: 3 } } : {}),
  ...(resuming ? { resumeFrom: dir } : {}),
})
const bits = (t) =>
  Object.fromEntries(
    tree.flatten(t).map(([p, leaf]) => [p, Array.from(new Uint32Array(Float32Array.from(leaf.data).buffer))]),
  )
const result = JSON.stringify({ params: bits(trained.params), state: bits(trained.state), history })
await writeFile(`${resultFile}.tmp`, result)
await rename(`${resultFile}.tmp`, resultFile)
