// Persistent sessions (clean=false) are bounded (src/broker/sessions.ts): a client that is away has
// at most MQTT_SESSION_MAX_QUEUED messages kept for it (the oldest; newer ones are dropped and
// counted), a connected client far behind on its acknowledgements still gets everything live, and a
// session whose client has not been connected for MQTT_SESSION_EXPIRY_S is removed with its queue
// and subscriptions. In one process (Aedes' memory persistence) and over Redis across nodes, where
// an expired session leaves no key behind.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { deviceOptions, eventually, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import { redisKeys } from '../../helpers/redis-keys.js'
import { createPostgresDatabase } from '../../helpers/databases.js'
import type { SessionStore } from '../../../src/broker/sessions.js'

const CAP = 5
const services = () => inject('services')
const settle = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms))

interface Session { client: MqttClient, received: string[], sessionPresent: boolean, release: () => void }

/** RedisPersistence's enqueue (src/broker/redis-persistence.ts), as Aedes calls it */
interface Enqueues {
  outgoingEnqueueCombi(subs: Array<{ clientId: string, topic: string, qos: number }>, packet: object): Promise<void>
}

type SendPacket = (packet: { cmd: string }, cb?: (err?: Error) => void, ...rest: unknown[]) => void

/**
 * Connects and records the payloads that arrive, from before the CONNACK is in (a queue follows it
 * at once). With holdAcks the client sends no PUBACK until release() (it keeps reading): a consumer
 * far behind on its acknowledgements.
 */
function session(url: string, options: IClientOptions, { holdAcks = false } = {}): Promise<Session> {
  const received: string[] = []
  const held: Array<() => void> = []
  let holding = holdAcks
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...options })
  client.on('message', (_topic, payload) => received.push(payload.toString()))
  const raw = client as unknown as { _sendPacket: SendPacket }
  const send = raw._sendPacket.bind(client)
  raw._sendPacket = (packet, cb, ...rest) => {
    if (!holding || packet.cmd !== 'puback') return send(packet, cb, ...rest)
    held.push(() => send(packet))
    cb?.()
  }
  const release = () => { holding = false; for (const ack of held.splice(0)) ack() }
  return new Promise((resolve, reject) => {
    client.once('connect', (connack) => resolve({ client, received, sessionPresent: connack.sessionPresent, release }))
    client.once('error', (err) => { client.end(true); reject(err) })
  })
}

let t = Date.now() - 3_600_000
/** `count` readings from a device, each acknowledged (stored) before the next; their payloads in order. */
async function publishReadings(node: TestNode, tenant: Provisioned, count: number): Promise<string[]> {
  const device = tenant.devices[0]!
  const client = await mqtt.connectAsync(node.mqttUrl, { reconnectPeriod: 0, protocolVersion: 4, ...deviceOptions('acme', device) })
  const sent: string[] = []
  for (let i = 0; i < count; i++) {
    const payload = JSON.stringify({ ts: (t += 1000), lat: 45.76, lon: 4.83 })
    await client.publishAsync(`tenants/acme/devices/${device.id}/telemetry`, payload, { qos: 1 })
    sent.push(payload)
  }
  await client.endAsync()
  return sent
}

/**
 * The end of an expiry test, after the sweep removed the `gone` session: a message published now
 * is not queued for it (it comes back with no session and nothing waiting), while `stays`,
 * connected all along (longer than the expiry), still gets it live and keeps its session.
 */
async function expectGoneAndStays(o: {
  publish: () => Promise<string[]>, stays: Session, reconnectGone: () => Promise<Session>, reconnectStays: () => Promise<Session>,
}): Promise<void> {
  const [later] = await o.publish()
  const back = await o.reconnectGone()
  expect(back.sessionPresent).toBe(false)
  await settle()
  expect(back.received).toEqual([])
  await back.client.endAsync()

  await eventually(() => o.stays.received.includes(later!), 5000, 'the live message on the connected session')
  await o.stays.client.endAsync()
  const again = await o.reconnectStays()
  expect(again.sessionPresent).toBe(true)
  await again.client.endAsync()
}

