// Start-up waits for a dependency's first connection (Redis, an external MQTT broker) for a bounded
// time, then fails with a message an operator can act on: the setting, where it points (never its
// credentials) and the last error the client saw while it retried.

/** Where a URL points, without its credentials: `host:port`, the default port when none is given. */
export function hostOf(url: string, defaultPort: number): string {
  try { const u = new URL(url); return `${u.hostname}:${u.port || defaultPort}` } catch { return 'its host' }
}

/** The part of a client (ioredis, mqtt.js) the wait uses: its connection event and its errors. */
interface Connecting {
  on(event: 'error', listener: (err: Error) => void): unknown
  off(event: 'error', listener: (err: Error) => void): unknown
  once(event: string, listener: () => void): unknown
}

/**
 * Resolves on the client's first `event` (it keeps retrying meanwhile; its errors are remembered, not
 * thrown); after `ms` without one, rejects with `failure(the last error)`.
 */
export function firstConnection(client: Connecting, event: string, ms: number, failure: (last: Error | null) => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    let last: Error | null = null
    const onError = (err: Error) => { last = err }
    const timer = setTimeout(() => { client.off('error', onError); reject(failure(last)) }, ms)
    client.on('error', onError)
    client.once(event, () => { clearTimeout(timer); client.off('error', onError); resolve() })
  })
}

/** ` (the error's message)` for a failure message, or nothing. */
export const lastErrorSuffix = (last: Error | null) => last ? ` (${last.message})` : ''
