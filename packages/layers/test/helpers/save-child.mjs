// A child process for the concurrency and crash tests of saveModel (save-safety.test.ts):
//   node save-child.mjs saver  <dir> <count> <id>   makes <count> saves of models whose every
//                                                   weight is one number
//   node save-child.mjs reader <dir> <stopFile>     prints "ready", then loads (checking that
//                                                   every weight is one number, and that CURRENT
//                                                   never moves back) until <stopFile> exists
//   node save-child.mjs crash  <dir> <id>           saves forever (the test kills it)
// It runs on the built packages (dist), as a user's program would. Prints one JSON line at the
// end. Nothing here depends on timing: savers make a fixed number of saves, readers stop when
// told (and after at most 100,000 loads).

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { key, tensor } from '../../../tensor/dist/index.js'
import { dense, initModel, loadModel, saveModel } from '../../dist/index.js'

const [role, dir, arg, id] = process.argv.slice(2)
const base = initModel(dense({ units: 4 }), { key: key(0), inputShape: [3] })
const filled = (c) => ({
  ...base,
  params: {
    kernel: tensor(new Float32Array(12).fill(c), [3, 4]),
    bias: tensor(new Float32Array(4).fill(c), [4]),
  },
})
const values = (m) => [...m.params.kernel.data, ...m.params.bias.data]

if (role === 'saver' || role === 'crash') {
  const count = role === 'saver' ? Number(arg) : Number.POSITIVE_INFINITY
  const who = Number(role === 'saver' ? id : arg)
  let saves = 0
  const errors = []
  for (let i = 0; i < count; i++) {
    try {
      await saveModel(filled(who * 100000 + i), dir)
      saves++
    } catch (e) {
      if (errors.length < 3) errors.push(e.message)
      else errors.push('')
    }
  }
  console.log(JSON.stringify({ saves, errors: errors.length, messages: errors.filter((m) => m !== '') }))
} else {
  const stopFile = arg
  const current = () => {
    try {
      return Number(readFileSync(join(dir, 'CURRENT'), 'utf8').trim().slice(1))
    } catch {
      return 0
    }
  }
  console.log('ready')
  let loads = 0
  let mixed = 0
  let backwards = 0
  let last = 0
  const failures = []
  for (let i = 0; i < 100_000; i++) {
    const stop = existsSync(stopFile) // one more load after the savers are done
    const now = current()
    if (now < last) backwards++
    last = Math.max(last, now)
    try {
      const v = values(await loadModel(dir))
      if (v.some((x) => x !== v[0])) mixed++
      loads++
    } catch (e) {
      failures.push(e.message)
    }
    if (stop) break
  }
  console.log(
    JSON.stringify({ loads, mixed, backwards, failed: failures.length, messages: failures.slice(0, 3) }),
  )
}
