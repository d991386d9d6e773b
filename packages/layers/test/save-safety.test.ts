import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { key, tensor } from '@purenn/tensor'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  dense,
  initModel,
  loadModel,
  type Model,
  publishedModelFolder,
  saveModel,
  sequential,
} from '../src/index.js'

// Saves that concurrent readers and crashes cannot break, and a loader that checks before it
// trusts (DESIGN.md, "Saving and loading"). The child processes run on the built packages.

const child = fileURLToPath(new URL('./helpers/save-child.mjs', import.meta.url))

let root = ''
beforeAll(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'purenn-save-safety-'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})
let counter = 0
const fresh = () => join(root, `case-${counter++}`)

const small = (c = 0.5): Model => {
  const m = initModel(dense({ units: 4 }), { key: key(0), inputShape: [3] })
  return {
    ...m,
    params: {
      kernel: tensor(new Float32Array(12).fill(c), [3, 4]),
      bias: tensor(new Float32Array(4).fill(c), [4]),
    },
  }
}

/** Runs the child script to its end; its one JSON line. */
interface ChildResult {
  readonly saves: number
  readonly errors: number
  readonly loads: number
  readonly mixed: number
  readonly failed: number
}
const run = (args: string[]): Promise<ChildResult> =>
  new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    p.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child ${code}: ${err}`)),
    )
  })

describe('saveModel: concurrent savers and readers', () => {
  it('two savers and two readers for 2.5 s: no mixed save, no failed load, no failed save', async () => {
    const dir = fresh()
    await saveModel(small(), dir)
    const ms = '2500'
    const results = await Promise.all([
      run(['saver', dir, ms, '1']),
      run(['saver', dir, ms, '2']),
      run(['reader', dir, ms]),
      run(['reader', dir, ms]),
    ])
    const [s1, s2, r1, r2] = results as {
      saves: number
      errors: number
      loads: number
      mixed: number
      failed: number
    }[]
    expect({
      errors: s1!.errors + s2!.errors,
      mixed: r1!.mixed + r2!.mixed,
      failed: r1!.failed + r2!.failed,
    }).toEqual({
      errors: 0,
      mixed: 0,
      failed: 0,
    })
    expect(s1!.saves).toBeGreaterThan(0)
    expect(s2!.saves).toBeGreaterThan(0)
    expect(r1!.loads + r2!.loads).toBeGreaterThan(0)
    // what is left: the pointer, the published version and at most the previous ones of both savers
    const names = await fs.readdir(dir)
    expect(names).toContain('CURRENT')
    expect(names.filter((n) => n.startsWith('.'))).toEqual([])
  }, 20_000)
})

describe('saveModel: crashes', () => {
  it('a saver killed at random moments always leaves a complete published save; the next save cleans up', async () => {
    const dir = fresh()
    await saveModel(small(0.25), dir)
    // seeded delays: the kills land before, inside and between saves
    const delays = fc.sample(fc.integer({ min: 80, max: 500 }), { numRuns: 6, seed: 12 })
    for (const ms of delays) {
      const p: ChildProcess = spawn(process.execPath, [child, 'crash', dir, '7'], { stdio: 'ignore' })
      await new Promise((r) => setTimeout(r, ms))
      p.kill('SIGKILL')
      await new Promise((r) => p.on('exit', r))
      const m = await loadModel(dir)
      const v = [...m.params.kernel.data, ...m.params.bias.data]
      expect(v.every((x) => x === v[0])).toBe(true)
    }
    // a leftover of a process that is gone, as a crash mid-write leaves it
    const dead = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)']).toString())
    await fs.mkdir(join(dir, `.tmp-${dead}-abcdef`))
    await fs.writeFile(join(dir, `.tmp-${dead}-abcdef`, 'weights.bin'), new Uint8Array(1000))
    await saveModel(small(0.75), dir)
    const names = (await fs.readdir(dir)).sort()
    expect(names.filter((n) => n.startsWith('.'))).toEqual([])
    expect(names.filter((n) => n.startsWith('v')).length).toBeLessThanOrEqual(2)
    expect((await loadModel(dir)).params.kernel.data[0]).toBe(0.75)
  }, 20_000)

  it('folders honour the umask (as a plain mkdir does)', async () => {
    const control = fresh()
    await fs.mkdir(control)
    const dir = fresh()
    await saveModel(small(), dir)
    const mode = async (p: string) => (await fs.stat(p)).mode & 0o777
    expect(await mode(dir)).toBe(await mode(control))
    expect(await mode(await publishedModelFolder(dir))).toBe(await mode(control))
  })

  it('keeps the previous version for readers, and removes older ones', async () => {
    const dir = fresh()
    for (let i = 0; i < 4; i++) await saveModel(small(i), dir)
    expect((await fs.readdir(dir)).sort()).toEqual(['CURRENT', 'v000003', 'v000004'])
    await saveModel(small(9), dir, { keepPrevious: 0 })
    expect((await fs.readdir(dir)).sort()).toEqual(['CURRENT', 'v000005'])
  })
})

describe('loadModel: checks before it trusts', () => {
  const saved = async (m: Model = small()) => {
    const dir = fresh()
    await saveModel(m, dir)
    return { dir, folder: await publishedModelFolder(dir) }
  }

  it('a flipped bit is an error naming the tensor (100 seeded flips, every one caught)', async () => {
    const { dir, folder } = await saved(
      initModel(sequential([dense({ units: 5 }), dense({ units: 2 })], { inputShape: [3] }), { key: key(3) }),
    )
    const bin = await fs.readFile(join(folder, 'weights.bin'))
    const names = ['dense.kernel', 'dense.bias', 'dense_1.kernel', 'dense_1.bias']
    const bounds = [0, 60, 80, 120, 128]
    for (const bit of fc.sample(fc.integer({ min: 0, max: bin.length * 8 - 1 }), { numRuns: 100, seed: 5 })) {
      const damaged = Uint8Array.from(bin)
      damaged[bit >> 3]! ^= 1 << (bit & 7)
      await fs.writeFile(join(folder, 'weights.bin'), damaged)
      const byte = bit >> 3
      const which = names[bounds.findIndex((b, i) => byte >= b && byte < bounds[i + 1]!)]
      await expect(loadModel(dir)).rejects.toThrow(
        `weights.bin: ${which}: checksum mismatch (SHA-256 differs from model.json): the file is damaged`,
      )
    }
  }, 20_000)

  it('NaN and infinite weights are refused unless allowNonFinite', async () => {
    const m = small()
    const bad = { ...m, params: { ...m.params, bias: tensor([0, Number.NaN, 1, Number.POSITIVE_INFINITY]) } }
    const { dir } = await saved(bad)
    await expect(loadModel(dir)).rejects.toThrow(
      'weights.bin: bias: value 1 is NaN (non-finite weights are refused; loadModel(dir, { allowNonFinite: true }) accepts them)',
    )
    const loaded = await loadModel(dir, { allowNonFinite: true })
    expect([...loaded.params.bias.data]).toEqual([0, Number.NaN, 1, Number.POSITIVE_INFINITY])
  })

  it('a FIFO or a folder in place of a file is refused at once (no hang)', async () => {
    for (const name of ['weights.bin', 'model.json']) {
      const { dir, folder } = await saved()
      await fs.rm(join(folder, name))
      execFileSync('mkfifo', [join(folder, name)])
      await expect(loadModel(dir)).rejects.toThrow(`${name}: not a regular file`)
      await fs.rm(join(folder, name))
      await fs.mkdir(join(folder, name))
      await expect(loadModel(dir)).rejects.toThrow(`${name}: not a regular file`)
    }
  })

  it('a huge units fails before anything is allocated', async () => {
    const { dir, folder } = await saved()
    const json = JSON.parse(await fs.readFile(join(folder, 'model.json'), 'utf8'))
    json.architecture.config.units = 1_000_000_000
    await fs.writeFile(join(folder, 'model.json'), JSON.stringify(json))
    await expect(loadModel(dir)).rejects.toThrow(
      'model.json: architecture.config.units: 1000000000 is no dimension of any weight in the manifest',
    )
    json.architecture.config.units = 4
    json.inputShape = [2_000_000_000]
    await fs.writeFile(join(folder, 'model.json'), JSON.stringify(json))
    await expect(loadModel(dir)).rejects.toThrow(
      'model.json: inputShape[0]: 2000000000 is larger than any weight dimension in the manifest (4)',
    )
    json.inputShape = [3]
    await fs.writeFile(join(folder, 'model.json'), JSON.stringify(json))
    await expect(loadModel(dir, { maxBytes: 10 })).rejects.toThrow(
      'model.json: byteLength: 64 bytes of weights, more than maxBytes (10)',
    )
    json.weights[1].shape = [1_000_000_000]
    json.byteLength = 4_000_000_048
    await fs.writeFile(join(folder, 'model.json'), JSON.stringify(json))
    await expect(loadModel(dir)).rejects.toThrow(
      'weights.bin: expected 4000000048 bytes (from model.json), found 64',
    )
  })

  it('damaged model.json: every case a purenn error naming model.json or weights.bin, or a valid model', async () => {
    const { dir, folder } = await saved(
      initModel(sequential([dense({ units: 5 }), dense({ units: 2 })], { inputShape: [3] }), { key: key(3) }),
    )
    const text = await fs.readFile(join(folder, 'model.json'), 'utf8')
    const edits = fc.array(
      fc.tuple(
        fc.nat({ max: text.length - 1 }),
        fc.oneof(
          fc.constantFrom('', '-', '9', '"', '{', ']', '1e9', 'null', '99999999999'),
          fc.string({ maxLength: 3 }),
        ),
      ),
      { minLength: 1, maxLength: 3 },
    )
    await fc.assert(
      fc.asyncProperty(edits, async (es) => {
        let s = text
        for (const [at, ins] of es) s = s.slice(0, at) + ins + s.slice(at + 1)
        await fs.writeFile(join(folder, 'model.json'), s)
        const r = await loadModel(dir).then(
          () => 'ok',
          (e: Error) => e,
        )
        if (typeof r === 'string') return
        expect(r).not.toBeInstanceOf(TypeError)
        expect(r).not.toBeInstanceOf(RangeError)
        expect(r.message).toMatch(/^(model\.json|weights\.bin): /)
      }),
      { numRuns: 150, seed: 12 },
    )
  }, 30_000)
})

describe('loadModel: deep nesting', () => {
  it('10^4 levels of trainable or 1000 nested layers: a clear error, no stack overflow', async () => {
    const dir = fresh()
    await saveModel(small(), dir)
    const folder = await publishedModelFolder(dir)
    const json = JSON.parse(await fs.readFile(join(folder, 'model.json'), 'utf8'))
    json.trainable = `${'['.repeat(10_000)}true${']'.repeat(10_000)}`
    await fs.writeFile(
      join(folder, 'model.json'),
      JSON.stringify(json).replace(`"${json.trainable}"`, json.trainable),
    )
    await expect(loadModel(dir)).rejects.toThrow('model.json: nested more than 100 levels deep')
    let arch: unknown = { kind: 'Dense', config: { units: 4 } }
    for (let i = 0; i < 1000; i++) arch = { kind: 'Sequential', config: { layers: [arch] } }
    json.trainable = { kernel: true, bias: true }
    json.architecture = arch
    await fs.writeFile(join(folder, 'model.json'), JSON.stringify(json))
    await expect(loadModel(dir)).rejects.toThrow('model.json: nested more than 100 levels deep')
  })
})

describe('saveModel: a crash during the very first save', () => {
  it('leaves a folder that the next save fills', async () => {
    const dir = fresh()
    const dead = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)']).toString())
    await fs.mkdir(join(dir, `.tmp-${dead}-0123ab`), { recursive: true })
    await expect(loadModel(dir)).rejects.toThrow('model.json: not found in the model folder')
    await saveModel(small(0.5), dir)
    expect((await fs.readdir(dir)).sort()).toEqual(['CURRENT', 'v000001'])
  })
})
