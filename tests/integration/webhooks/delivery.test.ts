// Webhooks end to end on a whole node (PostgreSQL when available, else the embedded database): events
// stored by the API and by the processing core (over MQTT) reach a real HTTP receiver, signed; a
// failing receiver gets retries until it answers 2xx, in event order per webhook; types, disabled
// webhooks, tenants, redirects, giving up and a stop/start of the dispatcher behave as documented.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { connect, deviceOptions, eventually, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import { newWebhookSecret, verifySignature } from '../../../src/webhooks/signature.js'
import { stop, unique } from '../api/fixtures.js'
import { Receiver } from './receiver.js'

interface Created { webhook: { id: string }, secret: string }
interface Event { id: number, type: string, userId: string | null, createdAt: string, [k: string]: unknown }

const MAX_AGE_S = 3
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

for (const database of ['postgres', 'pglite'] as const) describe.runIf(database === 'pglite' || postgresAvailable())(`webhook delivery on ${database}`, () => {
  let node: TestNode
  let receiver: Receiver
  let acme: Provisioned
  let globex: Provisioned
  let api: ReturnType<typeof nodeApi>
  let shipmentId: string
  const hooks: Array<{ token: string, id: string }> = []

  beforeAll(async () => {
    receiver = await Receiver.start()
    node = await startNode({
      WEBHOOK_ALLOW_PRIVATE: true, WEBHOOK_ALLOW_HTTP: true, WEBHOOK_POLL_MS: 100, WEBHOOK_BACKOFF_MIN_MS: 100, WEBHOOK_BACKOFF_MAX_MS: 300,
      WEBHOOK_TIMEOUT_MS: 2000, WEBHOOK_MAX_AGE_S: MAX_AGE_S,
    }, { postgres: database === 'postgres' })
    api = nodeApi(node)
    acme = await provision(node, 'acme', 1)
    globex = await provision(node, 'globex', 0)
    shipmentId = (await api<{ id: string }>('POST', '/api/v1/shipments', acme.operatorToken, { reference: 'WH-1', stops: [stop('Dock', 48, 2)] })).id
  })
  afterEach(async () => {
    receiver.script = () => 200
    while (hooks.length > 0) {
      const h = hooks.pop()!
      await node.server.app.inject({ method: 'DELETE', url: `/api/v1/webhooks/${h.id}`, headers: { authorization: `Bearer ${h.token}` } })
    }
  })
  afterAll(async () => { await node?.close(); await receiver?.close() })

  const hook = async (path: string, body: object = {}, tenant = acme) => {
    const created = await api<Created>('POST', '/api/v1/webhooks', tenant.adminToken, { url: receiver.url(path), ...body })
    hooks.push({ token: tenant.adminToken, id: created.webhook.id })
    return created
  }
  const record = async (body: object, tenant = acme, shipment = shipmentId) =>
    (await api<{ events: Event[] }>('POST', `/api/v1/shipments/${shipment}/events`, tenant.operatorToken, body)).events
  const comment = async (text: string) => (await record({ type: 'comment', text }))[0]!
  const deliveries = (id: string) => api<{ items: Array<{ eventId: number, status: string, attempts: number, lastStatusCode: number | null, lastError: string | null }> }>(
    'GET', `/api/v1/webhooks/${id}/deliveries`, acme.adminToken)

  it('a manual exception arrives once, signed with the webhook\'s secret, with the event as the live stream sends it', async () => {
    const { webhook, secret } = await hook('/signed')
    // the exception, and the shipment's status change it causes
    const [event, status] = await record({ type: 'exception', code: 'damaged', note: 'pallet 3' })
    await eventually(() => receiver.at('/signed').length >= 2, 5000, 'the deliveries')
    const got = receiver.at('/signed').find((r) => r.body.type === 'exception')!
    expect(receiver.eventIds('/signed')).toEqual([event!.id, status!.id])
    expect(got.headers).toMatchObject({
      'content-type': 'application/json', 'user-agent': 'ReTrack-Webhooks/1',
      'x-retrack-event-id': String(event!.id), 'x-retrack-event-type': 'exception', 'x-retrack-delivery': expect.stringMatching(/^\d+$/),
    })
    const { userId: _u, createdAt, ...message } = event!
    expect(got.body).toEqual({ id: event!.id, type: 'exception', createdAt, data: message })
    const signature = got.headers['x-retrack-signature'] as string
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
    expect(verifySignature(secret, signature, got.raw)).toBe(true)
    expect(verifySignature(newWebhookSecret(), signature, got.raw)).toBe(false)
    expect(verifySignature(secret, signature, got.raw.replace('damaged', 'intact'))).toBe(false)
    await eventually(async () => (await deliveries(webhook.id)).items.every((d) => d.status === 'delivered'), 5000, 'delivered')
    expect((await deliveries(webhook.id)).items).toMatchObject([
      { eventId: status!.id, attempts: 1, lastStatusCode: 200 }, { eventId: event!.id, attempts: 1, lastStatusCode: 200 },
    ])
    await sleep(300)
    expect(receiver.at('/signed')).toHaveLength(2)
  })

  it('events the processing core stores (a device event and a low battery over MQTT) arrive', async () => {
    await hook('/core')
    const device = acme.devices[0]!
    const client: MqttClient = await connect(node.mqttUrl, deviceOptions('acme', device))
    try {
      await client.publishAsync(`tenants/acme/devices/${device.id}/events`, JSON.stringify({ ts: Date.now(), type: 'sos' }), { qos: 1 })
      await client.publishAsync(`tenants/acme/devices/${device.id}/telemetry`, JSON.stringify({ ts: Date.now(), lat: 48.1, lon: 2.1, battery: 5 }), { qos: 1 })
    } finally { client.end(true) }
    await eventually(() => receiver.at('/core').length >= 2, 10_000, 'both events')
    expect(receiver.at('/core').map((r) => [r.body.type, r.body.data.source, r.body.data.deviceId]).sort()).toEqual([
      ['low_battery', 'rule', device.id], ['sos', 'device', device.id],
    ])
  })

  it('a receiver answering 500 twice then 200 gets the event three times, then never again', async () => {
    const { webhook } = await hook('/flaky')
    receiver.script = (r) => r.path === '/flaky' && r.previous < 2 ? { status: 500, body: 'database is down\n' } : 200
    const event = await comment('flaky')
    await eventually(() => receiver.at('/flaky').length >= 3, 5000, 'three attempts')
    await sleep(1000)
    expect(receiver.eventIds('/flaky')).toEqual([event.id, event.id, event.id])
    expect(new Set(receiver.at('/flaky').map((r) => r.raw)).size).toBe(1) // the same document each time
    expect((await deliveries(webhook.id)).items).toMatchObject([{ status: 'delivered', attempts: 3, lastStatusCode: 200, lastError: null }])
    const health = (await api<{ health: { consecutiveFailures: number, lastError: string, lastSuccessAt: string | null } }>('GET', `/api/v1/webhooks/${webhook.id}`, acme.operatorToken)).health
    expect(health).toMatchObject({ consecutiveFailures: 0, lastError: 'HTTP 500: database is down' })
    expect(health.lastSuccessAt).not.toBeNull()
  })

  it('keeps event order per webhook: later events wait while an earlier one is retried', async () => {
    await hook('/ordered')
    receiver.script = (r) => r.path === '/ordered' && r.body.data.payload['text'] === 'A' && r.previous < 2 ? 503 : 200
    const ids = []
    for (const text of ['A', 'B', 'C']) ids.push((await comment(text)).id)
    await eventually(() => receiver.at('/ordered').length >= 5, 5000, 'five requests')
    const [a, b, c] = ids as [number, number, number]
    expect(receiver.eventIds('/ordered')).toEqual([a, a, a, b, c])
    expect(receiver.maxOpen.get('/ordered')).toBe(1)
  })

  it('delivers only the types a webhook asks for, nothing to a disabled one, and nothing of another tenant', async () => {
    await hook('/comments', { eventTypes: ['comment'] })
    const { webhook: disabled } = await hook('/disabled', { enabled: false })
    await hook('/everything')
    await hook('/globex', {}, globex)
    const globexShipment = (await api<{ id: string }>('POST', '/api/v1/shipments', globex.operatorToken, { reference: unique('g'), stops: [stop('G', 40, 2)] })).id
    const theirs = (await record({ type: 'comment', text: 'globex' }, globex, globexShipment))[0]!
    const [exception] = await record({ type: 'exception', code: 'late_docs' })
    const mine = await comment('types')
    await eventually(() => receiver.at('/everything').length >= 2 && receiver.at('/globex').length >= 1, 5000, 'the deliveries')
    await sleep(500)
    expect(receiver.eventIds('/everything')).toEqual([exception!.id, mine.id])
    expect(receiver.eventIds('/comments')).toEqual([mine.id])
    expect(receiver.eventIds('/disabled')).toEqual([])
    expect(receiver.eventIds('/globex')).toEqual([theirs.id])
    expect((await deliveries(disabled.id)).items).toEqual([])
  })

  it('does not follow redirects; gives up after WEBHOOK_MAX_AGE_S; a failed delivery retried by hand goes out', async () => {
    const { webhook } = await hook('/moved')
    receiver.script = (r) => r.path === '/moved' ? { status: 302, headers: { location: receiver.url('/elsewhere') } } : 200
    const event = await comment('moved')
    await eventually(async () => (await deliveries(webhook.id)).items[0]?.status === 'failed', (MAX_AGE_S + 3) * 1000, 'given up')
    const [failed] = (await api<{ items: Array<{ id: number, attempts: number, lastStatusCode: number, lastError: string }> }>('GET', `/api/v1/webhooks/${webhook.id}/deliveries?status=failed`, acme.adminToken)).items
    expect(failed).toMatchObject({ lastStatusCode: 302, lastError: 'HTTP 302 (redirects are not followed): ok' })
    expect(failed!.attempts).toBeGreaterThan(2)
    expect(receiver.at('/elsewhere')).toEqual([])
    const attempts = receiver.at('/moved').length
    await sleep(500)
    expect(receiver.at('/moved')).toHaveLength(attempts) // given up: no more attempts

    receiver.script = () => 200
    await api('POST', `/api/v1/webhooks/${webhook.id}/deliveries/${failed!.id}/retry`, acme.adminToken)
    await eventually(async () => (await deliveries(webhook.id)).items[0]?.status === 'delivered', 5000, 'delivered after the retry')
    expect(receiver.eventIds('/moved').at(-1)).toBe(event.id)
    expect(receiver.at('/moved')).toHaveLength(attempts + 1)
  })

  it('a stopped dispatcher leaves deliveries pending; started again, it delivers them', async () => {
    const { webhook } = await hook('/restart')
    await node.server.webhooks.stop()
    const event = await comment('while stopped')
    await sleep(500)
    expect(receiver.at('/restart')).toEqual([])
    expect((await deliveries(webhook.id)).items).toMatchObject([{ eventId: event.id, status: 'pending', attempts: 0 }])
    node.server.webhooks.start()
    await eventually(() => receiver.at('/restart').length === 1, 5000, 'the delivery after the restart')
    expect(receiver.eventIds('/restart')).toEqual([event.id])
  })
})
