// Closing a node while stream requests are still being set up (their filters being looked up in
// the database): the node must not wait for streams that opened after it started closing.
import { describe, expect, it } from 'vitest'
import { nodeApi, postgresAvailable, provision, startNode } from '../../helpers/server.js'
import { SseClient } from './sse-client.js'
import { bearer } from './helpers.js'

describe('live stream opened while the node closes', () => {
  // the window is a few milliseconds wide: a few rounds with different timings hit it reliably
  it.each([2, 5, 10])('is ended too, so closing does not hang (close %i ms after the requests)', async (delayMs) => {
    const node = await startNode({}, { postgres: postgresAvailable() })
    const acme = await provision(node, 'acme', 0)
    const shipment = await nodeApi(node)<{ id: string }>('POST', '/api/v1/shipments', acme.operatorToken, {
      reference: 'RACE-1', stops: [{ type: 'delivery', name: 'Dock', lat: 48, lon: 2 }],
    })
    const clients: Array<Promise<SseClient | null>> = []
    for (let i = 0; i < 30; i++) {
      clients.push(SseClient.connect(`${node.http}/api/v1/stream?shipmentId=${shipment.id}`, bearer(acme.operatorToken)).catch(() => null))
    }
    await new Promise((r) => setTimeout(r, delayMs)) // some requests are in their handler now, awaiting the shipment
    const started = Date.now()
    const closed = node.close().then(() => Date.now() - started)
    const settled = await Promise.race([closed, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 8000))])
    for (const c of await Promise.all(clients)) c?.close()
    // not held open by a stream, nor by its idle keep-alive socket (Node waits 5 s for those)
    expect(settled).not.toBe('hung')
    expect(settled).toBeLessThan(3000)
    await closed
  }, 30_000)
})
