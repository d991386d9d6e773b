import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { key, tensor, tree } from '@purenn/tensor'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  activation,
  applyModel,
  batchNormalization,
  type CustomLayers,
  countParams,
  dense,
  dropout,
  freeze,
  initModel,
  loadModel,
  type Model,
  publishedModelFolder,
  saveModel,
  sequential,
} from '../src/index.js'
import { chapterModel } from './helpers/chapter.js'

// Failures can be injected into the file writes of saveModel (it opens each file with fs.open).
const inject = vi.hoisted(() => ({ failOn: undefined as string | undefined }))
vi.mock('node:fs/promises', async (importOriginal) => {
  const orig = await importOriginal<typeof import('node:fs/promises')>()
  const open = (async (path: Parameters<typeof orig.open>[0], ...rest: unknown[]) => {
    if (inject.failOn !== undefined && String(path).endsWith(inject.failOn))
      throw new Error('injected: disk full')
    return (orig.open as (...a: unknown[]) => ReturnType<typeof orig.open>)(path, ...rest)
  }) as typeof orig.open
  return { ...orig, open, default: { ...orig, open } }
})

let root = ''
beforeAll(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'purenn-save-test-'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})
beforeEach(() => {
  inject.failOn = undefined
})

let counter = 0
/** A fresh empty parent directory, and a model path inside it. */
const place = async (): Promise<{ parent: string; dir: string }> => {
  const parent = join(root, `case-${counter++}`)
  await fs.mkdir(parent)
  return { parent, dir: join(parent, 'model') }
}

/** The chapter's model with moving statistics away from their initial values, and a frozen layer. */
const trainedChapterModel = (): Model => {
  const m = initModel(chapterModel(), { key: key(42) })
  const x = tensor(
    Float32Array.from({ length: 8 * 784 }, (_, i) => Math.cos(i * 0.37)),
    [8, 28, 28],
  )
  return freeze({ ...m, state: applyModel(m, x, { training: true }).state }, ['dense'])
}

const small = (): Model =>
  initModel(
    sequential([dense({ units: 3 }), batchNormalization(), dense({ units: 2 })], { inputShape: [4] }),
    {
      key: key(1),
    },
  )

const bits = (m: Model) =>
  [...tree.leaves(m.params), ...tree.leaves(m.state)].map((t) => [
    ...new Uint32Array(Float32Array.from(t.data).buffer),
  ])

// biome-ignore lint/suspicious/noExplicitAny: parsed model.json, edited freely to break it
type Edited = Record<string, any>
const readJson = async (dir: string): Promise<Edited> =>
  JSON.parse(await fs.readFile(join(await publishedModelFolder(dir), 'model.json'), 'utf8'))
const writeJson = async (dir: string, json: unknown) =>
  fs.writeFile(join(await publishedModelFolder(dir), 'model.json'), JSON.stringify(json))
/** A file of the published version of a saved model. */
const file = async (dir: string, name: string) => join(await publishedModelFolder(dir), name)

