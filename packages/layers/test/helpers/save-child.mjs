// A child process for the concurrency and crash tests of saveModel (save-safety.test.ts):
//   node save-child.mjs saver  <dir> <ms> <id>   saves models whose every weight is one number
//   node save-child.mjs reader <dir> <ms>        loads and checks that every weight is one number
//   node save-child.mjs crash  <dir> <id>        saves forever (the test kills it)
// It runs on the built packages (dist), as a user's program would. Prints one JSON line.

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
  const until = role === 'saver' ? Date.now() + Number(arg) : Number.POSITIVE_INFINITY
  const who = Number(role === 'saver' ? id : arg)
  let saves = 0
  const errors = []
  for (let i = 0; Date.now() < until; i++) {
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
  const until = Date.now() + Number(arg)
  let loads = 0
  let mixed = 0
  const failures = []
  while (Date.now() < until) {
    try {
      const v = values(await loadModel(dir))
      if (v.some((x) => x !== v[0])) mixed++
      loads++
    } catch (e) {
      failures.push(e.message)
    }
  }
  console.log(JSON.stringify({ loads, mixed, failed: failures.length, messages: failures.slice(0, 3) }))
}
