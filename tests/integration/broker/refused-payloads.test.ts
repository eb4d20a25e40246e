// What ingestion refused entirely (dead-lettered, nothing stored) is acknowledged to the device but
// not handed on to integrations, live or queued in a persistent session: a subscriber of
// `tenants/<t>/#` sees only traffic ReTrack took. A batch of which something was stored goes on whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { connect, deviceOptions, eventually, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

interface Received { topic: string, payload: string }

/** Everything `client` receives, in order. */
function collect(client: MqttClient): Received[] {
  const received: Received[] = []
  client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }))
  return received
}

describe('payloads ingestion refused are not forwarded', () => {
  let node: TestNode
  let acme: Provisioned
  let device: MqttClient
  let integration: MqttClient
  let received: Received[]
  const topic = (channel: string) => `tenants/acme/devices/${acme.devices[0]!.id}/${channel}`
  const deadLetters = async () => (await node.server.db.pool.query<{ n: number }>('select count(*)::int n from dead_letters where device_id = $1', [acme.devices[0]!.id])).rows[0]!.n
  const integrationOptions = (name: string, extra: IClientOptions = {}): IClientOptions => ({ clientId: `acme:${name}`, username: 'acme', password: acme.operatorToken, ...extra })
  let t = Date.now() - 600_000
  const reading = () => JSON.stringify({ ts: (t += 1000), lat: 48.85, lon: 2.35 })

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 1)
    device = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[0]!))
    integration = await connect(node.mqttUrl, integrationOptions('erp'))
    await integration.subscribeAsync('tenants/acme/#', { qos: 1 })
    received = collect(integration)
  })
  afterAll(async () => {
    await integration?.endAsync()
    await device?.endAsync()
    await node?.close()
  })

  /**
   * Publishes `payload` at QoS 1 (resolving means the PUBACK came back), then a valid reading; once
   * that reading reached the integration (the same publisher, so anything forwarded before it has
   * arrived too), returns what the integration got from devices meanwhile.
   */
  async function forwardedOf(channel: string, payload: string): Promise<Received[]> {
    const from = received.length
    await device.publishAsync(topic(channel), payload, { qos: 1 })
    expect(device.connected).toBe(true)
    const marker = reading()
    await device.publishAsync(topic('telemetry'), marker, { qos: 1 })
    await eventually(() => received.slice(from).some((m) => m.payload === marker), 5000, 'the valid reading forwarded')
    // what devices sent (not the tracking events ReTrack publishes on tenants/acme/events/…)
    const fromDevices = received.slice(from).filter((m) => m.topic.startsWith('tenants/acme/devices/'))
    expect(fromDevices.at(-1)!.payload).toBe(marker)
    return fromDevices.slice(0, -1)
  }

  it('a valid reading, status and event are forwarded', async () => {
    const r = reading()
    expect(await forwardedOf('telemetry', r)).toEqual([{ topic: topic('telemetry'), payload: r }])
    expect(await forwardedOf('status', 'online')).toEqual([{ topic: topic('status'), payload: 'online' }])
    const event = JSON.stringify({ ts: Date.now(), type: 'door_open' })
    expect(await forwardedOf('events', event)).toEqual([{ topic: topic('events'), payload: event }])
  })

  it.each([
    ['telemetry', 'not json'],
    ['telemetry', JSON.stringify({ ts: 'yesterday', lat: 1, lon: 2 })],
    ['telemetry', '[]'],
    ['status', 'ONLINE'],
    ['status', '1'],
    ['status', '""'],
    ['status', '{"online":true}'],
    ['events', '{"type":"door_open"}'],
    // well-formed, but stamped in epoch seconds (1970 read as milliseconds) or a century ahead: BAD_TIME
    ['telemetry', JSON.stringify({ ts: 1_700_000_000, lat: 48.85, lon: 2.35 })],
    ['telemetry', JSON.stringify([{ ts: 1_700_000_000, lat: 48.85, lon: 2.35 }, { ts: '2126-01-01T00:00:00Z', lat: 48.85, lon: 2.35 }])],
    ['events', JSON.stringify({ ts: 1_700_000_000, type: 'door_open' })],
  ])('%s %s: acknowledged, dead-lettered, not forwarded', async (channel, payload) => {
    const letters = await deadLetters()
    expect(await forwardedOf(channel, payload)).toEqual([])
    // ingestion refused it (dead letters are written before the PUBACK)
    expect(await deadLetters()).toBe(letters + 1)
  })

  it('a batch with a refused element goes on whole; its good element is stored', async () => {
    const batch = JSON.stringify([JSON.parse(reading()) as object, { ts: t + 500, lat: 'x', lon: 1 }])
    expect(await forwardedOf('telemetry', batch)).toEqual([{ topic: topic('telemetry'), payload: batch }])
  })

  it('a batch refused for a schema error and for a bad time is dead-lettered under both codes', async () => {
    const batch = JSON.stringify([{ ts: t + 200, lat: 'x', lon: 1 }, { ts: 1_700_000_000, lat: 48.85, lon: 2.35 }, { ts: 1_700_000_001, lat: 48.85, lon: 2.35 }])
    const before = await deadLetters()
    expect(await forwardedOf('telemetry', batch)).toEqual([])
    const rows = await node.server.db.pool.query<{ code: string, reason: string }>(
      'select code, reason from dead_letters where device_id = $1 order by id desc limit 2', [acme.devices[0]!.id])
    expect(await deadLetters()).toBe(before + 2)
    expect(rows.rows.map((r) => r.code).sort()).toEqual(['BAD_TIME', 'SCHEMA'])
    expect(rows.rows.find((r) => r.code === 'BAD_TIME')!.reason).toMatch(/^2 element\(s\) rejected: \[1\] ts too old.*; \[2\] ts too old/)
    expect(rows.rows.find((r) => r.code === 'SCHEMA')!.reason).toMatch(/^1 element\(s\) rejected: \[0\]/)
  })

  it('well-formed readings dropped by a filter are no refusal and go on', async () => {
    const nullIsland = JSON.stringify({ ts: (t += 1000), lat: 0, lon: 0 })
    expect(await forwardedOf('telemetry', nullIsland)).toEqual([{ topic: topic('telemetry'), payload: nullIsland }])
  })

  it('a persistent session does not get the refused payload queued while it was away', async () => {
    const options = integrationOptions('archive', { clean: false })
    const first = await connect(node.mqttUrl, options)
    await first.subscribeAsync('tenants/acme/#', { qos: 1 })
    await first.endAsync()
    await device.publishAsync(topic('telemetry'), 'not json', { qos: 1 })
    await device.publishAsync(topic('status'), 'ONLINE', { qos: 1 })
    const good = reading()
    await device.publishAsync(topic('telemetry'), good, { qos: 1 })
    // listening before the CONNACK: the queue comes right behind it
    const second = mqtt.connect(node.mqttUrl, { reconnectPeriod: 0, protocolVersion: 4, ...options })
    const queued = collect(second)
    await new Promise((resolve, reject) => { second.once('connect', resolve); second.once('error', reject) })
    await eventually(() => queued.some((m) => m.payload === good), 5000, 'the queued valid reading')
    await new Promise((r) => setTimeout(r, 200))
    expect(queued).toEqual([{ topic: topic('telemetry'), payload: good }])
    await second.endAsync()
  })
})
