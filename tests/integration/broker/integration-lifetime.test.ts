// An MQTT integration (a user's access token as password) lives no longer than its token does for
// the REST API: a password change, the sessions ended on a refresh token's reuse, and the token's
// expiry each close the live connection (src/broker/broker.ts disconnectRevokedUser,
// src/broker/integration-connections.ts), on whichever node holds it. Another user's integration
// and a device are left alone.
import { randomBytes } from 'node:crypto'
import type { ErrorWithReasonCode, MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { PASSWORD, TEST_JWT_SECRET } from '../../helpers/app.js'
import { createPostgresDatabase } from '../../helpers/databases.js'
import { connect, deviceOptions, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import { TokenService, type UserClaims } from '../../../src/security/tokens.js'

const refusal = async (p: Promise<MqttClient>) => {
  try { (await p).end(true) } catch (err) { return (err as ErrorWithReasonCode).code }
  return 0
}
/** when the client's connection closed (epoch ms) */
const closed = (client: MqttClient) => new Promise<number>((resolve) => client.once('close', () => resolve(Date.now())))
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))])
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as UserClaims & { exp: number, iat: number }

interface Session { accessToken: string, refreshToken: string }
const login = (node: TestNode, email: string, password = PASSWORD) => nodeApi(node)<Session>('POST', '/api/v1/auth/login', null, { email, password })

/** subscribed to the whole tenant, as the reviewed integration was */
async function watcher(node: TestNode, clientId: string, token: string): Promise<MqttClient> {
  const client = await connect(node.mqttUrl, { clientId, username: 'acme', password: token })
  await client.subscribeAsync('tenants/acme/#', { qos: 1 })
  return client
}

describe('an MQTT integration lives no longer than its token', () => {
  let node: TestNode
  let acme: Provisioned
  let operatorId: string
  const api = () => nodeApi(node)

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 1)
    operatorId = (await api()<{ items: Array<{ id: string }> }>('GET', '/api/v1/users?role=operator', acme.adminToken)).items[0]!.id
  })
  afterAll(async () => { await node?.close() })

  it('a password change closes the user\'s integrations at once, not another user\'s nor a device', async () => {
    const { accessToken } = await login(node, 'operator@acme.test')
    const live = await watcher(node, 'acme:pw', accessToken)
    const liveClosed = closed(live)
    const bystander = await watcher(node, 'acme:admin', acme.adminToken)
    const device = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[0]!))

    await api()('PATCH', `/api/v1/users/${operatorId}`, acme.adminToken, { password: `${PASSWORD} 2` })
    expect(await within(liveClosed, 3000)).not.toBe('timeout')
    // the same verdict as the REST API's
    const me = await node.server.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${accessToken}` } })
    expect(me.statusCode).toBe(401)
    expect(await refusal(connect(node.mqttUrl, { clientId: 'acme:pw', username: 'acme', password: accessToken }))).toBe(4)
    expect(bystander.connected).toBe(true)
    expect(device.connected).toBe(true)

    const fresh = await login(node, 'operator@acme.test', `${PASSWORD} 2`)
    expect(await refusal(connect(node.mqttUrl, { clientId: 'acme:pw', username: 'acme', password: fresh.accessToken }))).toBe(0)
    bystander.end(true)
    device.end(true)
  })

  it('a refresh token presented twice ends every session of its user: the integration closes', async () => {
    const session = await login(node, 'admin@acme.test')
    const live = await watcher(node, 'acme:reuse', session.accessToken)
    const liveClosed = closed(live)
    await api()('POST', '/api/v1/auth/refresh', null, { refreshToken: session.refreshToken })
    expect(live.connected).toBe(true) // a rotation alone ends nothing
    const reuse = await node.server.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: session.refreshToken } })
    expect(reuse.statusCode).toBe(401)
    expect(await within(liveClosed, 3000)).not.toBe('timeout')
    expect(await refusal(connect(node.mqttUrl, { clientId: 'acme:reuse', username: 'acme', password: session.accessToken }))).toBe(4)
    acme.adminToken = (await login(node, 'admin@acme.test')).accessToken
  })

  it('the connection is closed when its token expires; one with a longer-lived token stays', async () => {
    const current = (await login(node, 'operator@acme.test', `${PASSWORD} 2`)).accessToken
    const { exp: _exp, iat: _iat, typ: _typ, ...claims } = claimsOf(current)
    // signed with the node's secret like any access token, for 2 s (ACCESS_TOKEN_TTL_S is at least 30)
    const short = new TokenService(TEST_JWT_SECRET, 2, 60).accessToken(claims)
    const expiresAt = claimsOf(short).exp * 1000
    const live = await watcher(node, 'acme:short', short)
    const lasting = await watcher(node, 'acme:lasting', current)
    const closedAt = await within(closed(live), 6000)
    expect(closedAt).not.toBe('timeout')
    expect(closedAt as number).toBeGreaterThanOrEqual(expiresAt - 50) // closed by the expiry, not before it
    expect(lasting.connected).toBe(true)
    // reconnecting with a fresh token is all the integration has to do
    expect(await refusal(connect(node.mqttUrl, { clientId: 'acme:short', username: 'acme', password: current }))).toBe(0)
    lasting.end(true)
  })
})

describe('across nodes', () => {
  let a: TestNode
  let b: TestNode
  let drop: () => Promise<void>
  let acme: Provisioned

  beforeAll(async () => {
    const database = await createPostgresDatabase()
    drop = database.drop
    const shared = { REDIS_URL: inject('services').redisUrl, REDIS_KEY_PREFIX: `retrack-test:${randomBytes(4).toString('hex')}:` }
    a = await startNode(shared, { databaseUrl: database.url })
    b = await startNode(shared, { databaseUrl: database.url })
    acme = await provision(a, 'acme', 0)
  })
  afterAll(async () => { await a?.close(); await b?.close(); await drop?.() })

  it('a password change through one node closes the integration connected to the other', async () => {
    const live = await watcher(b, 'acme:far', acme.operatorToken)
    const liveClosed = closed(live)
    const bystander = await watcher(b, 'acme:admin', acme.adminToken)
    const users = await nodeApi(a)<{ items: Array<{ id: string }> }>('GET', '/api/v1/users?role=operator', acme.adminToken)
    await nodeApi(a)('PATCH', `/api/v1/users/${users.items[0]!.id}`, acme.adminToken, { password: `${PASSWORD} 2` })
    expect(await within(liveClosed, 3000)).not.toBe('timeout')
    expect(bystander.connected).toBe(true)
    bystander.end(true)
  })
})
