// The topic ACL matrix: a device publishes only on its own topics and subscribes only to its own
// command topic; another device, another tenant, $SYS and wildcards are out of reach.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ErrorWithSubackPacket, type MqttClient } from 'mqtt'
import { connect, deviceOptions, eventually, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import { runClient } from '../../helpers/mosquitto-clients.js'

/** The QoS the broker granted (128 = refused; mqtt.js turns a 128 into an error carrying the SUBACK). */
async function grantedQos(client: MqttClient, topic: string, qos: 0 | 1 | 2): Promise<number | undefined> {
  try {
    const [grant] = await client.subscribeAsync(topic, { qos })
    return grant?.qos
  } catch (err) {
    if (err instanceof ErrorWithSubackPacket) return err.packet.granted[0] as number
    throw err
  }
}

describe('MQTT topic ACL', () => {
  let node: TestNode
  let acme: Provisioned
  let beta: Provisioned

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 2)
    beta = await provision(node, 'beta', 1)
  })
  afterAll(async () => { await node?.close() })

  const own = (channel: string) => `tenants/acme/devices/${acme.devices[0]!.id}/${channel}`
  const reading = () => JSON.stringify({ ts: Date.now(), lat: 48.85, lon: 2.35 })

  /** Publishes QoS 1; 'acked' when the PUBACK came back, 'closed' when the broker dropped the connection. */
  async function publish(topic: string, payload = reading()): Promise<'acked' | 'closed'> {
    const client = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[0]!))
    const closed = new Promise<'closed'>((resolve) => client.once('close', () => resolve('closed')))
    const acked = client.publishAsync(topic, payload, { qos: 1 }).then(() => 'acked' as const, () => 'closed' as const)
    const result = await Promise.race([acked, closed])
    client.end(true)
    return result
  }

  it.each([
    ['own telemetry', () => own('telemetry'), 'acked'],
    ['own events', () => own('events'), 'acked'],
    ['own status', () => own('status'), 'acked'],
    ['own commands (server to device only)', () => own('commands'), 'closed'],
    ['another device of the same tenant', () => `tenants/acme/devices/${acme.devices[1]!.id}/telemetry`, 'closed'],
    ['another tenant\'s device', () => `tenants/beta/devices/${beta.devices[0]!.id}/telemetry`, 'closed'],
    ['own device id under another tenant', () => `tenants/beta/devices/${acme.devices[0]!.id}/telemetry`, 'closed'],
    ['$SYS', () => '$SYS/broker/fake', 'closed'],
    ['a topic outside the tree', () => 'hello/world', 'closed'],
    ['an extra level', () => `${own('telemetry')}/extra`, 'closed'],
  ])('publish to %s → %s', async (_name, topic, expected) => {
    const payload = topic().endsWith('/events') ? JSON.stringify({ ts: Date.now(), type: 'door_open' }) : topic().endsWith('/status') ? 'online' : reading()
    expect(await publish(topic(), payload)).toBe(expected)
  })

  it('refused publishes are counted and nothing of them is stored', async () => {
    const metric = await node.server.metrics.registry.getSingleMetricAsString('retrack_mqtt_acl_denials_total')
    expect(metric).toMatch(/action="publish"} ([6-9]|\d\d)/)
    const other = await node.server.db.pool.query('select count(*)::int n from positions where device_id <> $1', [acme.devices[0]!.id])
    expect(other.rows[0].n).toBe(0)
  })

  describe('subscriptions', () => {
    let client: MqttClient
    beforeAll(async () => { client = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[0]!)) })
    afterAll(async () => { await client?.endAsync() })

    it.each([
      ['own commands', () => own('commands'), 1],
      ['own commands at QoS 2', () => own('commands'), 2],
      ['own telemetry', () => own('telemetry'), 128],
      ['another device\'s commands', () => `tenants/acme/devices/${acme.devices[1]!.id}/commands`, 128],
      ['all commands of the tenant (+)', () => 'tenants/acme/devices/+/commands', 128],
      ['everything (#)', () => '#', 128],
      ['$SYS', () => '$SYS/#', 128],
      ['another tenant', () => 'tenants/beta/#', 128],
    ])('subscribe to %s → granted %i', async (name, topic, granted) => {
      const qos = name.includes('QoS 2') ? 2 : 1
      expect(await grantedQos(client, topic(), qos)).toBe(granted)
    })

    it('still connected after refused subscriptions, and receives a command sent through the API', async () => {
      expect(client.connected).toBe(true)
      const received = new Promise<string>((resolve) => client.once('message', (_t, payload) => resolve(payload.toString())))
      await nodeApi(node)('POST', `/api/v1/devices/${acme.devices[0]!.id}/commands`, acme.operatorToken, { type: 'set_interval', data: { seconds: 30 } })
      expect(JSON.parse(await received)).toMatchObject({ type: 'set_interval', data: { seconds: 30 }, id: expect.any(String) })
    })
  })

  it('an operator integration may watch its tenant\'s telemetry but not another tenant\'s, and a viewer may not connect', async () => {
    const integration = await connect(node.mqttUrl, { clientId: 'acme:watch', username: 'acme', password: acme.operatorToken })
    expect(await grantedQos(integration, 'tenants/acme/devices/+/telemetry', 1)).toBe(1)
    expect(await grantedQos(integration, 'tenants/beta/devices/+/telemetry', 1)).toBe(128)
    expect(await grantedQos(integration, '$SYS/#', 1)).toBe(128)
    const got = new Promise<string>((resolve) => integration.once('message', (topic) => resolve(topic)))
    expect(await publish(own('telemetry'))).toBe('acked')
    expect(await got).toBe(own('telemetry'))
    await integration.endAsync()
  })

  it('an integration\'s command reaches the device when it matches command.json, and closes the integration when not', async () => {
    const device = await connect(node.mqttUrl, deviceOptions('beta', beta.devices[0]!))
    const topic = `tenants/beta/devices/${beta.devices[0]!.id}/commands`
    await device.subscribeAsync(topic, { qos: 1 })
    const received: string[] = []
    device.on('message', (_t, payload) => received.push(payload.toString()))
    const integration = await connect(node.mqttUrl, { clientId: 'beta:cmd', username: 'beta', password: beta.operatorToken })
    await integration.publishAsync(topic, JSON.stringify({ id: 'c1', type: 'set_interval', ts: Date.now(), data: { seconds: 60 } }), { qos: 1 })
    await eventually(() => received.length === 1, 5000, 'the valid command')

    for (const bad of [{ id: 'c2', type: 'Any Thing/#', ts: Date.now() }, { id: 'c3', type: 'reboot', ts: -5 }, { id: 'c4', type: 'reboot', ts: Date.now(), extra: 1 }]) {
      const sender = await connect(node.mqttUrl, { clientId: 'beta:cmd', username: 'beta', password: beta.operatorToken })
      const closed = new Promise<void>((resolve) => sender.once('close', () => resolve()))
      sender.publish(topic, JSON.stringify(bad), { qos: 1 })
      await closed
      sender.end(true)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(received.map((r) => (JSON.parse(r) as { id: string }).id)).toEqual(['c1'])

    // and none at all for a disabled device: it could not connect to receive it
    const api = nodeApi(node)
    await api('POST', `/api/v1/devices/${beta.devices[0]!.id}/disable`, beta.adminToken)
    await expect(api('POST', `/api/v1/devices/${beta.devices[0]!.id}/commands`, beta.operatorToken, { type: 'reboot' })).rejects.toThrow(/409.*DEVICE_DISABLED/)
    await api('POST', `/api/v1/devices/${beta.devices[0]!.id}/enable`, beta.adminToken)
    integration.end(true)
    device.end(true)
  })

  describe.runIf(inject('services').mosquittoClients)('with the real mosquitto_sub / mosquitto_pub', () => {
    const base = () => ['-h', '127.0.0.1', '-p', String(node.server.mqttPort), '-i', acme.devices[0]!.id, '-u', 'acme', '-P', acme.devices[0]!.secret]

    it('mosquitto_sub on the own command topic receives a command', async () => {
      const sub = runClient('mosquitto_sub', [...base(), '-t', own('commands'), '-q', '1', '-C', '1', '-W', '8'])
      const api = nodeApi(node)
      // mosquitto_sub has no "subscribed" signal: send until it gets one
      await eventually(async () => {
        await api('POST', `/api/v1/devices/${acme.devices[0]!.id}/commands`, acme.operatorToken, { type: 'ping' })
        return true
      })
      const deadline = Date.now() + 6000
      let done = false
      void sub.then(() => { done = true })
      while (!done && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 300))
        await api('POST', `/api/v1/devices/${acme.devices[0]!.id}/commands`, acme.operatorToken, { type: 'ping' })
      }
      const run = await sub
      expect(run.code).toBe(0)
      expect(JSON.parse(run.stdout.trim().split('\n')[0]!)).toMatchObject({ type: 'ping' })
    })

    it.each([['#'], ['$SYS/#'], ['tenants/beta/#'], ['tenants/acme/devices/+/commands']])('mosquitto_sub on %s is denied', async (topic) => {
      const run = await runClient('mosquitto_sub', [...base(), '-t', topic, '-q', '1', '-W', '3'])
      // mosquitto_sub reports the refusal on stderr and ends without receiving anything
      expect(run.stderr).toContain('All subscription requests were denied')
      expect(run.stdout).toBe('')
    })

    it('mosquitto_pub to another device\'s topic is cut off', async () => {
      const run = await runClient('mosquitto_pub', [...base(), '-t', `tenants/acme/devices/${acme.devices[1]!.id}/telemetry`, '-m', reading(), '-q', '1'])
      expect(run.code).not.toBe(0)
    })
  })
})
