// A bounded download: an overall time limit, a limit on silence (no bytes for too long), a
// maximum size checked while the bytes arrive. Not exported from the package.
import * as E from 'fp-ts/lib/Either.js'

/** The limits of one download. */
export interface DownloadLimits {
  /** The whole download, from the request to the last byte, in milliseconds. */
  readonly timeoutMs: number
  /** The longest wait for the response or the next bytes, in milliseconds. */
  readonly stallTimeoutMs: number
  /** The most bytes accepted (the `Content-Length` is checked first when there is one). */
  readonly maxBytes: number
}

/** The body of `url`, or a Left saying what went wrong (never more than `maxBytes` held). */
export const downloadBounded = async (
  fetchFn: typeof fetch,
  url: string,
  limits: DownloadLimits,
): Promise<E.Either<string, Uint8Array>> => {
  const controller = new AbortController()
  let why: string | undefined
  const abort = (reason: string) => {
    why ??= reason
    controller.abort()
  }
  const overall = setTimeout(
    () => abort(`no complete answer within ${limits.timeoutMs} ms`),
    limits.timeoutMs,
  )
  let stall = setTimeout(() => abort(`no data for ${limits.stallTimeoutMs} ms`), limits.stallTimeoutMs)
  const alive = () => {
    clearTimeout(stall)
    stall = setTimeout(() => abort(`no data for ${limits.stallTimeoutMs} ms`), limits.stallTimeoutMs)
  }
  const failed = (e: unknown) =>
    E.left(
      `could not download ${url}: ${
        why ??
        (e instanceof Error
          ? e.cause instanceof Error
            ? `${e.message}: ${e.cause.message}`
            : e.message
          : String(e))
      }`,
    )
  try {
    const res = await fetchFn(url, { signal: controller.signal })
    alive()
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined)
      return E.left(`could not download ${url}: HTTP ${res.status} ${res.statusText}`.trimEnd())
    }
    const declared = Number(res.headers.get('content-length') ?? Number.NaN)
    if (declared > limits.maxBytes) {
      await res.body?.cancel().catch(() => undefined)
      return E.left(
        `could not download ${url}: ${declared} bytes announced, more than the limit of ${limits.maxBytes}`,
      )
    }
    if (res.body === null) return E.right(new Uint8Array(await res.arrayBuffer()))
    const reader = res.body.getReader()
    const parts: Uint8Array[] = []
    let total = 0
    for (;;) {
      // the abort signal ends a pending read too
      const { done, value } = await reader.read()
      if (done) break
      alive()
      total += value.length
      if (total > limits.maxBytes) {
        await reader.cancel().catch(() => undefined)
        return E.left(`could not download ${url}: more than the limit of ${limits.maxBytes} bytes`)
      }
      parts.push(value)
    }
    const out = new Uint8Array(total)
    let at = 0
    for (const p of parts) {
      out.set(p, at)
      at += p.length
    }
    return E.right(out)
  } catch (e) {
    return failed(e)
  } finally {
    clearTimeout(overall)
    clearTimeout(stall)
  }
}
