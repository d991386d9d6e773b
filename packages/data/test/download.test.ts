import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DataError, loadFashionMnist } from '../src/index.js'

// Downloads are bounded: an overall time limit, a limit on silence, a size limit, and a limit on
// what gzip data may inflate to. A real HTTP server on 127.0.0.1 plays the hostile mirror.

type Behaviour = (res: ServerResponse) => void
let behaviour: Behaviour = (res) => res.end()
let server: Server
let baseUrl = ''
const open = new Set<ServerResponse>()
let root = ''

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'purenn-download-'))
  server = createServer((_req, res) => {
    open.add(res)
    res.on('close', () => open.delete(res))
    behaviour(res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(async () => {
  for (const res of open) res.destroy()
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  rmSync(root, { recursive: true, force: true })
})

let counter = 0
const load = (extra: Record<string, number>) =>
  loadFashionMnist({
    env: {},
    cacheDir: join(root, `cache-${counter}`),
    systemDir: join(root, `system-${counter++}`),
    baseUrl,
    ...extra,
  }).then(
    () => 'loaded',
    (e: Error) => {
      expect(e).toBeInstanceOf(DataError)
      return e.message.split('\n')[0]!
    },
  )

const url = () => `${baseUrl}train-images-idx3-ubyte.gz`

describe('loadFashionMnist: bounded downloads', () => {
  it('a server that never answers: the stall limit ends it', async () => {
    behaviour = () => undefined // accepts, never answers
    const t0 = performance.now()
    const m = await load({ stallTimeoutMs: 300 })
    expect(m).toContain(`could not download ${url()}: no data for 300 ms`)
    expect(performance.now() - t0).toBeLessThan(5000)
  })

  it('a server that trickles a byte every 50 ms: the overall limit ends it', async () => {
    behaviour = (res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      const timer = setInterval(() => (res.writableEnded ? clearInterval(timer) : res.write('x')), 50)
      res.on('close', () => clearInterval(timer))
    }
    const t0 = performance.now()
    const m = await load({ downloadTimeoutMs: 400, stallTimeoutMs: 300 })
    expect(m).toContain(`could not download ${url()}: no complete answer within 400 ms`)
    expect(performance.now() - t0).toBeLessThan(5000)
  })

  it('a body larger than maxDownloadBytes, announced or not', async () => {
    behaviour = (res) => {
      res.writeHead(200, { 'content-length': String(2_000_000) })
      res.end(Buffer.alloc(2_000_000))
    }
    expect(await load({ maxDownloadBytes: 1_000_000 })).toContain(
      `could not download ${url()}: 2000000 bytes announced, more than the limit of 1000000`,
    )
    behaviour = (res) => {
      res.writeHead(200) // chunked: no length announced
      for (let i = 0; i < 20; i++) res.write(Buffer.alloc(100_000))
      res.end()
    }
    expect(await load({ maxDownloadBytes: 1_000_000 })).toContain(
      `could not download ${url()}: more than the limit of 1000000 bytes`,
    )
  })

  it('a gzip bomb is stopped at maxDecompressedBytes', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 2 ** 20)) // 64 MiB of zeros in ~65 KB
    expect(bomb.length).toBeLessThan(200_000)
    behaviour = (res) => res.end(bomb)
    const before = process.memoryUsage().arrayBuffers
    expect(await load({ maxDecompressedBytes: 2 ** 20 })).toContain(
      `downloaded ${url()}: gzip data that inflates to more than 1048576 bytes, refused`,
    )
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 2 ** 20)
  })

  it('limits must be positive numbers', async () => {
    behaviour = (res) => res.end()
    await expect(
      loadFashionMnist({
        env: {},
        cacheDir: join(root, 'x'),
        systemDir: join(root, 'y'),
        stallTimeoutMs: -1,
      }),
    ).rejects.toThrow('loadFashionMnist: invalid options: stallTimeoutMs must be a positive number, got -1')
  })
})
