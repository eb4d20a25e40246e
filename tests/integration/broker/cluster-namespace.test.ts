// Two deployments on one Redis, told apart by REDIS_KEY_PREFIX: deployment A (two nodes) and
// deployment B (one node), each with its own PostgreSQL database and both with a tenant `acme`.
// The nodes of A share messages, sessions and client ids; nothing crosses between A and B (no
// message, no session, no client-id takeover), and the broker writes no Redis key and uses no
// channel outside its deployment's prefix. Refused payloads are not relayed between A's nodes.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connect, deviceOptions, eventually, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import { redisKeys } from '../../helpers/redis-keys.js'
import { createPostgresDatabase } from '../../helpers/databases.js'
import mqemitterRedis from 'mqemitter-redis'
import { NamespacedEmitter, brokerChannelPrefix, brokerKeyPrefix } from '../../../src/broker/namespaced-emitter.js'

const services = () => inject('services')

interface Received { topic: string, payload: string }

/** Connects and starts recording what arrives before the CONNACK is in (a queue may follow it at once). */
function connectRecording(url: string, options: IClientOptions): Promise<{ client: MqttClient, received: Received[], sessionPresent: boolean }> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...options })
    const received: Received[] = []
    client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }))
    client.once('connect', (connack) => resolve({ client, received, sessionPresent: connack.sessionPresent }))
    client.once('error', (err) => { client.end(true); reject(err) })
  })
}

const settle = () => new Promise((r) => setTimeout(r, 300))