describe('saveModel / loadModel: round trip', () => {
  it('is bitwise: params, state, trainable mask, architecture, and the same outputs on a batch', async () => {
    const model = trainedChapterModel()
    const { dir } = await place()
    await saveModel(model, dir)
    const loaded = await loadModel(dir)
    expect(bits(loaded)).toEqual(bits(model))
    expect(loaded.trainable).toEqual(model.trainable)
    expect(loaded.layer.config).toEqual(model.layer.config)
    expect(loaded.inputShape).toEqual([28, 28])
    expect(countParams(loaded)).toEqual(countParams(model))
    const x = tensor(
      Float32Array.from({ length: 3 * 784 }, (_, i) => (i % 29) / 29),
      [3, 28, 28],
    )
    expect([...applyModel(loaded, x).y.data]).toEqual([...applyModel(model, x).y.data])
    const t1 = applyModel(loaded, x, { training: true })
    const t0 = applyModel(model, x, { training: true })
    expect([...t1.y.data]).toEqual([...t0.y.data])
  })

  it('writes model.json (format, version, manifest, byte length) and little-endian float32 weights.bin', async () => {
    const model = trainedChapterModel()
    const { dir } = await place()
    await saveModel(model, dir)
    expect((await fs.readdir(dir)).sort()).toEqual(['CURRENT', 'v000001'])
    expect(await fs.readFile(join(dir, 'CURRENT'), 'utf8')).toBe('v000001\n')
    expect((await fs.readdir(join(dir, 'v000001'))).sort()).toEqual(['model.json', 'weights.bin'])
    const json = await readJson(dir)
    expect(json.format).toBe('purenn-model')
    expect(json.formatVersion).toBe(2)
    expect(json.architecture.kind).toBe('Sequential')
    expect(json.inputShape).toEqual([28, 28])
    expect(json.trainable.dense).toEqual({ kernel: false, bias: false })
    expect(json.weights.slice(0, 6).map(({ sha256, ...w }: Edited) => w)).toEqual([
      { name: 'batch_normalization.gamma', shape: [784], offset: 0, group: 'params' },
      { name: 'batch_normalization.beta', shape: [784], offset: 3136, group: 'params' },
      { name: 'batch_normalization.movingMean', shape: [784], offset: 6272, group: 'state' },
      { name: 'batch_normalization.movingVariance', shape: [784], offset: 9408, group: 'state' },
      { name: 'dense.kernel', shape: [784, 300], offset: 12544, group: 'params' },
      { name: 'dense.bias', shape: [300], offset: 12544 + 4 * 235200, group: 'params' },
    ])
    expect(json.byteLength).toBe(4 * 271346)
    const bin = await fs.readFile(await file(dir, 'weights.bin'))
    expect(bin.byteLength).toBe(4 * 271346)
    // each weight's SHA-256 is that of its bytes in weights.bin
    for (const w of json.weights) {
      const n = w.shape.reduce((p: number, d: number) => p * d, 1)
      expect(w.sha256).toBe(
        createHash('sha256')
          .update(bin.subarray(w.offset, w.offset + 4 * n))
          .digest('hex'),
      )
    }
    const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength)
    const kernel = model.params.dense.kernel.data
    expect(view.getFloat32(12544, true)).toBe(kernel[0])
    expect(view.getFloat32(12544 + 4 * 1234, true)).toBe(kernel[1234])
    expect(view.getFloat32(6272 + 4 * 5, true)).toBe(model.state.batch_normalization.movingMean.data[5])
  })

  it('replaces an existing saved model and leaves nothing else behind', async () => {
    const { parent, dir } = await place()
    await saveModel(small(), dir)
    const other = freeze(initModel(small().layer, { key: key(9), inputShape: [4] }))
    await saveModel(other, dir)
    expect(bits(await loadModel(dir))).toEqual(bits(other))
    expect((await loadModel(dir)).trainable).toEqual(other.trainable)
    expect(await fs.readdir(parent)).toEqual(['model'])
  })

  it('rebuilds custom layer kinds given to loadModel', async () => {
    const relu6 = () => ({ ...activation('relu'), kind: 'Relu6', config: {} })
    const custom: CustomLayers = { Relu6: () => E.right(relu6()) }
    const m = initModel(sequential([dense({ units: 2 }), relu6()], { inputShape: [3] }), { key: key(0) })
    const { dir } = await place()
    await saveModel(m, dir)
    await expect(loadModel(dir)).rejects.toThrow(
      /^model\.json: architecture: unknown layer kind "Relu6" at layers\[1\]/,
    )
    expect(bits(await loadModel(dir, { customLayers: custom }))).toEqual(bits(m))
  })
})

