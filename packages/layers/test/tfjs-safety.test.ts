import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { key } from '@purenn/tensor'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  dense,
  initModel,
  loadTfjsModel,
  saveTfjsModel,
  sequential,
  tfjsModelFromArtifacts,
} from '../src/index.js'

// The TF.js loader reads only what the manifest may name: regular files inside the model folder,
// each once, sizes checked before anything is allocated, and messages that say nothing about
// other files (DESIGN.md, "Saving and loading").

let root = ''
beforeAll(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'purenn-tfjs-safety-'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})
let counter = 0

/** A one-Dense model (2 -> units) in the TF.js Layers format, with its manifest edited by `edit`. */
const write = async (
  opts: { units?: number; paths?: string[]; shard?: Float32Array | null } = {},
): Promise<string> => {
  const dir = join(root, `case-${counter++}`)
  await fs.mkdir(dir)
  const units = opts.units ?? 1
  const dense = { name: 'dense', units, activation: 'linear', use_bias: true, batch_input_shape: [null, 2] }
  const modelTopology = {
    class_name: 'Sequential',
    config: { layers: [{ class_name: 'Dense', config: dense }] },
  }
  const weights = [
    { name: 'dense/kernel', shape: [2, units], dtype: 'float32' },
    { name: 'dense/bias', shape: [units], dtype: 'float32' },
  ]
  const paths = opts.paths ?? ['group1-shard1of1.bin']
  await fs.writeFile(
    join(dir, 'model.json'),
    JSON.stringify({ format: 'layers-model', modelTopology, weightsManifest: [{ paths, weights }] }),
  )
  if (opts.shard !== null)
    await fs.writeFile(join(dir, 'group1-shard1of1.bin'), opts.shard ?? new Float32Array([2, 3, 0.5]))
  return dir
}

const message = (p: Promise<unknown>) =>
  p.then(
    () => 'loaded',
    (e: Error) => e.message,
  )

describe('loadTfjsModel: every path stays inside the model folder', () => {
  it('".." and absolute paths are refused without touching the file system', async () => {
    for (const p of ['../../../../etc/passwd', '/etc/passwd', 'a/../../b.bin', 'C:\\x.bin', '']) {
      const m = await message(loadTfjsModel(await write({ paths: [p] })))
      expect(m).toBe(
        `${JSON.stringify(p)}: not a relative path inside the model folder (no "..", no absolute path)`,
      )
    }
  })

  it('a symbolic link out of the folder is refused, with one message whether its target exists or not', async () => {
    const outside = join(root, `outside-${counter++}.bin`)
    await fs.writeFile(outside, new Float32Array([7, 7, 7]))
    const messages: string[] = []
    for (const target of [outside, join(root, 'no-such-file.bin'), '/etc/passwd']) {
      const dir = await write({ paths: ['link.bin'] })
      await fs.symlink(target, join(dir, 'link.bin'))
      messages.push(await message(loadTfjsModel(dir)))
    }
    expect(new Set(messages)).toEqual(
      new Set(['link.bin: a symbolic link that does not resolve to a file inside the model folder, refused']),
    )
    // a folder that is a link out of the model folder, holding (or not) the file
    const dir = await write({ paths: ['sub/x.bin'] })
    await fs.symlink(root, join(dir, 'sub'))
    expect(await message(loadTfjsModel(dir))).toBe(
      'sub/x.bin: a symbolic link that does not resolve to a file inside the model folder, refused',
    )
  })

  it('a symbolic link inside the folder is followed', async () => {
    const dir = await write({ paths: ['link.bin'] })
    await fs.symlink(join(dir, 'group1-shard1of1.bin'), join(dir, 'link.bin'))
    const m = await loadTfjsModel(dir)
    expect([...m.params.dense!.bias.data]).toEqual([0.5])
  })

  it('a shard listed twice is refused', async () => {
    const m = await message(
      loadTfjsModel(await write({ paths: ['group1-shard1of1.bin', 'group1-shard1of1.bin'] })),
    )
    expect(m).toBe('model.json: weightsManifest[0].paths[1]: the same shard as weightsManifest[0].paths[0]')
  })
})

