// The other ways in: MQTT over WebSocket and over TLS, HTTPS ingestion; and presence as the API shows it.
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, deviceOptions, eventually, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

function selfSignedCert(): { cert: string, key: string } | null {
  try {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'retrack-tls-'))
    const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' })
    return { cert, key }
  } catch { return null }
}

describe('transports and presence', () => {
  let node: TestNode
  let acme: Provisioned
  const tls = selfSignedCert()
  const count = async (deviceId: string) => (await node.server.db.pool.query<{ n: number }>('select count(*)::int n from positions where device_id = $1', [deviceId])).rows[0]!.n
  const reading = (ts = Date.now()) => JSON.stringify({ ts, lat: 51.5, lon: -0.12 })

  beforeAll(async () => {
    node = await startNode(tls ? { MQTT_TLS_CERT: tls.cert, MQTT_TLS_KEY: tls.key, MQTT_TLS_PORT: 0 } : {}, { postgres: postgresAvailable() })
    acme = await provision(node, 'wires', 5)
  })
  afterAll(async () => { await node?.close() })

  it('MQTT over WebSocket at /mqtt on the API port', async () => {
    const device = acme.devices[0]!
    const client = await connect(`ws://127.0.0.1:${node.server.httpPort}/mqtt`, deviceOptions('wires', device))
    await client.publishAsync(`tenants/wires/devices/${device.id}/telemetry`, reading(), { qos: 1 })
    await client.endAsync()
    expect(await count(device.id)).toBe(1)
  })

  it('a WebSocket upgrade anywhere else is answered 404 at once, not left hanging', async () => {
    const { request } = await import('node:http')
    const answer = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: node.server.httpPort, path: '/', headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      }, timeout: 3000 })
      req.on('response', (res) => { let body = ''; res.on('data', (c: Buffer) => { body += c.toString() }); res.on('end', () => resolve({ status: res.statusCode ?? 0, body })) })
      req.on('upgrade', () => reject(new Error('upgraded')))
      req.on('timeout', () => { req.destroy(); reject(new Error('no answer within 3 s')) })
      req.on('error', reject)
      req.end()
    })
    expect(answer).toEqual({ status: 404, body: 'MQTT over WebSocket is at /mqtt\n' })
  })

  it.runIf(tls !== null)('MQTT over TLS when a certificate is configured', async () => {
    const port = node.server.broker!.tlsPort!
    const device = acme.devices[1]!
    const client = await connect(`mqtts://127.0.0.1:${port}`, { ...deviceOptions('wires', device), rejectUnauthorized: false })
    await client.publishAsync(`tenants/wires/devices/${device.id}/telemetry`, reading(), { qos: 1 })
    await client.endAsync()
    expect(await count(device.id)).toBe(1)
  })

  describe('HTTPS ingestion', () => {
    const post = (url: string, authorization: string | undefined, payload: string, contentType: string | null = 'application/json') =>
      node.server.app.inject({ method: 'POST', url, payload, headers: { ...(contentType ? { 'content-type': contentType } : {}), ...(authorization ? { authorization } : {}) } })

    it('accepts a batch with a device token, reports duplicates on a resend', async () => {
      const device = acme.devices[2]!
      const { token } = await nodeApi(node)<{ token: string }>('POST', '/api/v1/auth/device-token', null, { tenant: 'wires', deviceId: device.id, secret: device.secret })
      const batch = JSON.stringify([{ ts: Date.now() - 2000, lat: 51.5, lon: -0.12 }, { ts: Date.now() - 1000, lat: 51.5001, lon: -0.12 }])
      const first = await post('/api/v1/ingest/telemetry', `Bearer ${token}`, batch)
      expect(first.statusCode).toBe(202)
      expect(first.json()).toMatchObject({ accepted: 2, duplicates: 0, dropped: [], rejected: [] })
      expect((await post('/api/v1/ingest/telemetry', `Bearer ${token}`, batch)).json()).toMatchObject({ accepted: 0, duplicates: 2 })
      expect(await count(device.id)).toBe(2)
    })

    it('accepts HTTP Basic deviceId:secret, reports dropped and rejected elements by index', async () => {
      const device = acme.devices[3]!
      const basic = `Basic ${Buffer.from(`${device.id}:${device.secret}`).toString('base64')}`
      const res = await post('/api/v1/ingest/telemetry', basic, JSON.stringify([{ ts: Date.now(), lat: 1, lon: 1 }, { ts: Date.now(), lat: 0, lon: 0 }, { ts: Date.now(), lat: 'x', lon: 1 }]))
      expect(res.statusCode).toBe(202)
      expect(res.json()).toMatchObject({ accepted: 1, dropped: [{ index: 1, reason: 'null_island' }], rejected: [{ index: 2, code: 'SCHEMA' }] })
      // a rejected element before a dropped one does not shift the dropped one's index
      const shifted = await post('/api/v1/ingest/telemetry', basic, JSON.stringify([{ lat: 1 }, { ts: Date.now(), lat: 0, lon: 0 }]))
      expect(shifted.json()).toMatchObject({ dropped: [{ index: 1, reason: 'null_island' }], rejected: [{ index: 0, code: 'SCHEMA' }] })
    })

    it('reads the body as the same bytes whatever the content type says, and the auth scheme in any case', async () => {
      const device = acme.devices[3]!
      const basic = `basic ${Buffer.from(`${device.id}:${device.secret}`).toString('base64')}`
      const ok = await post('/api/v1/ingest/telemetry', basic, JSON.stringify({ ts: Date.now() - 500, lat: 52, lon: 4 }), 'text/plain')
      expect(ok.statusCode).toBe(202)
      expect(ok.json()).toMatchObject({ accepted: 1 })
      // a rejected element of a text/plain body is dead-lettered with its bytes, like any other
      const bad = await post('/api/v1/ingest/telemetry', basic, '{"lat":1}', null)
      expect(bad.statusCode).toBe(400)
      expect(bad.json()).toMatchObject({ code: 'SCHEMA' })
      const batch = await post('/api/v1/ingest/telemetry', basic, ' [{"ts":1,"lat":0,"lon":0}]', 'text/plain; charset=utf-8')
      expect(batch.json()).toMatchObject({ dropped: [{ index: 0 }] })
      const letters = await node.server.db.pool.query<{ payload: Buffer }>(`select payload from dead_letters where device_id = $1 and code = 'SCHEMA' order by id desc limit 1`, [device.id])
      expect(letters.rows[0]!.payload.toString()).toBe('{"lat":1}')
      // the MQTT size limit holds for every content type
      const huge = await post('/api/v1/ingest/telemetry', basic, `[${'{"ts":1,"lat":1,"lon":1},'.repeat(11_000)}{"ts":1,"lat":1,"lon":1}]`, 'text/plain')
      expect(huge.statusCode).toBe(413)
    })

    it('the OpenAPI description gives each route the contract\'s schema of its body, one item or an array', async () => {
      type Body = { content: Record<string, { schema: { oneOf: Array<{ required?: string[], items?: { required?: string[] } }> } }> }
      const doc = (await node.server.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, { post: { requestBody: Body } }> }>()
      for (const [path, required] of [['/api/v1/ingest/telemetry', ['ts', 'lat', 'lon']], ['/api/v1/ingest/events', ['ts', 'type']]] as const) {
        const body = doc.paths[path]!.post.requestBody
        expect(Object.keys(body.content).sort(), path).toEqual(['application/json', 'text/plain'])
        const [one, many] = body.content['application/json']!.schema.oneOf
        expect(one!.required, path).toEqual(required)
        expect(many!.items!.required, path).toEqual(required)
      }
    })

    it('refuses device events at times no reader could hold', async () => {
      const device = acme.devices[3]!
      const basic = `Basic ${Buffer.from(`${device.id}:${device.secret}`).toString('base64')}`
      for (const ts of [253402300800000, '0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z']) {
        const res = await post('/api/v1/ingest/events', basic, JSON.stringify({ ts, type: 'sos' }))
        expect(res.statusCode, String(ts)).toBe(400)
        expect(res.json()).toMatchObject({ code: 'BAD_TIME' })
      }
      // a time that parses but lies far ahead is refused by the time checks: a 400 BAD_TIME too
      const ahead = await post('/api/v1/ingest/events', basic, JSON.stringify({ ts: '9999-12-31T23:59:59Z', type: 'sos' }))
      expect(ahead.statusCode).toBe(400)
      expect(ahead.json()).toMatchObject({ code: 'BAD_TIME', message: expect.stringMatching(/in the future/) })
    })

    it('refuses a user token (403), wrong credentials (401), and malformed JSON (400, dead-lettered)', async () => {
      const device = acme.devices[3]!
      expect((await post('/api/v1/ingest/telemetry', `Bearer ${acme.adminToken}`, reading())).statusCode).toBe(403)
      expect((await post('/api/v1/ingest/telemetry', `Basic ${Buffer.from(`${device.id}:nope`).toString('base64')}`, reading())).statusCode).toBe(401)
      expect((await post('/api/v1/ingest/telemetry', undefined, reading())).statusCode).toBe(401)
      const bad = await post('/api/v1/ingest/telemetry', `Basic ${Buffer.from(`${device.id}:${device.secret}`).toString('base64')}`, '{oops')
      expect(bad.statusCode).toBe(400)
      expect(bad.json()).toMatchObject({ code: 'MALFORMED_JSON' })
      const letters = await node.server.db.pool.query<{ n: number }>(`select count(*)::int n from dead_letters where device_id = $1 and code = 'MALFORMED_JSON'`, [device.id])
      expect(letters.rows[0]!.n).toBe(1)
    })
  })

  it('presence: the API shows a device online while connected and offline after its Last Will', async () => {
    const device = acme.devices[4]!
    const api = nodeApi(node)
    const presence = async () => (await api<{ presence?: { online: boolean, lastSeenAt: string | null } }>('GET', `/api/v1/devices/${device.id}`, acme.operatorToken)).presence
    const client = await connect(node.mqttUrl, deviceOptions('wires', device, { will: { topic: `tenants/wires/devices/${device.id}/status`, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: false } }))
    await eventually(async () => (await presence())?.online === true, 5000, 'online')
    expect(await node.server.metrics.registry.getSingleMetricAsString('retrack_mqtt_devices_connected')).toMatch(/retrack_mqtt_devices_connected [1-9]/)
    client.stream.destroy() // abrupt: the broker publishes the Last Will
    await eventually(async () => (await presence())?.online === false, 5000, 'offline')
    expect((await presence())?.lastSeenAt).toEqual(expect.any(String))
  })
})
