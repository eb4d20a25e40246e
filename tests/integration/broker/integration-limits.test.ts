// A tenant's integrations may pick any client id `<tenant>:<name>`, so what they hold is capped per
// tenant: persistent sessions (MQTT_SESSIONS_PER_TENANT_MAX, one count for all nodes: a CONNECT
// that would create one more is refused with 5, reconnecting to an existing one is not; sessions
// ended by a clean=true connection or expired free their place) and live connections on a node
// (MQTT_INTEGRATIONS_PER_TENANT_MAX). Devices and other tenants are not affected.
import { randomBytes } from 'node:crypto'
import mqtt, { type ErrorWithReasonCode, type IClientOptions, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createPostgresDatabase } from '../../helpers/databases.js'
import { deviceOptions, eventually, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

type Outcome = { code: 0, client: MqttClient, sessionPresent: boolean } | { code: number }

/** Connects once: the client and its CONNACK's sessionPresent, or the refusal's return code. */
function attempt(url: string, options: IClientOptions): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...options })
    client.once('connect', (connack) => resolve({ code: 0, client, sessionPresent: connack.sessionPresent }))
    client.once('error', (err) => { client.end(true); resolve({ code: (err as ErrorWithReasonCode).code ?? -1 }) })
    client.once('close', () => reject(new Error('connection closed before CONNACK')))
  })
}
/** the return code only; an accepted client is disconnected (its session, if any, stays) */
const codeOf = async (p: Promise<Outcome>) => {
  const outcome = await p
  if ('client' in outcome) await outcome.client.endAsync()
  return outcome.code
}
const accepted = async (p: Promise<Outcome>) => {
  const outcome = await p
  if (!('client' in outcome)) throw new Error(`refused with ${outcome.code}`)
  return outcome
}

const integration = (tenant: Provisioned, name: string, clean: boolean): IClientOptions =>
  ({ clientId: `${tenant.tenant.slug}:${name}`, username: tenant.tenant.slug, password: tenant.operatorToken, clean })

describe('persistent integration sessions per tenant, one node', () => {
  let node: TestNode
  let acme: Provisioned
  let beta: Provisioned
  const open: MqttClient[] = []
  const to = (options: IClientOptions) => attempt(node.mqttUrl, options)

  beforeAll(async () => {
    // expiry 2 s: a session is removed within ~2.5 s of its client leaving (sweep every 500 ms)
    node = await startNode({ MQTT_SESSIONS_PER_TENANT_MAX: 2, MQTT_SESSION_EXPIRY_S: 2 }, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 1)
    beta = await provision(node, 'beta', 0)
  })
  afterAll(async () => { for (const c of open) c.end(true); await node?.close() })

  it('refuses a new session beyond the cap, lets existing ones reconnect, and leaves clean sessions, devices and other tenants alone', async () => {
    const s1 = await accepted(to(integration(acme, 's1', false)))
    await s1.client.subscribeAsync('tenants/acme/#', { qos: 1 })
    open.push((await accepted(to(integration(acme, 's2', false)))).client)

    expect(await codeOf(to(integration(acme, 's3', false)))).toBe(5)
    expect(await codeOf(to(integration(acme, 'clean', true)))).toBe(0)
    expect(await codeOf(to(integration(beta, 's1', false)))).toBe(0)
    expect(await codeOf(to(deviceOptions('acme', acme.devices[0]!, { clean: false })))).toBe(0)

    // reconnecting to an existing session: accepted, the session there
    await s1.client.endAsync()
    const again = await accepted(to(integration(acme, 's1', false)))
    expect(again.sessionPresent).toBe(true)
    open.push(again.client)
    expect(await codeOf(to(integration(acme, 's3', false)))).toBe(5)
  })

  it('a session ended by a clean connection, or expired, frees its place', async () => {
    // s2 (still connected) is taken over by a clean connection: its session ends
    expect(await codeOf(to(integration(acme, 's2', true)))).toBe(0)
    const s3 = await accepted(to(integration(acme, 's3', false)))
    expect(s3.sessionPresent).toBe(false)
    expect(await codeOf(to(integration(acme, 's4', false)))).toBe(5)
    // s3 leaves and is not back within MQTT_SESSION_EXPIRY_S: its session expires, its place with it
    await s3.client.endAsync()
    const s4 = await eventually(async () => {
      const outcome = await to(integration(acme, 's4', false))
      return 'client' in outcome ? outcome : undefined
    }, 8000, 's3\'s session to expire and free its place')
    open.push(s4.client)
  })
})

