// Events the API stores itself (cancel, skip) reach live subscribers too, after their commit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import type { LiveFrame } from '../../../src/live/frames.js'

describe('operator actions on the live stream', () => {
  let node: TestNode
  let acme: Provisioned
  const frames: LiveFrame[] = []
  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'opslive', 0)
    node.server.live.subscribe(acme.tenant.id, {}, (frame) => frames.push(frame))
  })
  afterAll(async () => { await node?.close() })

  it('a skipped stop and a cancelled shipment are streamed as events', async () => {
    const api = nodeApi(node)
    const shipment = await api<{ id: string, stops: Array<{ id: string }> }>('POST', '/api/v1/shipments', acme.operatorToken, {
      reference: 'LIVE-1', stops: [{ type: 'pickup', name: 'A', lat: 1, lon: 1 }, { type: 'delivery', name: 'B', lat: 1.5, lon: 1.5 }],
    })
    await api('POST', `/api/v1/shipments/${shipment.id}/stops/${shipment.stops[0]!.id}/skip`, acme.operatorToken)
    await api('POST', `/api/v1/shipments/${shipment.id}/cancel`, acme.operatorToken, { reason: 'customer called' })
    const types = await eventually(() => {
      const seen = frames.flatMap((f) => f.kind === 'event' ? [f.event.type] : [])
      return seen.length >= 3 ? seen : undefined
    }, 5000, 'three streamed events')
    expect(types).toEqual(['stop_skipped', 'shipment_cancelled', 'shipment_status'])
  })
})
