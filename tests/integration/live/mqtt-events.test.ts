// Stored events published on MQTT `tenants/{slug}/events/{type}` for integrations (an operator's
// access token as password), by the node that stored them; another tenant's integration sees none.
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import type { TrackingEventMessage } from '../../../src/contracts/payloads.js'
import { produce, ruleEvent } from './helpers.js'
import { validTrackingEvent } from './tracking-event-schema.js'

interface Received { topic: string, message: TrackingEventMessage, qos: number }

async function integration(node: TestNode, tenant: Provisioned, clientId: string): Promise<{ client: MqttClient, received: Received[] }> {
  const client = await connect(node.mqttUrl, { clientId, username: tenant.tenant.slug, password: tenant.operatorToken })
  const received: Received[] = []
  client.on('message', (topic, payload, packet) => received.push({ topic, message: JSON.parse(payload.toString()) as TrackingEventMessage, qos: packet.qos }))
  const [granted] = await client.subscribeAsync(`tenants/${tenant.tenant.slug}/events/#`, { qos: 1 })
  expect(granted?.qos).toBe(1)
  return { client, received }
}

const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 5000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('MQTT event topics for integrations', () => {
  let node: TestNode
  let acme: Provisioned
  let globex: Provisioned

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 1)
    globex = await provision(node, 'globex', 0)
  })
  afterAll(async () => { await node?.close() })

  it('an operator integration subscribed to tenants/<slug>/events/# receives stored events at QoS 1', async () => {
    const mine = await integration(node, acme, 'acme:x')
    const theirs = await integration(node, globex, 'globex:y')
    const [arrived] = await produce(node, [ruleEvent(acme.tenant.id, 'arrived', { deviceId: acme.devices[0]!.id, payload: { stop: { seq: 0 } } })])
    await until(() => mine.received.length === 1, 'the arrived event')
    expect(mine.received[0]).toEqual({
      topic: 'tenants/acme/events/arrived', qos: 1,
      message: {
        id: arrived!.id, type: 'arrived', ts: new Date(arrived!.ts).toISOString(), source: 'rule',
        shipmentId: null, stopId: null, vehicleId: null, deviceId: acme.devices[0]!.id, payload: { stop: { seq: 0 } },
      },
    })

    // a manual event through the API goes out the same way; the other tenant's integration got nothing
    const shipment = await nodeApi(node)<{ id: string }>('POST', '/api/v1/shipments', acme.operatorToken, {
      reference: 'MQTT-1', stops: [{ type: 'delivery', name: 'Dock', lat: 48, lon: 2 }],
    })
    await nodeApi(node)('POST', `/api/v1/shipments/${shipment.id}/events`, acme.operatorToken, { type: 'comment', text: 'gate 4' })
    await until(() => mine.received.length === 2, 'the comment')
    expect(mine.received[1]).toMatchObject({ topic: 'tenants/acme/events/comment', message: { type: 'comment', source: 'user', shipmentId: shipment.id, payload: { text: 'gate 4' } } })
    // both are the document the contract's JSON Schema describes (docs/schemas/tracking-event.json)
    for (const { message } of mine.received) expect(validTrackingEvent(message), JSON.stringify(validTrackingEvent.errors)).toBe(true)
    const [own] = await produce(node, [ruleEvent(globex.tenant.id, 'late')])
    await until(() => theirs.received.length === 1, 'globex\'s own event')
    expect(theirs.received.map((r) => r.message.id)).toEqual([own!.id])
    await mine.client.endAsync()
    await theirs.client.endAsync()
  })
})
