// Two nodes sharing Redis and PostgreSQL: what one node produces reaches live clients on the other
// (events and positions, through the Redis bus), still scoped to the tenant.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connect, deviceOptions, postgresAvailable, provision, startTwoNodes, type Provisioned, type TestNode } from '../../helpers/server.js'
import { SseClient } from './sse-client.js'
import { bearer, produce, ruleEvent } from './helpers.js'

const services = () => inject('services')

describe.runIf(services().redis && postgresAvailable())('live stream across two nodes (Redis)', () => {
  let a: TestNode
  let b: TestNode
  let acme: Provisioned
  let other: Provisioned
  let closeNodes: (() => Promise<void>) | undefined
  const open: SseClient[] = []
  const stream = async (node: TestNode, query: string, token: string) => {
    const c = await SseClient.connect(`${node.http}/api/v1/stream${query}`, bearer(token))
    open.push(c)
    expect(c.status).toBe(200)
    return c
  }

  beforeAll(async () => {
    ;({ a, b, close: closeNodes } = await startTwoNodes())
    acme = await provision(a, 'acme', 1)
    other = await provision(a, 'other', 0)
  })
  afterAll(async () => {
    for (const c of open) c.close()
    await closeNodes?.()
  })

  it('an event produced on node A reaches an SSE client on node B, and only the tenant\'s', async () => {
    const onB = await stream(b, '', acme.operatorToken)
    const otherOnB = await stream(b, '', other.operatorToken)
    // the Redis subscription of a fresh node may still be on its way: retry until one arrives
    let sent: number[] = []
    for (let i = 0; i < 50 && onB.events.length === 0; i++) {
      sent = (await produce(a, [ruleEvent(acme.tenant.id, 'arrived')])).map((e) => e.id)
      await onB.until((c) => c.events.length > 0, 200).catch(() => undefined)
    }
    expect(onB.events.at(-1)).toMatchObject({ id: sent[0], type: 'arrived' })
    const [theirs] = await produce(a, [ruleEvent(other.tenant.id, 'late')])
    await otherOnB.until((c) => c.events.length > 0)
    expect(otherOnB.events.map((e) => e.id)).toEqual([theirs!.id])
    expect(onB.events.every((e) => e.type === 'arrived')).toBe(true)
  })

  it('device events and positions ingested on node A reach a client on node B', async () => {
    const device = acme.devices[0]!
    const onB = await stream(b, `?positions=true&deviceId=${device.id}`, acme.operatorToken)
    const mqtt = await connect(a.mqttUrl, deviceOptions('acme', device))
    const ts = Date.now() - 5000
    await mqtt.publishAsync(`tenants/acme/devices/${device.id}/telemetry`, JSON.stringify({ ts, lat: 45.75, lon: 4.85, speed: 3 }), { qos: 1 })
    await mqtt.publishAsync(`tenants/acme/devices/${device.id}/events`, JSON.stringify({ ts, type: 'door_open' }), { qos: 1 })
    await onB.until((c) => c.events.some((e) => e.type === 'door_open') && c.frames.some((f) => f.event === 'positions'), 5000, 'event and positions')
    const positions = JSON.parse(onB.frames.find((f) => f.event === 'positions')!.data) as unknown[]
    expect(positions).toEqual([{ deviceId: device.id, ts: new Date(ts).toISOString(), lat: 45.75, lon: 4.85, speed: 3, heading: null }])
    await mqtt.endAsync()
  })

  it('an event produced on node A reaches an integration connected to node B over MQTT exactly once', async () => {
    const client = await connect(b.mqttUrl, { clientId: 'acme:cluster', username: 'acme', password: acme.operatorToken })
    const received: Array<{ topic: string, id: number }> = []
    client.on('message', (topic, payload) => received.push({ topic, id: (JSON.parse(payload.toString()) as { id: number }).id }))
    await client.subscribeAsync('tenants/acme/events/#', { qos: 1 })
    let sent: number | undefined
    for (let i = 0; i < 50 && received.length === 0; i++) {
      sent = (await produce(a, [ruleEvent(acme.tenant.id, 'delay_predicted')]))[0]!.id
      await new Promise((r) => setTimeout(r, 100))
    }
    const last = (await produce(a, [ruleEvent(acme.tenant.id, 'delay_cleared')]))[0]!.id
    const deadline = Date.now() + 5000
    while (!received.some((r) => r.id === last) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    await new Promise((r) => setTimeout(r, 300)) // a second copy (from node B relaying too) would arrive by now
    expect(received.filter((r) => r.id === last)).toEqual([{ topic: 'tenants/acme/events/delay_cleared', id: last }])
    expect(received.filter((r) => r.id === sent)).toHaveLength(1)
    await client.endAsync()
  })
})
