// Text PostgreSQL refuses (U+0000, unpaired surrogates), binary payloads and nesting too deep to
// serialise are acknowledged and dead-lettered like any bad input, and cost the device whose
// reading shares their group-commit batch nothing. Before, one such row failed the whole batch:
// no PUBACK for anyone in it, connections closed, and the poison sent again after every reconnect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { connect, deviceOptions, eventually, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

describe('unstorable MQTT input', () => {
  let node: TestNode
  let acme: Provisioned
  let poison: MqttClient
  let bystander: MqttClient
  let bystanderTs = Date.now() - 600_000
  const topic = (i: number, channel: string) => `tenants/acme/devices/${acme.devices[i]!.id}/${channel}`
  const query = async <T>(sql: string, ...args: unknown[]) => (await node.server.db.pool.query(sql, args)).rows as T[]

  beforeAll(async () => {
    // a 200 ms batching window puts both devices' rows in one write
    node = await startNode({ INGEST_BATCH_WAIT_MS: 200 }, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 2)
    poison = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[0]!))
    bystander = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[1]!))
  })
  afterAll(async () => {
    poison?.end(true)
    bystander?.end(true)
    await node?.close()
  })

  /** 'acked' when the PUBACK came back, 'closed' when the broker dropped the connection instead. */
  const send = (client: MqttClient, t: string, payload: string | Buffer) => Promise.race([
    client.publishAsync(t, payload, { qos: 1 }).then(() => 'acked', () => 'closed'),
    new Promise<string>((resolve) => client.once('close', () => resolve('closed'))),
  ])

  const now = Date.now() - 60_000
  it.each([
    { name: 'a binary payload with NUL bytes', channel: 'telemetry', payload: Buffer.from([0x08, 0x00, 0x12, 0x00, 0xff]), code: 'MALFORMED_JSON' },
    { name: 'U+0000 in an attrs value', channel: 'telemetry', payload: JSON.stringify({ ts: now, lat: 1, lon: 1, attrs: { k: 'a\u0000b' } }), code: 'SCHEMA' },
    { name: 'U+0000 in an attrs key of the wrong type', channel: 'telemetry', payload: JSON.stringify({ ts: now, lat: 1, lon: 1, attrs: { 'k\u0000': {} } }), code: 'SCHEMA' },
    { name: 'an unpaired surrogate in attrs', channel: 'telemetry', payload: JSON.stringify({ ts: now + 1, lat: 1, lon: 1, attrs: { k: '\ud800' } }), code: 'SCHEMA' },
    { name: 'U+0000 in event data', channel: 'events', payload: JSON.stringify({ ts: now, type: 'sos', data: { note: 'x\u0000' } }), code: 'SCHEMA' },
    { name: 'event data nested 100,000 deep', channel: 'events', payload: `{"ts":${now},"type":"sos","data":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`, code: 'SCHEMA' },
  ])('$name: acknowledged, dead-lettered as $code; the bystander in the same batch is stored', async ({ channel, payload, code }) => {
    const [before] = await query<{ n: number }>('select count(*)::int n from dead_letters where device_id = $1 and code = $2', acme.devices[0]!.id, code)
    bystanderTs += 1000
    const good = channel === 'events' ? JSON.stringify({ ts: bystanderTs, type: 'door_open' }) : JSON.stringify({ ts: bystanderTs, lat: 2, lon: 2 })
    const [bad, fine] = await Promise.all([send(poison, topic(0, channel), payload), send(bystander, topic(1, channel), good)])
    expect({ bad, fine }).toEqual({ bad: 'acked', fine: 'acked' })

    const table = channel === 'events' ? 'tracking_events' : 'positions'
    const [stored] = await query<{ n: number }>(`select count(*)::int n from ${table} where device_id = $1 and ts = to_timestamp($2 / 1000.0)`, acme.devices[1]!.id, bystanderTs)
    expect(stored!.n).toBe(1)
    await eventually(async () => (await query<{ n: number }>('select count(*)::int n from dead_letters where device_id = $1 and code = $2', acme.devices[0]!.id, code))[0]!.n > before!.n, 5000, `dead letter ${code}`)
    const [letter] = await query<{ reason: string }>('select reason from dead_letters where device_id = $1 and code = $2 order by id desc limit 1', acme.devices[0]!.id, code)
    expect(letter!.reason.length).toBeGreaterThan(5)
    expect(poison.connected && bystander.connected).toBe(true)
  })
})
