import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
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

/** What a child prints at its end (save-child.mjs). */
interface ChildResult {
  readonly saves: number
  readonly errors: number
  readonly messages: readonly string[]
  readonly loads: number
  readonly mixed: number
  readonly backwards: number
  readonly failed: number
}

/** Starts the child script: `ready` once it printed "ready", `done` with its last JSON line. */
const start = (args: string[]): { ready: Promise<void>; done: Promise<ChildResult> } => {
  const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let onReady = () => {}
  const ready = new Promise<void>((r) => {
    onReady = r
  })
  p.stdout.on('data', (d) => {
    out += d
    if (out.startsWith('ready\n')) onReady()
  })
  p.stderr.on('data', (d) => (err += d))
  const done = new Promise<ChildResult>((resolve, reject) =>
    p.on('close', (code) => {
      onReady()
      const last = out.trim().split('\n').at(-1) ?? ''
      return code === 0 ? resolve(JSON.parse(last)) : reject(new Error(`child ${code}: ${err}`))
    }),
  )
  return { ready, done }
}
const run = (args: string[]): Promise<ChildResult> => start(args).done

/**
 * Savers (a fixed number of saves each) and readers (loading until the savers are done) on one
 * folder, in separate processes. No timing: the savers start once every reader is ready, and the
 * readers stop after the load that follows the savers' end.
 */
const concurrently = async (dir: string, savers: number, saves: number, readers: number) => {
  const stopFile = `${dir}.stop`
  const rs = Array.from({ length: readers }, () => start(['reader', dir, stopFile]))
  await Promise.all(rs.map((r) => r.ready))
  const ss = await Promise.all(
    Array.from({ length: savers }, (_, i) => run(['saver', dir, String(saves), String(i + 1)])),
  )
  await fs.writeFile(stopFile, '')
  return { savers: ss, readers: await Promise.all(rs.map((r) => r.done)) }
}

const sum = (rs: readonly ChildResult[], f: (r: ChildResult) => number) => rs.reduce((a, r) => a + f(r), 0)

describe('saveModel: concurrent savers and readers', () => {
  it('two savers and two readers: no mixed save, no failed load, no failed save', async () => {
    const dir = fresh()
    await saveModel(small(), dir)
    const { savers, readers } = await concurrently(dir, 2, 40, 2)
    expect({
      errors: sum(savers, (s) => s.errors),
      messages: savers.flatMap((s) => s.messages).concat(readers.flatMap((r) => r.messages)),
      saves: sum(savers, (s) => s.saves),
      mixed: sum(readers, (r) => r.mixed),
      failed: sum(readers, (r) => r.failed),
    }).toEqual({ errors: 0, messages: [], saves: 80, mixed: 0, failed: 0 })
    expect(sum(readers, (r) => r.loads)).toBeGreaterThan(0)
    // what is left: the pointer, the published version and at most the previous ones of both savers
    const names = await fs.readdir(dir)
    expect(names).toContain('CURRENT')
    expect(names.filter((n) => n.startsWith('.'))).toEqual([])
  }, 60_000)

  it('publication only moves forward: CURRENT never names an older save than before, and ends on the newest', async () => {
    const dir = fresh()
    await saveModel(small(), dir)
    const { savers, readers } = await concurrently(dir, 3, 40, 1)
    expect(sum(savers, (s) => s.errors)).toBe(0)
    expect(sum(readers, (r) => r.backwards)).toBe(0)
    const names = await fs.readdir(dir)
    const newest = names
      .filter((n) => /^v\d{6}$/.test(n))
      .sort()
      .at(-1)
    expect((await fs.readFile(join(dir, 'CURRENT'), 'utf8')).trim()).toBe(newest)
    // the highest number goes to a saver's last save (any later save of that saver would list
    // the folder and take a higher one), so the published model is one of the three last saves;
    // numbers are not counted: a saver stalled between listing and reserving may reuse a number
    // below CURRENT that a clean freed, for a save that is then never published
    const published = (await loadModel(dir)).params.bias.data[0]
    expect([100039, 200039, 300039]).toContain(published)
  }, 60_000)
})

describe('saveModel: the pointer lock', () => {
  it('a lock left by a process that is gone, or older than 30 s, is broken by the next save', async () => {
    const dir = fresh()
    await saveModel(small(0.25), dir)
    const lock = join(dir, '.CURRENT.lock')
    const gone = spawnSync(process.execPath, ['-e', '']).pid! // a process that has ended
    await fs.writeFile(lock, `${gone} 0123abcd\n`)
    await saveModel(small(0.5), dir)
    expect([...(await loadModel(dir)).params.bias.data]).toEqual([0.5, 0.5, 0.5, 0.5])
    // unreadable as "<pid> <token>" (a crash right after creating it) and old: stale as well
    await fs.writeFile(lock, '')
    await fs.utimes(lock, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000))
    await saveModel(small(0.75), dir)
    expect([...(await loadModel(dir)).params.bias.data]).toEqual([0.75, 0.75, 0.75, 0.75])
    expect((await fs.readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([])
  })
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
  }) // the default limit (60 s): six child processes start slowly on a loaded machine

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
