/**
 * Where the worker pool runs (docs/contributing/design.md, "Parallelism"): Node's
 * worker_threads, Web Workers, or nothing. Chosen once from what the environment has, with no
 * static import of a Node module, so the same file bundles for a browser:
 *
 * - Node (20.16 and later, which has `process.getBuiltinModule`): worker_threads, each
 *   waiting on the control block and reading its ops with `receiveMessageOnPort`;
 * - a browser page or worker that is cross-origin isolated (`crossOriginIsolated`, so that
 *   `SharedArrayBuffer` exists): Web Workers made from a Blob URL, running ops from their
 *   message handler; the calling thread waits with `Atomics.wait` where it may (workers)
 *   and polls the control block where it may not (a page's main thread);
 * - anywhere else: no pool, every kernel on the calling thread.
 *
 * Results do not depend on which: kernels split work into chunks fixed by the sizes only.
 */

/** A pool worker as the pool sees it, whatever the platform. */
export interface PoolWorker {
  /** Posts an op (kernel name, parts on first use, args on shared memory, tickets). */
  post(message: unknown): void
  /** Stops the worker (resolves once it has stopped where the platform says so). */
  terminate(): Promise<unknown> | undefined
  /** True when the platform has seen the worker stop; `thorough` may cost more. */
  stopped(thorough: boolean): boolean
  /** The exit code when known. */
  exitCode(): string | undefined
  /** The error the worker reported, if any. */
  error(): string | undefined
  /** An id that tells a rebuilt pool's workers from the old ones. */
  readonly threadId: number
}

/** What the pool needs from the environment. */
export interface Platform {
  readonly name: 'node' | 'browser' | 'none'
  /** True when workers with shared memory can be made here. */
  readonly pooled: boolean
  /** Threads of the machine (the default thread count). */
  hardwareThreads(): number
  /** An environment variable (`PURENN_THREADS`, ...), where there is an environment. */
  env(name: string): string | undefined
  spawn(
    nodeSource: string,
    browserSource: string,
    control: SharedArrayBuffer,
    tickets: SharedArrayBuffer,
    id: number,
  ): PoolWorker
  /** `Atomics.wait`, or polling where the calling thread may not block. */
  wait(ctrl: Int32Array, index: number, value: number, ms: number): 'ok' | 'not-equal' | 'timed-out'
}

/** True when `buffer` is a SharedArrayBuffer (false where the type does not exist). */
export const isSharedBuffer = (buffer: ArrayBufferLike): boolean =>
  typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer

const none: Platform = {
  name: 'none',
  pooled: false,
  hardwareThreads: () => 1,
  env: () => undefined,
  spawn: () => {
    throw new Error('purenn worker pool: no workers with shared memory here')
  },
  wait: (ctrl, index, value, ms) => Atomics.wait(ctrl, index, value, ms),
}

interface NodeProcessLike {
  readonly versions?: { readonly node?: string }
  readonly env?: Record<string, string | undefined>
  readonly getBuiltinModule?: (id: string) => unknown
}

const nodePlatform = (proc: NodeProcessLike): Platform => {
  const getBuiltin = proc.getBuiltinModule!
  const wt = getBuiltin('node:worker_threads') as typeof import('node:worker_threads')
  const os = getBuiltin('node:os') as typeof import('node:os')
  return {
    name: 'node',
    pooled: true,
    hardwareThreads: () => os.availableParallelism(),
    env: (name) => proc.env?.[name],
    spawn: (source, _browserSource, control, tickets, id) => {
      const { port1, port2 } = new wt.MessageChannel()
      const worker = new wt.Worker(source, {
        eval: true,
        execArgv: [],
        workerData: { control, tickets, port: port2, id },
        transferList: [port2],
      })
      let exited = false
      let exitCode = 0
      let error: string | undefined
      worker.on('error', (e: unknown) => {
        error = e instanceof Error ? e.message : String(e)
      })
      worker.on('exit', (code: number) => {
        exited = true
        exitCode = code
      })
      worker.unref()
      port1.unref()
      return {
        post: (message) => port1.postMessage(message),
        terminate: () => {
          port1.close()
          return worker.terminate()
        },
        stopped: (thorough) => exited || (thorough && worker.performance.eventLoopUtilization().idle < 0),
        exitCode: () => (exited ? String(exitCode) : undefined),
        error: () =>
          (wt.receiveMessageOnPort(port1)?.message as { error?: string } | undefined)?.error ?? error,
        threadId: worker.threadId,
      }
    },
    wait: (ctrl, index, value, ms) => Atomics.wait(ctrl, index, value, ms),
  }
}

interface BrowserGlobals {
  readonly crossOriginIsolated?: boolean
  readonly navigator?: { readonly hardwareConcurrency?: number }
  readonly Worker?: new (url: string) => BrowserWorker
  readonly Blob?: new (parts: string[], options: { type: string }) => object
  readonly URL?: { createObjectURL(blob: object): string }
  readonly WorkerGlobalScope?: unknown
}

interface BrowserWorker {
  postMessage(message: unknown): void
  terminate(): void
  addEventListener(
    type: 'error' | 'message',
    listener: (e: { message?: string; data?: unknown }) => void,
  ): void
}

let browserWorkers = 0

const browserPlatform = (g: BrowserGlobals): Platform => {
  // a page's main thread may not block: poll the control block there
  const mayBlock = g.WorkerGlobalScope !== undefined
  let url: string | undefined
  return {
    name: 'browser',
    pooled: true,
    hardwareThreads: () => Math.max(1, g.navigator?.hardwareConcurrency ?? 1),
    env: () => undefined,
    spawn: (_nodeSource, source, control, tickets, id) => {
      url ??= g.URL!.createObjectURL(new g.Blob!([source], { type: 'text/javascript' }))
      const worker = new g.Worker!(url)
      let stopped = false
      let error: string | undefined
      worker.addEventListener('error', (e) => {
        stopped = true
        error = e.message ?? 'error'
      })
      worker.addEventListener('message', (e) => {
        const reported = (e.data as { error?: string } | undefined)?.error
        if (reported !== undefined) error = reported
      })
      worker.postMessage({ control, tickets, id })
      browserWorkers += 1
      return {
        post: (message) => worker.postMessage(message),
        terminate: () => {
          worker.terminate()
          stopped = true
          return undefined
        },
        stopped: () => stopped,
        exitCode: () => (stopped ? '1' : undefined),
        error: () => error,
        threadId: browserWorkers,
      }
    },
    wait: mayBlock
      ? (ctrl, index, value, ms) => Atomics.wait(ctrl, index, value, ms)
      : (ctrl, index, value, ms) => {
          if (Atomics.load(ctrl, index) !== value) return 'not-equal'
          const t0 = performance.now()
          while (Atomics.load(ctrl, index) === value) if (performance.now() - t0 > ms) return 'timed-out'
          return 'ok'
        },
  }
}

const detect = (): Platform => {
  const g = globalThis as BrowserGlobals & { readonly process?: NodeProcessLike }
  const proc = g.process
  if (typeof proc?.versions?.node === 'string')
    return typeof proc.getBuiltinModule === 'function' ? nodePlatform(proc) : none
  if (
    g.crossOriginIsolated === true &&
    typeof SharedArrayBuffer === 'function' &&
    typeof g.Worker === 'function' &&
    typeof g.Blob === 'function' &&
    g.URL !== undefined
  )
    return browserPlatform(g)
  return none
}

/** The platform of this environment, chosen once when the module loads. */
export const platform: Platform = detect()
