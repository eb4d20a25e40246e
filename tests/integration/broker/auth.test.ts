// The authentication matrix over real sockets, with mqtt.js and with the real mosquitto_pub.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { ErrorWithReasonCode } from 'mqtt'
import { connect, deviceOptions, eventually, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import { mosquittoPub } from '../../helpers/mosquitto-clients.js'

const refusal = async (p: Promise<unknown>) => {
  try { await p } catch (err) { return (err as ErrorWithReasonCode).code }
  return 0
}

describe('MQTT authentication', () => {
  let node: TestNode
  let acme: Provisioned
  let beta: Provisioned
  let port: number

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    port = node.server.mqttPort!
    acme = await provision(node, 'acme', 6)
    beta = await provision(node, 'beta', 1)
    const api = nodeApi(node)
    await api('POST', `/api/v1/devices/${acme.devices[1]!.id}/disable`, acme.adminToken)
  })
  afterAll(async () => { await node?.close() })

  const [ok, disabled] = [0, 1]

  it.each([
    ['right credentials', () => deviceOptions('acme', acme.devices[ok]!), 0],
    ['wrong secret', () => ({ ...deviceOptions('acme', acme.devices[ok]!), password: 'not-the-secret' }), 4],
    ['wrong tenant (other tenant\'s slug)', () => ({ ...deviceOptions('acme', acme.devices[ok]!), username: 'beta' }), 4],
    ['unknown tenant', () => ({ ...deviceOptions('acme', acme.devices[ok]!), username: 'nobody' }), 4],
    ['unknown device', () => ({ ...deviceOptions('acme', acme.devices[ok]!), clientId: 'dev_doesnotexist00000' }), 4],
    ['another tenant\'s device with its own secret but our slug', () => deviceOptions('acme', beta.devices[0]!), 4],
    ['disabled device', () => deviceOptions('acme', acme.devices[disabled]!), 5],
    ['no password', () => ({ clientId: acme.devices[ok]!.id, username: 'acme' }), 4],
    ['client id with +', () => ({ ...deviceOptions('acme', acme.devices[ok]!), clientId: 'dev+x' }), 2],
    ['client id with #', () => ({ ...deviceOptions('acme', acme.devices[ok]!), clientId: 'dev#x' }), 2],
    ['client id with /', () => ({ ...deviceOptions('acme', acme.devices[ok]!), clientId: 'dev/x' }), 2],
  ])('mqtt.js: %s → CONNACK %i', async (_name, options, code) => {
    const result = await refusal(connect(node.mqttUrl, options()).then((c) => c.endAsync()))
    expect(result).toBe(code)
  })

  it('accepts a device JWT from the API as password, and refuses it after a rotation', async () => {
    const api = nodeApi(node)
    const device = acme.devices[2]!
    const { token } = await api<{ token: string }>('POST', '/api/v1/auth/device-token', null, { tenant: 'acme', deviceId: device.id, secret: device.secret })
    const client = await connect(node.mqttUrl, { clientId: device.id, username: 'acme', password: token })
    await client.endAsync()
    await api('POST', `/api/v1/devices/${device.id}/rotate-secret`, acme.adminToken)
    expect(await refusal(connect(node.mqttUrl, { clientId: device.id, username: 'acme', password: token }))).toBe(4)
  })

  it('a rotation refuses the old secret from then on, accepts the new one, and closes the live connection', async () => {
    const api = nodeApi(node)
    const device = acme.devices[3]!
    const live = await connect(node.mqttUrl, deviceOptions('acme', device))
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()))
    const rotated = await api<{ secret: string }>('POST', `/api/v1/devices/${device.id}/rotate-secret`, acme.adminToken)
    await closed
    expect(await refusal(connect(node.mqttUrl, deviceOptions('acme', device)))).toBe(4)
    const fresh = await connect(node.mqttUrl, deviceOptions('acme', { id: device.id, secret: rotated.secret }))
    await fresh.endAsync()
  })

  it('disabling closes the live connection and refuses the next one with code 5; enabling lets it back', async () => {
    const api = nodeApi(node)
    const device = acme.devices[4]!
    const live = await connect(node.mqttUrl, deviceOptions('acme', device))
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()))
    await api('POST', `/api/v1/devices/${device.id}/disable`, acme.adminToken)
    await closed
    expect(await refusal(connect(node.mqttUrl, deviceOptions('acme', device)))).toBe(5)
    await api('POST', `/api/v1/devices/${device.id}/enable`, acme.adminToken)
    await (await connect(node.mqttUrl, deviceOptions('acme', device))).endAsync()
  })

  it('counts refusals by reason and never logs or exposes the secret', async () => {
    const metrics = await node.server.metrics.registry.getSingleMetricAsString('retrack_mqtt_auth_failures_total')
    expect(metrics).toMatch(/reason="wrong_secret"} [1-9]/)
    expect(metrics).toMatch(/reason="disabled"} [1-9]/)
    expect(metrics).toMatch(/reason="invalid_client_id"} [1-9]/)
    expect(metrics).not.toContain(acme.devices[0]!.secret)
  })

  describe.runIf(inject('services').mosquittoClients)('with the real mosquitto_pub', () => {
    const message = () => JSON.stringify({ ts: Date.now(), lat: 52.1, lon: 4.3 })
    it.each([
      ['right credentials', () => ({ id: acme.devices[ok]!.id, user: 'acme', pass: acme.devices[ok]!.secret }), true, ''],
      ['wrong secret', () => ({ id: acme.devices[ok]!.id, user: 'acme', pass: 'nope' }), false, 'bad user name or password'],
      ['wrong tenant', () => ({ id: acme.devices[ok]!.id, user: 'beta', pass: acme.devices[ok]!.secret }), false, 'bad user name or password'],
      ['unknown device', () => ({ id: 'dev_unknown0000000000', user: 'acme', pass: 'x' }), false, 'bad user name or password'],
      ['disabled device', () => ({ id: acme.devices[disabled]!.id, user: 'acme', pass: acme.devices[disabled]!.secret }), false, 'not authorised'],
      ['wildcard in id', () => ({ id: 'a+b', user: 'acme', pass: 'x' }), false, 'identifier rejected'],
    ])('%s', async (_name, creds, succeeds, error) => {
      const c = creds()
      // the topic must be valid for mosquitto_pub itself, whatever the client id
      const run = await mosquittoPub(port, { ...c, topic: `tenants/${c.user}/devices/${c.id.replace(/[+#]/g, '_')}/telemetry`, message: message() })
      if (succeeds) {
        expect(run).toMatchObject({ code: 0 })
        await eventually(async () => (await node.server.db.pool.query('select count(*)::int n from positions where device_id = $1', [c.id])).rows[0].n > 0, 5000, 'stored reading')
      } else {
        expect(run.code).not.toBe(0)
        expect(run.stderr.toLowerCase()).toContain(error)
      }
    })
  })
})
