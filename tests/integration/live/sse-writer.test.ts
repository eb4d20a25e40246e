// The SSE writer on a real HTTP server: frame format, heartbeat comments, one close whoever
// causes it, and a client that stops reading is cut off instead of buffering without bound.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { SseWriter } from '../../../src/api/routes/stream/sse.js'
import { SseClient } from './sse-client.js'

describe('SSE writer', () => {
  let server: http.Server | null = null
  afterEach(async () => {
    server?.closeAllConnections()
    await new Promise((r) => server?.close(r))
  })

  async function serve(options: { heartbeatMs: number, maxBufferedBytes: number }) {
    const writers: SseWriter[] = []
    server = http.createServer((_req, res) => {
      const w = new SseWriter(res, options)
      w.open()
      writers.push(w)
    })
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, writers }
  }

  it('writes event, id and data lines, multi-line data intact, and heartbeats as comments', async () => {
    const { url, writers } = await serve({ heartbeatMs: 30, maxBufferedBytes: 1 << 20 })
    const c = await SseClient.connect(url)
    expect(c.headers['cache-control']).toBe('no-cache, no-transform')
    writers[0]!.send('tracking', '{"a":1}', '42')
    writers[0]!.send('note', 'line one\nline two')
    await c.until((x) => x.frames.length === 2 && x.comments.includes('heartbeat'))
    expect(c.frames).toEqual([{ event: 'tracking', id: '42', data: '{"a":1}' }, { event: 'note', data: 'line one\nline two' }])
    let closed = 0
    writers[0]!.onClose(() => closed++)
    writers[0]!.close()
    writers[0]!.close()
    await c.until((x) => x.ended)
    expect(closed).toBe(1)
    writers[0]!.onClose(() => closed++) // registered after the end: runs at once
    expect(closed).toBe(2)
  })

  it('notices a client that went away, and cuts off one that stopped reading', async () => {
    const { url, writers } = await serve({ heartbeatMs: 60_000, maxBufferedBytes: 64 * 1024 })
    const gone = await SseClient.connect(url)
    gone.close()
    await expect.poll(() => writers[0]!.isClosed).toBe(true)

    // a client that never reads: its socket buffers fill, then the writer's buffer passes the limit
    const stalled = http.get(url)
    stalled.on('response', (res) => res.pause())
    stalled.on('error', () => undefined)
    await expect.poll(() => writers.length).toBe(2)
    const chunk = 'x'.repeat(16 * 1024)
    for (let i = 0; i < 2000 && !writers[1]!.isClosed; i++) writers[1]!.send('bulk', chunk)
    expect(writers[1]!.isClosed).toBe(true)
    stalled.destroy()
  })
})