describe('loadTfjsModel: two shards of one group', () => {
  /** units 2: kernel [2,2] and bias [2], 24 bytes in two shards of 12 (values 1..6). */
  const twoShards = async (paths: string[]): Promise<string> => {
    const dir = await write({ units: 2, paths, shard: null })
    await fs.writeFile(join(dir, 'group1-shard1of2.bin'), new Float32Array([1, 2, 3]))
    await fs.writeFile(join(dir, 'group1-shard2of2.bin'), new Float32Array([4, 5, 6]))
    return dir
  }

  it('load in the order listed', async () => {
    const m = await loadTfjsModel(await twoShards(['group1-shard1of2.bin', 'group1-shard2of2.bin']))
    expect([...m.params.dense!.kernel.data, ...m.params.dense!.bias.data]).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('one file under two spellings or through a link is refused, naming the manifest entry', async () => {
    const dir = await twoShards(['a.bin', './a.bin'])
    await fs.rename(join(dir, 'group1-shard1of2.bin'), join(dir, 'a.bin'))
    expect(await message(loadTfjsModel(dir))).toBe(
      'model.json: weightsManifest[0].paths[1]: "./a.bin" is the same file as weightsManifest[0].paths[0]',
    )
    const dir2 = await twoShards(['a.bin', 'b.bin'])
    await fs.rename(join(dir2, 'group1-shard1of2.bin'), join(dir2, 'a.bin'))
    await fs.symlink(join(dir2, 'a.bin'), join(dir2, 'b.bin'))
    expect(await message(loadTfjsModel(dir2))).toBe(
      'model.json: weightsManifest[0].paths[1]: "b.bin" is the same file as weightsManifest[0].paths[0]',
    )
  })

  it("shards listed against their TF.js names are refused (the one order check TF.js' format allows)", async () => {
    const swapped = await twoShards(['group1-shard2of2.bin', 'group1-shard1of2.bin'])
    expect(await message(loadTfjsModel(swapped))).toBe(
      'model.json: weightsManifest[0].paths[0]: "group1-shard2of2.bin" is named shard 2 of 2, listed as shard 1: the shards are out of order',
    )
    const dir = await twoShards(['group1-shard1of2.bin', 'group2-shard1of1.bin'])
    expect(await message(loadTfjsModel(dir))).toBe(
      'model.json: weightsManifest[0].paths[1]: "group2-shard1of1.bin" is a shard of group 2, listed with the shards of group 1',
    )
  })
})

describe("loadTfjsModel: purenn's shard checksums (purennSha256)", () => {
  const sha = (bytes: Float32Array) => createHash('sha256').update(new Uint8Array(bytes.buffer)).digest('hex')
  const a = new Float32Array([1, 2, 3])
  const b = new Float32Array([4, 5, 6])
  /** Two equal-size shards under names that are not TF.js's, with the manifest's checksums. */
  const withSums = async (paths: string[], sums: unknown): Promise<string> => {
    const dir = await write({ units: 2, shard: null })
    const json = JSON.parse(await fs.readFile(join(dir, 'model.json'), 'utf8'))
    json.weightsManifest[0].paths = paths
    json.weightsManifest[0].purennSha256 = sums
    await fs.writeFile(join(dir, 'model.json'), JSON.stringify(json))
    await fs.writeFile(join(dir, 'a.bin'), a)
    await fs.writeFile(join(dir, 'b.bin'), b)
    return dir
  }

  it('load when each shard matches its checksum', async () => {
    const m = await loadTfjsModel(await withSums(['a.bin', 'b.bin'], [sha(a), sha(b)]))
    expect([...m.params.dense!.kernel.data, ...m.params.dense!.bias.data]).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('two equal-size shards swapped (in the list or on disk) are refused, naming the shard', async () => {
    expect(await message(loadTfjsModel(await withSums(['b.bin', 'a.bin'], [sha(a), sha(b)])))).toBe(
      'b.bin: checksum mismatch (SHA-256 differs from model.json weightsManifest[0].purennSha256[0]): the file is damaged or not the shard listed there',
    )
    const dir = await withSums(['a.bin', 'b.bin'], [sha(a), sha(b)])
    await fs.writeFile(join(dir, 'a.bin'), b)
    await fs.writeFile(join(dir, 'b.bin'), a)
    expect(await message(loadTfjsModel(dir))).toMatch(/^a\.bin: checksum mismatch .*purennSha256\[0\]\)/)
  })

  it('a flipped bit in the second shard is refused, naming it', async () => {
    const dir = await withSums(['a.bin', 'b.bin'], [sha(a), sha(b)])
    const bytes = new Uint8Array(b.slice().buffer)
    bytes[5]! ^= 0x10
    await fs.writeFile(join(dir, 'b.bin'), bytes)
    expect(await message(loadTfjsModel(dir))).toMatch(/^b\.bin: checksum mismatch .*purennSha256\[1\]\)/)
  })

  it('a wrong count or a malformed checksum is an error naming the field', async () => {
    expect(await message(loadTfjsModel(await withSums(['a.bin', 'b.bin'], [sha(a)])))).toBe(
      'model.json: weightsManifest[0].purennSha256: 1 checksums for 2 paths',
    )
    expect(await message(loadTfjsModel(await withSums(['a.bin', 'b.bin'], [sha(a), 'abc'])))).toBe(
      'model.json: weightsManifest[0].purennSha256[1]: expected 64 lowercase hexadecimal digits (a SHA-256), got "abc"',
    )
  })
})

describe('loadTfjsModel: checks before it allocates or blocks', () => {
  it('a FIFO as model.json or as a shard fails at once', async () => {
    const dir = await write({ shard: null })
    execFileSync('mkfifo', [join(dir, 'group1-shard1of1.bin')])
    expect(await message(loadTfjsModel(dir))).toBe('group1-shard1of1.bin: not a regular file')
    const dir2 = await write()
    await fs.rm(join(dir2, 'model.json'))
    execFileSync('mkfifo', [join(dir2, 'model.json')])
    expect(await message(loadTfjsModel(dir2))).toBe('model.json: not a regular file')
  })

  it('a missing shard of a 20000x20000 layer fails with no large allocation', async () => {
    const before = process.memoryUsage().arrayBuffers
    const dir = await write({ units: 20000, shard: null })
    const json = JSON.parse(await fs.readFile(join(dir, 'model.json'), 'utf8'))
    json.modelTopology.config.layers[0].config.batch_input_shape = [null, 20000]
    json.weightsManifest[0].weights[0].shape = [20000, 20000]
    await fs.writeFile(join(dir, 'model.json'), JSON.stringify(json))
    expect(await message(loadTfjsModel(dir))).toBe('group1-shard1of1.bin: not found in the model folder')
    // 1.6 GB of weights would show here: allow 50 MB of noise
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(50e6)
  })

  it('a huge units that no weight has fails before the layer is built', async () => {
    const dir = await write()
    const json = JSON.parse(await fs.readFile(join(dir, 'model.json'), 'utf8'))
    json.modelTopology.config.layers[0].config.units = 1_000_000_000
    await fs.writeFile(join(dir, 'model.json'), JSON.stringify(json))
    expect(await message(loadTfjsModel(dir))).toBe(
      'model.json: modelTopology.config.layers[0].config.units: 1000000000 is no dimension of any weight in weightsManifest',
    )
    expect(await message(loadTfjsModel(await write(), { maxBytes: 8 }))).toBe(
      'model.json: weightsManifest: 12 bytes of weights, more than maxBytes (8)',
    )
  })

  it('an input shape that no weight backs fails before the layer is built', async () => {
    const dir = await write()
    const json = JSON.parse(await fs.readFile(join(dir, 'model.json'), 'utf8'))
    json.modelTopology.config.layers[0].config.batch_input_shape = [null, 1_000_000_000]
    await fs.writeFile(join(dir, 'model.json'), JSON.stringify(json))
    expect(await message(loadTfjsModel(dir))).toBe(
      'model.json: input shape[0]: 1000000000 is larger than any weight dimension in weightsManifest (2)',
    )
  })

  it('NaN or infinite weights are refused unless allowNonFinite', async () => {
    const dir = await write({ shard: new Float32Array([2, Number.NEGATIVE_INFINITY, 0.5]) })
    expect(await message(loadTfjsModel(dir))).toBe(
      'group1-shard1of1.bin: weightsManifest[0].weights[0] (dense/kernel): value 1 is -Infinity (non-finite weights are refused; { allowNonFinite: true } accepts them)',
    )
    const m = await loadTfjsModel(dir, { allowNonFinite: true })
    expect([...m.params.dense!.kernel.data]).toEqual([2, Number.NEGATIVE_INFINITY])
  })

  it('tfjsModelFromArtifacts makes the same checks: non-finite weights, maxBytes, unbacked sizes', () => {
    const dense1 = {
      name: 'dense',
      units: 1,
      activation: 'linear',
      use_bias: true,
      batch_input_shape: [null, 2],
    }
    const artifacts = (inputs: number, weightData: Float32Array) => ({
      modelTopology: {
        class_name: 'Sequential',
        config: {
          layers: [{ class_name: 'Dense', config: { ...dense1, batch_input_shape: [null, inputs] } }],
        },
      },
      weightSpecs: [
        { name: 'dense/kernel', shape: [2, 1], dtype: 'float32' },
        { name: 'dense/bias', shape: [1], dtype: 'float32' },
      ],
      weightData: new Uint8Array(weightData.buffer),
    })
    const nan = artifacts(2, new Float32Array([2, 3, Number.NaN]))
    expect(() => tfjsModelFromArtifacts(nan)).toThrow(
      'tfjsModelFromArtifacts: weightData: weightsManifest[0].weights[1] (dense/bias): value 0 is NaN (non-finite weights are refused; { allowNonFinite: true } accepts them)',
    )
    expect(tfjsModelFromArtifacts(nan, { allowNonFinite: true }).params.dense!.bias.data[0]).toBeNaN()
    expect(() => tfjsModelFromArtifacts(artifacts(2, new Float32Array([2, 3, 1])), { maxBytes: 8 })).toThrow(
      'tfjsModelFromArtifacts: weightsManifest: 12 bytes of weights, more than maxBytes (8)',
    )
    expect(() => tfjsModelFromArtifacts(artifacts(1_000_000_000, new Float32Array([2, 3, 1])))).toThrow(
      'tfjsModelFromArtifacts: input shape[0]: 1000000000 is larger than any weight dimension in weightsManifest (2)',
    )
  })

  it('JSON errors do not quote the file', async () => {
    const dir = await write()
    await fs.writeFile(join(dir, 'model.json'), 'root:x:0:0:root:/root:/bin/bash\n')
    const m = await message(loadTfjsModel(dir))
    expect(m).toMatch(/^model\.json: not valid JSON( \(at character \d+\))?$/)
    expect(m).not.toContain('root')
  })
})

describe('loadTfjsModel: fuzzed model.json and shards', () => {
  it('every damaged file ends in a purenn error naming a file, or a valid model', async () => {
    const dir = await write({ units: 3, shard: new Float32Array(9).fill(0.25) })
    const text = await fs.readFile(join(dir, 'model.json'), 'utf8')
    const edit = fc.tuple(
      fc.nat({ max: text.length - 1 }),
      fc.constantFrom('', '-', '9', '"', '{', ']', '1e9', 'null', '..', '/', '99999999999', 'NaN'),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        fc.nat({ max: 40 }),
        async (es, cut) => {
          let s = text
          for (const [at, ins] of es) s = s.slice(0, at) + ins + s.slice(at + 1)
          await fs.writeFile(join(dir, 'model.json'), s)
          await fs.writeFile(
            join(dir, 'group1-shard1of1.bin'),
            new Uint8Array(new Float32Array(9).fill(0.25).buffer).subarray(0, 36 - (cut % 5)),
          )
          const r = await loadTfjsModel(dir).then(
            () => 'ok',
            (e: Error) => e,
          )
          if (typeof r === 'string') return
          expect(r).not.toBeInstanceOf(TypeError)
          expect(r).not.toBeInstanceOf(RangeError)
          expect(r.message).toMatch(
            /^("[^"]*"|[\w./-]+\.(json|bin)|[^:]+\.bin( \+ [^:]+)*)?: |^model\.json: /,
          )
        },
      ),
      { numRuns: 150, seed: 12 },
    )
  }, 30_000)
})

describe('loadTfjsModel: fuzzed shards of a folder saveTfjsModel wrote (with purennSha256)', () => {
  it('every single-bit flip in the shard is refused, naming the shard', async () => {
    const dir = join(root, `saved-${counter++}`)
    const arch = sequential([dense({ units: 4 }), dense({ units: 2 })], { inputShape: [3] })
    await saveTfjsModel(initModel(arch, { key: key(3) }), dir)
    const shardPath = join(dir, 'group1-shard1of1.bin')
    const shard = new Uint8Array(await fs.readFile(shardPath))
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: shard.length * 8 - 1 }), async (bit) => {
        const flipped = shard.slice()
        flipped[bit >> 3]! ^= 1 << (bit & 7)
        await fs.writeFile(shardPath, flipped)
        expect(await message(loadTfjsModel(dir))).toMatch(
          /^group1-shard1of1\.bin: checksum mismatch \(SHA-256 differs from model\.json weightsManifest\[0\]\.purennSha256\[0\]\)/,
        )
      }),
      { numRuns: 100, seed: 12 },
    )
  }, 30_000)
})
