// Bad input is refused or dead-lettered with a reason, counted, and costs nobody else anything:
// the broker stays up and another device's readings, sent all along, are all stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { connect, deviceOptions, eventually, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

describe('malformed MQTT input', () => {
  let node: TestNode
  let acme: Provisioned
  let bad: MqttClient
  let good: MqttClient
  let goodSent = 0
  let goodTimer: NodeJS.Timeout
  const topic = (i: number) => `tenants/acme/devices/${acme.devices[i]!.id}/telemetry`
  const count = async (sql: string, ...args: unknown[]) => (await node.server.db.pool.query<{ n: number }>(sql, args)).rows[0]!.n
  const deadLetters = (code: string) => count('select count(*)::int n from dead_letters where device_id = $1 and code = $2', acme.devices[0]!.id, code)
  const metric = async (name: string) => node.server.metrics.registry.getSingleMetricAsString(name)

  beforeAll(async () => {
    // large enough for a 10,000-reading batch to reach the decoder, small enough to refuse 1 MB
    node = await startNode({ MQTT_MAX_PAYLOAD_BYTES: 768 * 1024, MQTT_MAX_BATCH: 1000 }, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 2)
    bad = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[0]!))
    good = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[1]!))
    // the bystander: a valid reading every 20 ms for the whole suite
    const start = Date.now() - 60_000
    goodTimer = setInterval(() => {
      goodSent++
      good.publish(topic(1), JSON.stringify({ ts: start + goodSent * 10, lat: 50 + goodSent * 1e-5, lon: 8, seq: goodSent }), { qos: 1 })
    }, 20)
  })
  afterAll(async () => {
    clearInterval(goodTimer)
    await good?.endAsync()
    bad?.end(true)
    await node?.close()
  })

  const publishBad = (payload: string | Buffer) => bad.publishAsync(topic(0), payload, { qos: 1 })

  it.each([
    { name: 'not JSON', payload: 'lat=1,lon=2', code: 'MALFORMED_JSON' },
    { name: 'NaN (not valid JSON)', payload: '{"ts": 1, "lat": NaN, "lon": 2}', code: 'MALFORMED_JSON' },
    { name: 'lat as a string', payload: JSON.stringify({ ts: Date.now(), lat: 'north', lon: 2 }), code: 'SCHEMA' },
    { name: 'missing ts', payload: JSON.stringify({ lat: 1, lon: 2 }), code: 'SCHEMA' },
    { name: 'ts that is no date', payload: JSON.stringify({ ts: 'yesterday', lat: 1, lon: 2 }), code: 'BAD_TIME' },
    { name: 'a JSON number', payload: '42', code: 'SCHEMA' },
    { name: 'empty batch', payload: '[]', code: 'EMPTY_BATCH' },
    { name: '10,000-element batch', payload: JSON.stringify(Array.from({ length: 10_000 }, (_, i) => ({ ts: Date.now() - i * 1000, lat: 1, lon: 2 }))), code: 'BATCH_TOO_LARGE' },
  ])('$name → acknowledged, dead-lettered as $code, connection kept', async ({ payload, code }) => {
    const before = await deadLetters(code)
    await publishBad(payload)
    expect(bad.connected).toBe(true)
    await eventually(async () => await deadLetters(code) > before, 5000, `dead letter ${code}`)
    expect(await metric('retrack_dead_letters_total')).toMatch(new RegExp(`code="${code}"} [1-9]`))
    const [row] = (await node.server.db.pool.query('select reason, payload from dead_letters where device_id = $1 and code = $2 order by id desc limit 1', [acme.devices[0]!.id, code])).rows as Array<{ reason: string, payload: Buffer }>
    expect(row!.reason.length).toBeGreaterThan(5)
    expect(row!.payload.subarray(0, 20).toString()).toBe(Buffer.from(payload).subarray(0, 20).toString())
  })

  it('out-of-range and null-island coordinates are dropped with a reason and never stored', async () => {
    const ts = Date.now() - 5000
    await publishBad(JSON.stringify([{ ts, lat: 95, lon: 2 }, { ts: ts + 1, lat: 10, lon: -181 }, { ts: ts + 2, lat: 0, lon: 0 }]))
    const dropped = await metric('retrack_readings_dropped_total')
    expect(dropped).toMatch(/reason="invalid"} [2-9]/)
    expect(dropped).toMatch(/reason="null_island"} [1-9]/)
    expect(await count('select count(*)::int n from positions where device_id = $1 and ts >= to_timestamp($2 / 1000.0)', acme.devices[0]!.id, ts)).toBe(0)
  })

  it('a batch with some bad elements stores the good ones and dead-letters the rest with their index', async () => {
    const ts = Date.now() - 30_000
    await publishBad(JSON.stringify([{ ts, lat: 1, lon: 1 }, { ts: ts + 1000, lat: 'x', lon: 1 }, { ts: ts + 2000, lat: 1.001, lon: 1 }]))
    await eventually(async () => await count('select count(*)::int n from positions where device_id = $1 and ts >= to_timestamp($2 / 1000.0)', acme.devices[0]!.id, ts) === 2, 5000, 'good elements stored')
    const [row] = (await node.server.db.pool.query(`select reason from dead_letters where device_id = $1 and code = 'SCHEMA' and reason like '%[1]%'`, [acme.devices[0]!.id])).rows as Array<{ reason: string }>
    expect(row?.reason).toContain('[1] /lat must be number')
  })

  it('a 1 MB payload closes that connection only; the broker and the other device carry on', async () => {
    const victim = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[0]!, { clientId: acme.devices[0]!.id }))
    const closed = new Promise<void>((resolve) => victim.once('close', () => resolve()))
    victim.publish(topic(0), Buffer.alloc(1024 * 1024, 0x61), { qos: 1 })
    await closed
    expect(await metric('retrack_dead_letters_total')).toMatch(/code="PACKET_TOO_LARGE"} [1-9]/)
    // the broker still accepts connections and readings
    const again = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[0]!))
    await again.publishAsync(topic(0), JSON.stringify({ ts: Date.now(), lat: 3, lon: 3 }), { qos: 1 })
    await again.endAsync()
  })

  it('every reading of the well-behaved device, sent all along, was stored', async () => {
    clearInterval(goodTimer)
    const sent = goodSent
    await eventually(async () => await count('select count(*)::int n from positions where device_id = $1', acme.devices[1]!.id) === sent, 10_000, `${sent} bystander readings`)
    expect(good.connected).toBe(true)
  })
})