describe('loadModel: bad files give errors naming the file and the field', () => {
  const saved = async () => {
    const { dir } = await place()
    await saveModel(small(), dir)
    return dir
  }
  const edit = async (f: (json: Edited) => void) => {
    const dir = await saved()
    const json = await readJson(dir)
    f(json)
    await writeJson(dir, json)
    return dir
  }

  it('truncated weights.bin', async () => {
    const dir = await saved()
    const json = await readJson(dir)
    const bin = await fs.readFile(await file(dir, 'weights.bin'))
    await fs.writeFile(await file(dir, 'weights.bin'), bin.subarray(0, 40))
    await expect(loadModel(dir)).rejects.toThrow(
      `weights.bin: expected ${json.byteLength} bytes (from model.json), found 40`,
    )
  })

  it('a mis-shaped manifest entry', async () => {
    const dir = await edit((j) => {
      j.weights[3].shape = [3, -1]
    })
    await expect(loadModel(dir)).rejects.toThrow(
      'model.json: weights[3].shape: expected array of non-negative integers, got [3,-1]',
    )
  })

  it('a manifest shape that does not match the architecture (same size)', async () => {
    const dir = await edit((j) => {
      j.weights[0].shape = [3, 4]
    })
    await expect(loadModel(dir)).rejects.toThrow(
      'model.json: weights[0]: the architecture expects dense.kernel [4,3] (params), the manifest has dense.kernel [3,4] (params)',
    )
  })

  it('offsets that are not back to back, and a wrong byte length', async () => {
    const dir = await edit((j) => {
      j.weights[2].offset += 4
    })
    await expect(loadModel(dir)).rejects.toThrow(
      'model.json: weights[2].offset: expected 60 (right after weights[1]), got 64',
    )
    const dir2 = await edit((j) => {
      j.byteLength = 12
    })
    await expect(loadModel(dir2)).rejects.toThrow(
      /^model\.json: byteLength: expected \d+ \(4 bytes per value of the weights\), got 12/,
    )
  })

  it('wrongly typed fields', async () => {
    const cases: [(j: Edited) => void, string][] = [
      [
        (j) => (j.formatVersion = '1'),
        'model.json: formatVersion: expected 1, 2 or 3 (the format versions this purenn reads), got "1"',
      ],
      [(j) => (j.format = 'keras'), 'model.json: format: expected "purenn-model", got "keras"'],
      [
        (j) => (j.inputShape = 'four'),
        'model.json: inputShape: expected array of non-negative integers, got "four"',
      ],
      [(j) => (j.trainable = 3), 'model.json: trainable: expected a boolean or a tree of booleans, got 3'],
      [
        (j) => (j.weights[1].offset = -4),
        'model.json: weights[1].offset: expected a non-negative integer, got -4',
      ],
      [
        (j) => (j.weights[1].group = 'frozen'),
        'model.json: weights[1].group: expected "params" or "state", got "frozen"',
      ],
      [(j) => delete j.byteLength, 'model.json: byteLength: missing, expected a non-negative integer'],
      [(j) => (j.architecture = []), 'model.json: architecture: expected an object {kind, config}, got []'],
      [(j) => (j.weights = {}), 'model.json: weights: expected an array of weights, got {}'],
    ]
    for (const [f, message] of cases) await expect(loadModel(await edit(f))).rejects.toThrow(message)
  })

  it('a trainable mask that does not fit the params', async () => {
    const dir = await edit((j) => {
      j.trainable = { dense: true, batch_normalization: true, dense_1: true, extra: false }
    })
    await expect(loadModel(dir)).rejects.toThrow(
      'model.json: trainable: the mask has an entry "extra" that the params do not',
    )
  })

  it('an unknown layer kind', async () => {
    const dir = await edit((j) => {
      j.architecture.config.layers[2].kind = 'Conv3D'
    })
    await expect(loadModel(dir)).rejects.toThrow(
      'model.json: architecture: unknown layer kind "Conv3D" at layers[2]; known kinds: Dense, Flatten, Activation, LeakyReLU, BatchNormalization, Dropout, MCDropout, Sequential, PReLU, RReLU, AlphaDropout, MCAlphaDropout, GaussianDropout, GaussianNoise, Normalization, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, LayerNormalization, Reshape, Embedding, Serial, Parallel, FanOut, FanInSum, FanInConcat, Identity, Residual, Add, Concatenate',
    )
  })

  it('an architecture that no longer fits its weights', async () => {
    const dir = await edit((j) => {
      j.architecture.config.layers[2].config.units = 5
    })
    await expect(loadModel(dir)).rejects.toThrow(
      'model.json: architecture.config.layers[2].config.units: 5 is no dimension of any weight in the manifest',
    )
    const dir2 = await edit((j) => {
      j.architecture.config.layers[2].config.units = 4
    })
    await expect(loadModel(dir2)).rejects.toThrow(
      /^model\.json: weights\[6\]: the architecture expects dense_1\.kernel \[3,4\] \(params\), the manifest has dense_1\.kernel \[3,2\] \(params\)/,
    )
  })

  it('not JSON, or no model at all', async () => {
    const dir = await saved()
    await fs.writeFile(await file(dir, 'model.json'), '{"format": ')
    await expect(loadModel(dir)).rejects.toThrow(/^model\.json: not valid JSON$/)
    await fs.writeFile(await file(dir, 'model.json'), 'root:x:0:0:root:/root:/bin/bash')
    await expect(loadModel(dir)).rejects.toThrow(/^model\.json: not valid JSON( \(at character \d+\))?$/)
    await expect(loadModel(join(root, 'nowhere'))).rejects.toThrow(/^model\.json: not found in .*nowhere$/)
    await fs.rm(await file(dir, 'weights.bin'))
    await writeJson(dir, await readJson(await saved()))
    await expect(loadModel(dir)).rejects.toThrow(/^weights\.bin: not found in the model folder$/)
  })
})

