// An MQTT integration connects with a user's access token. Disabling that user, or changing their
// role, closes the live connection at once and refuses the same token on the next CONNECT (4: bad
// user name or password), instead of leaving both working until the token expires. Re-enabling the
// user does not revive that token: the integration signs in again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ErrorWithReasonCode, MqttClient } from 'mqtt'
import { PASSWORD } from '../../helpers/app.js'
import { connect, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

const refusal = async (p: Promise<MqttClient>) => {
  try { (await p).end(true) } catch (err) { return (err as ErrorWithReasonCode).code }
  return 0
}
const closed = (client: MqttClient) => new Promise<true>((resolve) => client.once('close', () => resolve(true)))
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))])

describe('MQTT integrations of a changed user', () => {
  let node: TestNode
  let acme: Provisioned
  let operatorId: string
  const api = () => nodeApi(node)
  const integration = (clientId: string) => connect(node.mqttUrl, { clientId, username: 'acme', password: acme.operatorToken })

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 1)
    const users = await api()<{ items: Array<{ id: string }> }>('GET', '/api/v1/users?role=operator', acme.adminToken)
    operatorId = users.items[0]!.id
  })
  afterAll(async () => { await node?.close() })

  it('disabling the user closes the live integration and refuses the token, also after a re-enable; a new sign-in gets back', async () => {
    const live = await integration('acme:revoke1')
    const bystander = await connect(node.mqttUrl, { clientId: 'acme:admin', username: 'acme', password: acme.adminToken })
    const liveClosed = closed(live)
    await api()('PATCH', `/api/v1/users/${operatorId}`, acme.adminToken, { disabled: true })
    expect(await within(liveClosed, 3000)).toBe(true)
    expect(await refusal(integration('acme:revoke2'))).toBe(4)
    expect(bystander.connected).toBe(true)
    await api()('PATCH', `/api/v1/users/${operatorId}`, acme.adminToken, { disabled: false })
    expect(await refusal(integration('acme:revoke3'))).toBe(4)
    acme.operatorToken = (await api()<{ accessToken: string }>('POST', '/api/v1/auth/login', null, { email: 'operator@acme.test', password: PASSWORD })).accessToken
    expect(await refusal(integration('acme:revoke4'))).toBe(0)
    bystander.end(true)
  })

  it('a role change closes the integration opened with the old role and refuses its token', async () => {
    const live = await integration('acme:role1')
    const liveClosed = closed(live)
    await api()('PATCH', `/api/v1/users/${operatorId}`, acme.adminToken, { role: 'viewer' })
    expect(await within(liveClosed, 3000)).toBe(true)
    expect(await refusal(integration('acme:role2'))).toBe(4)
  })
})