describe.runIf(services().redis && postgresAvailable())('cluster mode: deployments sharing one Redis are apart by REDIS_KEY_PREFIX', () => {
  const run = randomBytes(4).toString('hex')
  const prefixA = `retrack-test:ns-${run}-a:`
  const prefixB = `retrack-test:ns-${run}-b:`
  let redis: Redis
  let a1: TestNode
  let a2: TestNode
  let b1: TestNode
  let acmeA: Provisioned
  let acmeB: Provisioned
  let dbA: Awaited<ReturnType<typeof createPostgresDatabase>>
  let dbB: Awaited<ReturnType<typeof createPostgresDatabase>>
  const open: MqttClient[] = []
  const track = <T extends { client: MqttClient }>(c: T) => { open.push(c.client); return c }

  // unique per run: keys an older version (or another run) left in this Redis must not look like ours
  const clientIdOf = (name: string) => `acme:${name}-${run}`
  const integration = (p: Provisioned, name: string, extra: IClientOptions = {}): IClientOptions =>
    ({ clientId: clientIdOf(name), username: 'acme', password: p.operatorToken, ...extra })
  const topicOf = (p: Provisioned, channel: string, i = 0) => `tenants/acme/devices/${p.devices[i]!.id}/${channel}`
  let t = Date.now() - 600_000
  const reading = () => JSON.stringify({ ts: (t += 1000), lat: 45.76, lon: 4.83 })

  const keysOf = (pattern: string) => redisKeys(redis, pattern)

  beforeAll(async () => {
    redis = new Redis(services().redisUrl)
    ;[dbA, dbB] = await Promise.all([createPostgresDatabase(), createPostgresDatabase()])
    a1 = await startNode({ REDIS_URL: services().redisUrl, REDIS_KEY_PREFIX: prefixA }, { databaseUrl: dbA.url })
    a2 = await startNode({ REDIS_URL: services().redisUrl, REDIS_KEY_PREFIX: prefixA }, { databaseUrl: dbA.url })
    b1 = await startNode({ REDIS_URL: services().redisUrl, REDIS_KEY_PREFIX: prefixB }, { databaseUrl: dbB.url })
    expect([a1, a2, b1].every((n) => n.server.broker?.clustered)).toBe(true)
    acmeA = await provision(a1, 'acme', 2)
    acmeB = await provision(b1, 'acme', 1)
  })
  afterAll(async () => {
    for (const c of open) c.end(true)
    await a1?.close()
    await a2?.close()
    await b1?.close()
    await Promise.all([dbA?.drop(), dbB?.drop()])
    if (redis) {
      const mine = [...await keysOf(`${prefixA}*`), ...await keysOf(`${prefixB}*`)]
      for (let i = 0; i < mine.length; i += 500) await redis.del(...mine.slice(i, i + 500))
      redis.disconnect()
    }
  })

  it('a reading and a command on A reach an integration on A\'s other node and none on B, and the other way round', async () => {
    const onA2 = track(await connectRecording(a2.mqttUrl, integration(acmeA, 'erp')))
    const onB1 = track(await connectRecording(b1.mqttUrl, integration(acmeB, 'erp')))
    await onA2.client.subscribeAsync('tenants/acme/#', { qos: 1 })
    await onB1.client.subscribeAsync('tenants/acme/#', { qos: 1 })

    const deviceA = await connect(a1.mqttUrl, deviceOptions('acme', acmeA.devices[0]!))
    open.push(deviceA)
    await deviceA.subscribeAsync(topicOf(acmeA, 'commands'), { qos: 1 })
    const fromA = reading()
    await deviceA.publishAsync(topicOf(acmeA, 'telemetry'), fromA, { qos: 1 })
    await nodeApi(a1)('POST', `/api/v1/devices/${acmeA.devices[0]!.id}/commands`, acmeA.operatorToken, { type: 'reboot' })
    await eventually(() => onA2.received.some((m) => m.payload === fromA), 5000, 'A\'s reading on A\'s other node')
    await eventually(() => onA2.received.some((m) => m.topic === topicOf(acmeA, 'commands')), 5000, 'A\'s command on A\'s other node')

    const deviceB = await connect(b1.mqttUrl, deviceOptions('acme', acmeB.devices[0]!))
    open.push(deviceB)
    const fromB = reading()
    await deviceB.publishAsync(topicOf(acmeB, 'telemetry'), fromB, { qos: 1 })
    await eventually(() => onB1.received.some((m) => m.payload === fromB), 5000, 'B\'s reading on B')
    await settle()

    const devicesOf = (received: Received[]) => received.filter((m) => m.topic.startsWith('tenants/acme/devices/'))
    expect(devicesOf(onB1.received)).toEqual([{ topic: topicOf(acmeB, 'telemetry'), payload: fromB }])
    expect(devicesOf(onA2.received).map((m) => m.topic)).toEqual([topicOf(acmeA, 'telemetry'), topicOf(acmeA, 'commands')])
    expect(onB1.received.some((m) => m.topic.includes(acmeA.devices[0]!.id))).toBe(false)
    expect(onA2.received.some((m) => m.topic.includes(acmeB.devices[0]!.id))).toBe(false)
  })

  it('the same client id on A and on B are two clients: neither closes the other; on A\'s two nodes it is one', async () => {
    const first = track(await connectRecording(a1.mqttUrl, integration(acmeA, 'twin')))
    const closed = new Promise<'closed'>((resolve) => first.client.once('close', () => resolve('closed')))
    const twin = track(await connectRecording(b1.mqttUrl, integration(acmeB, 'twin')))
    expect(await Promise.race([closed, settle().then(() => 'open' as const)])).toBe('open')
    expect(first.client.connected && twin.client.connected).toBe(true)

    // within deployment A the id is still unique across nodes: a2 takes it over from a1
    track(await connectRecording(a2.mqttUrl, integration(acmeA, 'twin')))
    expect(await Promise.race([closed, new Promise((r) => setTimeout(r, 5000)).then(() => 'open' as const)])).toBe('closed')
    expect(twin.client.connected).toBe(true)
  })

  it('a persistent session of A is A\'s only: B does not resume it, A\'s other node does', async () => {
    const options = (p: Provisioned) => integration(p, 'archive', { clean: false })
    const first = await connectRecording(a1.mqttUrl, options(acmeA))
    await first.client.subscribeAsync('tenants/acme/#', { qos: 1 })
    await first.client.endAsync()

    const onB = await connectRecording(b1.mqttUrl, options(acmeB))
    expect(onB.sessionPresent).toBe(false)
    // B's client of that id (no subscriptions of its own) must leave A's session alone
    await onB.client.endAsync()
    const queued = reading()
    const deviceA = await connect(a1.mqttUrl, deviceOptions('acme', acmeA.devices[1]!))
    await deviceA.publishAsync(topicOf(acmeA, 'telemetry', 1), queued, { qos: 1 })
    await deviceA.endAsync()

    const resumed = track(await connectRecording(a2.mqttUrl, options(acmeA)))
    expect(resumed.sessionPresent).toBe(true)
    await eventually(() => resumed.received.some((m) => m.payload === queued), 5000, 'the queued reading on A\'s other node')
  })

  it('a refused payload is not relayed to an integration on A\'s other node; a valid one is', async () => {
    const onA2 = track(await connectRecording(a2.mqttUrl, integration(acmeA, 'relay')))
    await onA2.client.subscribeAsync('tenants/acme/devices/#', { qos: 1 })
    const device = await connect(a1.mqttUrl, deviceOptions('acme', acmeA.devices[1]!))
    open.push(device)
    // every one acknowledged (publishAsync resolves on the PUBACK) and the connection kept
    await device.publishAsync(topicOf(acmeA, 'telemetry', 1), 'not json', { qos: 1 })
    await device.publishAsync(topicOf(acmeA, 'status', 1), 'ONLINE', { qos: 1 })
    const good = reading()
    await device.publishAsync(topicOf(acmeA, 'telemetry', 1), good, { qos: 1 })
    expect(device.connected).toBe(true)
    // one publisher, one relaying connection: what was relayed before the good reading is in by now
    await eventually(() => onA2.received.some((m) => m.payload === good), 5000, 'the valid reading on A\'s other node')
    expect(onA2.received).toEqual([{ topic: topicOf(acmeA, 'telemetry', 1), payload: good }])
  })

  it('writes no key and listens on no channel outside its deployment\'s prefix', async () => {
    // what would name this test's clients or brokers if the broker wrote outside its prefix
    const brokers = [a1, a2, b1].map((n) => n.server.broker!.aedes.id)
    const clientIds = [...acmeA.devices, ...acmeB.devices].map((d) => d.id)
      .concat(['twin', 'archive', 'erp', 'relay'].map(clientIdOf))
    const tokens = [...brokers, ...clientIds, ...clientIds.map(encodeURIComponent)]
    const outside = (await keysOf('*')).filter((k) => !k.startsWith(prefixA) && !k.startsWith(prefixB))
    expect(outside.filter((k) => tokens.some((tok) => k.includes(tok)))).toEqual([])
    // aedes-persistence-redis' unprefixed sets and lists, should another run have left them
    for (const key of outside.filter((k) => ['clients', 'will', 'retained'].includes(k))) {
      const type = await redis.type(key)
      const members = type === 'set' ? await redis.smembers(key) : type === 'list' ? await redis.lrange(key, 0, -1) : type === 'hash' ? await redis.hkeys(key) : []
      expect(members.filter((m) => tokens.some((tok) => m.includes(tok)))).toEqual([])
    }
    // …and inside: the persistence's session keys of each deployment under its own prefix
    expect(await redis.sismember(`${brokerKeyPrefix(prefixA)}clients`, clientIdOf('archive'))).toBe(1)
    expect(await redis.sismember(`${brokerKeyPrefix(prefixB)}clients`, clientIdOf('archive'))).toBe(0)
    expect(await keysOf(`${brokerKeyPrefix(prefixA)}client:*`)).toContain(`${brokerKeyPrefix(prefixA)}client:${encodeURIComponent(clientIdOf('archive'))}`)

    // channels: a device subscribed to its commands makes the broker SUBSCRIBE to that topic's channel
    const device = await connect(b1.mqttUrl, deviceOptions('acme', acmeB.devices[0]!, { clientId: acmeB.devices[0]!.id }))
    open.push(device)
    await device.subscribeAsync(topicOf(acmeB, 'commands'), { qos: 1 })
    const channels = await redis.pubsub('CHANNELS', `*${acmeB.devices[0]!.id}*`) as string[]
    expect(channels).toEqual([`${brokerChannelPrefix(prefixB)}${topicOf(acmeB, 'commands')}`])
  })
})