const dropped = async (nodes: TestNode[], reason: 'queue_full' | 'expired') => {
  let sum = 0
  for (const node of nodes) sum += (await node.server.metrics.mqttQueuedDropped.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0
  return sum
}
const expired = async (nodes: TestNode[]) => {
  let sum = 0
  for (const node of nodes) sum += (await node.server.metrics.mqttSessionsExpired.get()).values[0]?.value ?? 0
  return sum
}

const TELEMETRY = 'tenants/acme/devices/+/telemetry'

describe('persistent sessions in one process (memory persistence)', () => {
  let capped: TestNode
  let expiring: TestNode
  let acme: Provisioned
  let acme2: Provisioned
  const integration = (p: Provisioned, clientId: string, extra: IClientOptions = {}): IClientOptions =>
    ({ clientId, username: 'acme', password: p.operatorToken, clean: false, ...extra })

  beforeAll(async () => {
    capped = await startNode({ MQTT_SESSION_MAX_QUEUED: CAP }, { postgres: postgresAvailable() })
    expiring = await startNode({ MQTT_SESSION_MAX_QUEUED: CAP, MQTT_SESSION_EXPIRY_S: 1 }, { postgres: postgresAvailable() })
    expect(capped.server.broker?.clustered).toBe(false)
    acme = await provision(capped, 'acme', 1)
    acme2 = await provision(expiring, 'acme', 1)
  })
  afterAll(async () => {
    await capped?.close()
    await expiring?.close()
  })

  it('a client away gets back the oldest MQTT_SESSION_MAX_QUEUED messages; the newer ones are dropped and counted', async () => {
    const away = await session(capped.mqttUrl, integration(acme, 'acme:erp'))
    await away.client.subscribeAsync(TELEMETRY, { qos: 1 })
    await away.client.endAsync()
    const sent = await publishReadings(capped, acme, CAP + 3)
    // (a PUBACK goes out before the message is handed on: its enqueue may still be under way)
    await eventually(async () => await dropped([capped], 'queue_full') === 3, 5000, 'three messages dropped')

    const back = await session(capped.mqttUrl, integration(acme, 'acme:erp'))
    expect(back.sessionPresent).toBe(true)
    await eventually(() => back.received.length >= CAP, 5000, 'the queued messages')
    await settle()
    expect(back.received).toEqual(sent.slice(0, CAP))
    // the queue is emptied: the next message comes live and nothing more is dropped
    const [next] = await publishReadings(capped, acme, 1)
    await eventually(() => back.received.includes(next!), 5000, 'the live message')
    expect(await dropped([capped], 'queue_full')).toBe(3)
    await back.client.endAsync()
    // a clean connection ends the session: nothing is kept for it any more
    const clean = await session(capped.mqttUrl, integration(acme, 'acme:erp', { clean: true }))
    await clean.client.endAsync()
  })

  it('a connected client far behind on its acknowledgements gets every message live; once acknowledged nothing is redelivered', async () => {
    const before = await dropped([capped], 'queue_full')
    const slow = await session(capped.mqttUrl, integration(acme, 'acme:slow'), { holdAcks: true })
    await slow.client.subscribeAsync(TELEMETRY, { qos: 1 })
    const sent = await publishReadings(capped, acme, CAP + 3)
    await eventually(() => slow.received.length >= CAP + 3, 5000, 'every message live')
    expect(slow.received).toEqual(sent)
    expect(await dropped([capped], 'queue_full') - before).toBe(3)
    slow.release()
    await settle()
    await slow.client.endAsync()

    const back = await session(capped.mqttUrl, integration(acme, 'acme:slow'))
    expect(back.sessionPresent).toBe(true)
    await settle()
    expect(back.received).toEqual([])
    await back.client.endAsync()
  })

  it('a session whose client stayed away past MQTT_SESSION_EXPIRY_S is removed with its queue; a connected one stays', async () => {
    const stays = await session(expiring.mqttUrl, integration(acme2, 'acme:stays'))
    await stays.client.subscribeAsync(TELEMETRY, { qos: 1 })
    const away = await session(expiring.mqttUrl, integration(acme2, 'acme:gone'))
    await away.client.subscribeAsync(TELEMETRY, { qos: 1 })
    await away.client.endAsync()
    await publishReadings(expiring, acme2, 2)

    await eventually(async () => await expired([expiring]) >= 1, 8000, 'the session to expire')
    expect(await expired([expiring])).toBe(1)
    expect(await dropped([expiring], 'expired')).toBe(2)
    await expectGoneAndStays({
      publish: () => publishReadings(expiring, acme2, 1), stays,
      reconnectGone: () => session(expiring.mqttUrl, integration(acme2, 'acme:gone')),
      reconnectStays: () => session(expiring.mqttUrl, integration(acme2, 'acme:stays')),
    })
  })
})

describe.runIf(services().redis && postgresAvailable())('persistent sessions over Redis, across nodes', () => {
  const run = randomBytes(4).toString('hex')
  const prefixX = `retrack-test:sessions-${run}-x:`
  const prefixY = `retrack-test:sessions-${run}-y:`
  let redis: Redis
  let db: Awaited<ReturnType<typeof createPostgresDatabase>>
  let x1: TestNode
  let x2: TestNode
  let y1: TestNode
  let y2: TestNode
  let acme: Provisioned
  const clientIdOf = (name: string) => `acme:${name}-${run}`
  const integration = (name: string, extra: IClientOptions = {}): IClientOptions =>
    ({ clientId: clientIdOf(name), username: 'acme', password: acme.operatorToken, clean: false, ...extra })

  const keysOf = (pattern: string) => redisKeys(redis, pattern)

  beforeAll(async () => {
    redis = new Redis(services().redisUrl)
    db = await createPostgresDatabase()
    // deployment X: a cap, the default expiry; deployment Y (same database): a cap and a 1 s expiry
    const x = { REDIS_URL: services().redisUrl, REDIS_KEY_PREFIX: prefixX, MQTT_SESSION_MAX_QUEUED: CAP }
    const y = { REDIS_URL: services().redisUrl, REDIS_KEY_PREFIX: prefixY, MQTT_SESSION_MAX_QUEUED: CAP, MQTT_SESSION_EXPIRY_S: 1 }
    x1 = await startNode(x, { databaseUrl: db.url })
    x2 = await startNode(x, { databaseUrl: db.url })
    y1 = await startNode(y, { databaseUrl: db.url })
    y2 = await startNode(y, { databaseUrl: db.url })
    expect([x1, x2, y1, y2].every((n) => n.server.broker?.clustered)).toBe(true)
    acme = await provision(x1, 'acme', 1)
  })
  afterAll(async () => {
    for (const node of [x1, x2, y1, y2]) await node?.close()
    await db?.drop()
    if (redis) {
      const mine = [...await keysOf(`${prefixX}*`), ...await keysOf(`${prefixY}*`)]
      for (let i = 0; i < mine.length; i += 500) await redis.del(...mine.slice(i, i + 500))
      redis.disconnect()
    }
  })

  it('a client away on one node gets back the oldest MQTT_SESSION_MAX_QUEUED of what devices sent through another; nothing is left in Redis', async () => {
    const id = encodeURIComponent(clientIdOf('erp'))
    const away = await session(x1.mqttUrl, integration('erp'))
    await away.client.subscribeAsync(TELEMETRY, { qos: 1 })
    await away.client.endAsync()
    const sent = await publishReadings(x2, acme, CAP + 3)
    await eventually(async () => await dropped([x1, x2], 'queue_full') === 3, 5000, 'three messages dropped')
    expect(await redis.llen(`${prefixX}mqtt:outgoing:${id}`)).toBe(CAP)
    expect(await keysOf(`${prefixX}mqtt:packet:*`)).toHaveLength(2 * CAP) // each body and its count

    const back = await session(x1.mqttUrl, integration('erp'))
    expect(back.sessionPresent).toBe(true)
    await eventually(() => back.received.length >= CAP, 5000, 'the queued messages')
    await settle()
    expect(back.received).toEqual(sent.slice(0, CAP))
    await eventually(async () => (await keysOf(`${prefixX}mqtt:packet:*`)).length === 0, 5000, 'the delivered messages to leave Redis')
    expect(await redis.llen(`${prefixX}mqtt:outgoing:${id}`)).toBe(0)
    await back.client.endAsync()
    // a session ended by a clean connection releases what was queued for it
    await publishReadings(x2, acme, 2)
    await eventually(async () => await redis.llen(`${prefixX}mqtt:outgoing:${id}`) === 2, 5000, 'two queued messages')
    const clean = await session(x2.mqttUrl, integration('erp', { clean: true }))
    expect(clean.sessionPresent).toBe(false)
    await clean.client.endAsync()
    expect(await keysOf(`${prefixX}mqtt:packet:*`)).toEqual([])
    expect((await keysOf(`${prefixX}*`)).filter((k) => k.includes(id))).toEqual([])
  })

  it('a connected client far behind on its acknowledgements gets every message live from another node; acknowledged, nothing stays in Redis', async () => {
    const before = await dropped([x1, x2], 'queue_full')
    const slow = await session(x1.mqttUrl, integration('slow'), { holdAcks: true })
    await slow.client.subscribeAsync(TELEMETRY, { qos: 1 })
    const sent = await publishReadings(x2, acme, CAP + 3)
    // (on a timeout the comparison below shows which message is missing)
    await eventually(() => slow.received.length >= CAP + 3, 5000, 'every message live').catch(() => {})
    expect(slow.received).toEqual(sent)
    expect(await dropped([x1, x2], 'queue_full') - before).toBe(3)
    slow.release()
    await eventually(async () => (await keysOf(`${prefixX}mqtt:packet:*`)).length === 0, 5000, 'the acknowledged messages to leave Redis')
    expect(await redis.llen(`${prefixX}mqtt:outgoing:${encodeURIComponent(clientIdOf('slow'))}`)).toBe(0)
    await slow.client.endAsync()

    const back = await session(x2.mqttUrl, integration('slow'))
    expect(back.sessionPresent).toBe(true)
    await settle()
    expect(back.received).toEqual([])
    await back.client.endAsync()
  })

  it('a node answers its enqueues in the order they began, whatever each writes: no message is handed on before an earlier one', async () => {
    // Aedes hands a message on when its enqueue answers, and a client drops as a duplicate any
    // message older than one it already had from that node: a message left out (one round trip)
    // must not overtake one kept just before (several)
    const persistence = (x2.server.broker!.aedes as unknown as { persistence: SessionStore & Enqueues }).persistence
    const [room, full] = [clientIdOf('room'), clientIdOf('full')]
    await persistence.touchSessions([room, full], Date.now())
    const brokerId = `order-${run}`
    let counter = 0
    const topic = 'tenants/acme/order'
    const packet = () => ({ cmd: 'publish', brokerId, brokerCounter: ++counter, topic, payload: Buffer.from('{}'), qos: 1, retain: false, dup: false })
    for (let i = 0; i < CAP; i++) await persistence.outgoingEnqueueCombi([{ clientId: full, topic, qos: 1 }], packet())
    const answered: string[] = []
    await Promise.all([
      persistence.outgoingEnqueueCombi([{ clientId: room, topic, qos: 1 }], packet()).then(() => answered.push('kept')),
      persistence.outgoingEnqueueCombi([{ clientId: full, topic, qos: 1 }], packet()).then(() => answered.push('left out')),
      persistence.outgoingEnqueueCombi([], packet()).then(() => answered.push('for nobody')),
    ])
    expect(answered).toEqual(['kept', 'left out', 'for nobody'])
    expect(await redis.llen(`${prefixX}mqtt:outgoing:${encodeURIComponent(room)}`)).toBe(1)
    expect(await redis.llen(`${prefixX}mqtt:outgoing:${encodeURIComponent(full)}`)).toBe(CAP)
    expect(await persistence.removeSessions([room, full])).toEqual([1, CAP])
    for (const id of [room, full]) await persistence.forgetSession(id)
    expect(await keysOf(`${prefixX}mqtt:packet:${brokerId}:*`)).toEqual([])
  })

  it('an expired session is removed by one node, with every key it had; a session connected to another node all along stays', async () => {
    const id = encodeURIComponent(clientIdOf('gone'))
    const stays = await session(y2.mqttUrl, integration('stays'))
    await stays.client.subscribeAsync(TELEMETRY, { qos: 1 })
    const away = await session(y1.mqttUrl, integration('gone'))
    await away.client.subscribeAsync(TELEMETRY, { qos: 1 })
    await away.client.endAsync()
    await publishReadings(y2, acme, 2)
    await eventually(async () => await redis.llen(`${prefixY}mqtt:outgoing:${id}`) === 2, 5000, 'two queued messages')

    await eventually(async () => await expired([y1, y2]) >= 1, 10_000, 'the session to expire')
    await settle(1500) // a second node's sweep would have claimed it by now
    expect(await expired([y1, y2])).toBe(1)
    expect(await dropped([y1, y2], 'expired')).toBe(2)
    expect((await keysOf(`${prefixY}*`)).filter((k) => k.includes(id))).toEqual([])
    expect(await keysOf(`${prefixY}mqtt:packet:*`)).toEqual([])
    expect(await redis.zscore(`${prefixY}mqtt:sessions:seen`, clientIdOf('gone'))).toBeNull()
    expect(await redis.sismember(`${prefixY}mqtt:clients`, clientIdOf('gone'))).toBe(0)

    await expectGoneAndStays({
      publish: () => publishReadings(y1, acme, 1), stays,
      reconnectGone: () => session(y2.mqttUrl, integration('gone')),
      reconnectStays: () => session(y1.mqttUrl, integration('stays')),
    })
  })
})