describe('saveModel: atomic, nothing partial', () => {
  it('a failed save leaves no directory and no temporary files', async () => {
    const { parent, dir } = await place()
    inject.failOn = 'weights.bin'
    await expect(saveModel(small(), dir)).rejects.toThrow('injected: disk full')
    expect(await fs.readdir(parent)).toEqual([])
    inject.failOn = 'model.json'
    await expect(saveModel(small(), dir)).rejects.toThrow('injected: disk full')
    expect(await fs.readdir(parent)).toEqual([])
  })

  it('a failed re-save leaves the previous model as it was', async () => {
    const { parent, dir } = await place()
    const first = small()
    await saveModel(first, dir)
    inject.failOn = 'model.json'
    await expect(saveModel(trainedChapterModel(), dir)).rejects.toThrow('injected: disk full')
    inject.failOn = undefined
    expect(await fs.readdir(parent)).toEqual(['model'])
    expect(bits(await loadModel(dir))).toEqual(bits(first))
  })

  it('refuses to replace a directory that is not a saved model', async () => {
    const { parent, dir } = await place()
    await fs.mkdir(dir)
    await fs.writeFile(join(dir, 'notes.txt'), 'precious')
    await expect(saveModel(small(), dir)).rejects.toThrow(
      /exists and is not a saved model \(no model\.json\)/,
    )
    expect(await fs.readFile(join(dir, 'notes.txt'), 'utf8')).toBe('precious')
    expect(await fs.readdir(parent)).toEqual(['model'])
    await fs.writeFile(join(parent, 'file'), 'x')
    await expect(saveModel(small(), join(parent, 'file'))).rejects.toThrow(/is not a saved model/)
  })

  it('saves into an existing empty directory; needs the parent to exist', async () => {
    const { dir } = await place()
    await fs.mkdir(dir)
    await saveModel(small(), dir)
    expect((await fs.readdir(dir)).sort()).toEqual(['CURRENT', 'v000001'])
    await expect(saveModel(small(), join(root, 'missing-parent', 'model'))).rejects.toThrow(
      /parent directory .* does not exist/,
    )
    await expect(fs.stat(join(root, 'missing-parent'))).rejects.toThrow()
  })

  it('saves and loads a model with dropout layers and a single-layer model', async () => {
    const withDropout = initModel(
      sequential([dropout({ rate: 0.2 }), dense({ units: 2 })], { inputShape: [3] }),
      {
        key: key(0),
      },
    )
    const single = initModel(dense({ units: 2 }), { key: key(0), inputShape: [3] })
    for (const m of [withDropout, single]) {
      const { dir } = await place()
      await saveModel(m, dir)
      const loaded = await loadModel(dir)
      expect(loaded.layer.config).toEqual(m.layer.config)
      expect(bits(loaded)).toEqual(bits(m))
    }
  })
})