describe.runIf(services().redis)('the broker\'s namespaced emitter on Redis', () => {
  type Listener = Parameters<NamespacedEmitter['on']>[1]
  const emitters: NamespacedEmitter[] = []
  const emitter = (prefix: string) => {
    const e = new NamespacedEmitter(mqemitterRedis({ subConn: new Redis(services().redisUrl), pubConn: new Redis(services().redisUrl) }), brokerChannelPrefix(prefix))
    emitters.push(e)
    return e
  }
  const on = (e: NamespacedEmitter, topic: string, listener: Listener) => new Promise<void>((resolve) => e.on(topic, listener, resolve))
  const off = (e: NamespacedEmitter, topic: string, listener: Listener) => new Promise<void>((resolve) => { e.removeListener(topic, listener, resolve) })
  const emit = (e: NamespacedEmitter, topic: string) => new Promise<void>((resolve, reject) => e.emit({ topic, payload: Buffer.from(topic) }, (err) => err ? reject(err) : resolve()))
  afterAll(async () => { await Promise.all(emitters.map((e) => new Promise<void>((resolve) => e.close(resolve)))) })

  it('delivers within its namespace only, topics as published, whatever characters the prefix holds', async () => {
    // MQTT wildcards, `/` and Redis pattern characters: unencoded, `[ab]` would match `a` or `b` only
    const run = randomBytes(4).toString('hex')
    const prefix = `retrack-test:ns-${run}/x#+*?[ab]\\:`
    const neighbour = `retrack-test:ns-${run}/x#+*?[ac]\\:`
    const [here, hereToo, there] = [emitter(prefix), emitter(prefix), emitter(neighbour)]
    const got: string[] = []
    const listener: Listener = (message, done) => { got.push(message.topic); done() }
    const gotThere: string[] = []
    // one listener on two topics, as Aedes could
    await on(here, 'tenants/acme/#', listener)
    await on(here, 'tenants/beta/+/x', listener)
    await on(there, 'tenants/#', (message, done) => { gotThere.push(message.topic); done() })

    await emit(there, 'tenants/acme/devices/elsewhere/telemetry')
    await emit(hereToo, 'tenants/acme/devices/d1/telemetry')
    await emit(hereToo, 'tenants/beta/d2/x')
    await eventually(() => got.length === 2, 5000, 'both messages in the namespace')
    expect(got.sort()).toEqual(['tenants/acme/devices/d1/telemetry', 'tenants/beta/d2/x'])
    await eventually(() => gotThere.length === 1, 5000, 'the neighbour\'s own message')
    expect(gotThere).toEqual(['tenants/acme/devices/elsewhere/telemetry'])

    // removed from one topic, the listener still hears the other
    await off(here, 'tenants/acme/#', listener)
    got.length = 0
    await emit(hereToo, 'tenants/acme/devices/d1/telemetry')
    await emit(hereToo, 'tenants/beta/d3/x')
    await eventually(() => got.includes('tenants/beta/d3/x'), 5000, 'the other topic still heard')
    await settle()
    expect(got).toEqual(['tenants/beta/d3/x'])
  })
})
