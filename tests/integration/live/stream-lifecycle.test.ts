// The live stream over real sockets: how long it lives (its access token's lifetime, its user's
// standing) and the replay → live boundary when a publication is still on its way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import { PASSWORD, TEST_JWT_SECRET } from '../../helpers/app.js'
import { TokenService, type UserClaims } from '../../../src/security/tokens.js'
import { SseClient } from './sse-client.js'
import { bearer, produce, ruleEvent, store } from './helpers.js'

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as UserClaims

describe('live stream lifetime and resume boundary', () => {
  let node: TestNode
  let acme: Provisioned
  const open: SseClient[] = []
  const stream = async (query: string, headers: Record<string, string>) => {
    const client = await SseClient.connect(`${node.http}/api/v1/stream${query}`, headers)
    open.push(client)
    expect(client.status).toBe(200)
    return client
  }

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 1)
  })
  afterAll(async () => {
    for (const c of open) c.close()
    await node?.close()
  })

  it('ends when the access token it was opened with expires', async () => {
    const { sub, tid, ten, role } = claimsOf(acme.operatorToken)
    const shortLived = new TokenService(TEST_JWT_SECRET, 2, 60).accessToken({ sub, tid, ten, role })
    const c = await stream('', bearer(shortLived))
    const longLived = await stream('', bearer(acme.operatorToken))
    await c.until((x) => x.ended, 10_000, 'the stream to end at the token\'s expiry')
    // nothing after it: an event stored now does not reach the ended stream, and the other goes on
    const [e] = await produce(node, [ruleEvent(acme.tenant.id, 'late')])
    await longLived.until((x) => x.events.length === 1)
    expect(longLived.events[0]!.id).toBe(e!.id)
    expect(longLived.ended).toBe(false)
    expect(c.events).toEqual([])
  }, 20_000)

  it('ends when its user is disabled', async () => {
    const api = nodeApi(node)
    const email = 'watcher@acme.test'
    const user = await api<{ id: string }>('POST', '/api/v1/users', acme.adminToken, { email, password: PASSWORD, role: 'viewer' })
    const { accessToken } = await api<{ accessToken: string }>('POST', '/api/v1/auth/login', null, { email, password: PASSWORD })
    const c = await stream('', bearer(accessToken))
    await api('PATCH', `/api/v1/users/${user.id}`, acme.adminToken, { disabled: true })
    await c.until((x) => x.ended, 10_000, 'the stream of the disabled user to end')
  }, 20_000)

  it('does not send an event twice when its publication arrives after the replay sent it', async () => {
    const t = acme.tenant.id
    const [before] = await store(node, [ruleEvent(t, 'arrived')])
    // stored (the replay query sees it) but its live publication is still on its way (another node, Redis)
    const inFlight = await store(node, [ruleEvent(t, 'departed'), ruleEvent(t, 'late')])
    const c = await stream('', { ...bearer(acme.operatorToken), 'last-event-id': String(before!.id) })
    await c.until((x) => x.events.length === 2)
    node.server.live.publishEvents(inFlight)
    const [next] = await produce(node, [ruleEvent(t, 'eta_updated')])
    await c.until((x) => x.events.some((e) => e.id === next!.id))
    expect(c.events.map((e) => e.id)).toEqual([...inFlight.map((e) => e.id), next!.id])
  })

  it('does not send again the event the client resumed from when its publication arrives late', async () => {
    const t = acme.tenant.id
    // the client saw this one on node A; node B hears it from Redis only after the client moved over
    const [seen] = await store(node, [ruleEvent(t, 'arrived')])
    const c = await stream('', { ...bearer(acme.operatorToken), 'last-event-id': String(seen!.id) })
    node.server.live.publishEvents([seen!])
    const [next] = await produce(node, [ruleEvent(t, 'eta_updated')])
    await c.until((x) => x.events.some((e) => e.id === next!.id))
    expect(c.events.map((e) => e.id)).toEqual([next!.id])
  })
})