describe('live integration connections per tenant, one node', () => {
  let node: TestNode
  let acme: Provisioned
  const to = (options: IClientOptions) => attempt(node.mqttUrl, options)

  beforeAll(async () => {
    node = await startNode({ MQTT_INTEGRATIONS_PER_TENANT_MAX: 2 }, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 0)
  })
  afterAll(async () => { await node?.close() })

  it('refuses a connection beyond the cap, not a reconnect of a client id already connected, and counts a closed one off', async () => {
    const first = await accepted(to(integration(acme, 'a', true)))
    const second = await accepted(to(integration(acme, 'b', true)))
    expect(await codeOf(to(integration(acme, 'c', true)))).toBe(5)
    expect(await codeOf(to(integration(acme, 'c', false)))).toBe(5)
    // `a` again (its old socket half-open, say): it replaces the old connection rather than adding one
    const firstClosed = new Promise<void>((resolve) => first.client.once('close', () => resolve()))
    const replaced = await accepted(to(integration(acme, 'a', true)))
    await firstClosed
    await second.client.endAsync()
    const third = await eventually(async () => {
      const outcome = await to(integration(acme, 'c', true))
      return 'client' in outcome ? outcome : undefined
    }, 3000, 'b\'s place to be free')
    replaced.client.end(true)
    third.client.end(true)
  })
})

describe('persistent integration sessions per tenant, across nodes', () => {
  let a: TestNode
  let b: TestNode
  let drop: () => Promise<void>
  let acme: Provisioned
  let beta: Provisioned
  const open: MqttClient[] = []

  beforeAll(async () => {
    const database = await createPostgresDatabase()
    drop = database.drop
    const shared = {
      REDIS_URL: inject('services').redisUrl, REDIS_KEY_PREFIX: `retrack-test:${randomBytes(4).toString('hex')}:`, MQTT_SESSIONS_PER_TENANT_MAX: 2,
    }
    a = await startNode(shared, { databaseUrl: database.url })
    b = await startNode(shared, { databaseUrl: database.url })
    acme = await provision(a, 'acme', 0)
    beta = await provision(a, 'beta', 0)
  })
  afterAll(async () => { for (const c of open) c.end(true); await a?.close(); await b?.close(); await drop?.() })

  it('counts the sessions of every node against one cap', async () => {
    const s1 = await accepted(attempt(a.mqttUrl, integration(acme, 's1', false)))
    await s1.client.subscribeAsync('tenants/acme/#', { qos: 1 })
    open.push((await accepted(attempt(b.mqttUrl, integration(acme, 's2', false)))).client)
    expect(await codeOf(attempt(a.mqttUrl, integration(acme, 's3', false)))).toBe(5)
    expect(await codeOf(attempt(b.mqttUrl, integration(acme, 's3', false)))).toBe(5)
    expect(await codeOf(attempt(b.mqttUrl, integration(acme, 'clean', true)))).toBe(0)

    // s1 moves to the other node: its session, not a new one
    await s1.client.endAsync()
    const moved = await accepted(attempt(b.mqttUrl, integration(acme, 's1', false)))
    expect(moved.sessionPresent).toBe(true)
    open.push(moved.client)

    // a clean connection on one node ends s2's session held on the other: s3 fits
    expect(await codeOf(attempt(a.mqttUrl, integration(acme, 's2', true)))).toBe(0)
    open.push((await accepted(attempt(b.mqttUrl, integration(acme, 's3', false)))).client)
    expect(await codeOf(attempt(a.mqttUrl, integration(acme, 's4', false)))).toBe(5)
  })

  it('CONNECTs racing on both nodes never take more places than the cap', async () => {
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => attempt((i % 2 ? a : b).mqttUrl, integration(beta, `race${i}`, false))))
    for (const o of outcomes) if ('client' in o) open.push(o.client)
    expect(outcomes.filter((o) => o.code === 0)).toHaveLength(2)
    expect(outcomes.filter((o) => o.code === 5)).toHaveLength(6)
  })
})
