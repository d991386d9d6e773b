import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { key } from '@purenn/tensor'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AnyBlock,
  dense,
  initModel,
  loadModel,
  parallel,
  publishedModelFolder,
  residual,
  saveModel,
  sequential,
  serial,
} from '../src/index.js'

// Layers nested in code are held to the same depth limit as layers read from a file (24: a
// plain layer is 1 deep), so whatever can be built can be saved and loaded back, and no walk
// overflows the stack. Before the limit, serial(serial(...)) 1,000 deep saved a model.json
// that loadModel refused, and 20,000 deep overflowed the stack in initModel.

let root = ''
beforeAll(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'purenn-depth-'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

/** `wrap` applied n times around a Dense: n + 1 deep. */
const nest = (n: number, wrap: (l: AnyBlock) => AnyBlock): AnyBlock => {
  let l: AnyBlock = dense({ units: 2 })
  for (let i = 0; i < n; i++) l = wrap(l)
  return l
}

describe('layers nested in code', () => {
  it('1,000 or 20,000 nested serials: a clear error naming the depth and the limit, no stack overflow', () => {
    for (const n of [1000, 20_000])
      expect(() => nest(n, (l) => serial(l))).toThrow(
        'serial: layers nested 25 deep, more than the limit of 24 (a deeper model could not be saved and loaded back)',
      )
  })

  it('each container checks the depth of its children', () => {
    const deep = nest(23, (l) => serial(l)) // 24 deep: at the limit
    expect(() => sequential([deep])).toThrow('sequential: layers nested 25 deep, more than the limit of 24')
    expect(() => parallel(dense({ units: 2 }), deep)).toThrow('parallel: layers nested 25 deep')
    expect(() => residual(deep)).toThrow('residual: layers nested 25 deep')
  })

  it('a model at the limit saves and loads back, nested by serial, sequential or residual', async () => {
    const wraps: ((l: AnyBlock) => AnyBlock)[] = [
      (l) => serial(l),
      (l) => sequential([l]),
      (l) => residual(serial(l)),
    ]
    for (const [i, wrap] of wraps.entries()) {
      // residual(serial(..)) adds two levels per step
      const model = initModel(nest(i === 2 ? 11 : 23, wrap), { key: key(i), inputShape: [2] })
      const dir = join(root, `limit-${i}`)
      await saveModel(model, dir)
      const back = await loadModel(dir)
      expect(JSON.stringify(back.layer.config)).toBe(JSON.stringify(model.layer.config))
    }
  })

  it('a file one level deeper than the limit is refused with the same message', async () => {
    const dir = join(root, 'file')
    await saveModel(
      initModel(
        nest(23, (l) => serial(l)),
        { key: key(0), inputShape: [2] },
      ),
      dir,
    )
    const path = join(await publishedModelFolder(dir), 'model.json')
    const json = JSON.parse(await fs.readFile(path, 'utf8'))
    json.architecture = { kind: 'Serial', config: { layers: [json.architecture] } }
    json.trainable = { serial: json.trainable }
    await fs.writeFile(path, JSON.stringify(json))
    await expect(loadModel(dir)).rejects.toThrow('serial: layers nested 25 deep, more than the limit of 24')
  })
})
