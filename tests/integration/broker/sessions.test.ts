// What the broker keeps between connections stays within the tenant: a persistent session's queued
// messages go to no one outside it (an integration's client id is namespaced by its tenant, and the
// broker checks every delivery's scope besides), and nothing a client publishes is kept as retained.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { connect, deviceOptions, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

const collect = (client: MqttClient) => {
  const got: Array<{ topic: string, retain: boolean }> = []
  client.on('message', (topic, _payload, packet) => got.push({ topic, retain: packet.retain }))
  return got
}
const settle = (ms = 500) => new Promise((resolve) => setTimeout(resolve, ms))

describe('MQTT sessions and retained messages', () => {
  let node: TestNode
  let acme: Provisioned
  let beta: Provisioned
  const telemetry = (i: number) => `tenants/acme/devices/${acme.devices[i]!.id}/telemetry`
  const reading = () => JSON.stringify({ ts: Date.now() - 1000, lat: 45, lon: 7 })

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 3)
    beta = await provision(node, 'beta', 1)
  })
  afterAll(async () => { await node?.close() })

  const refusal = (options: Parameters<typeof connect>[1]) => connect(node.mqttUrl, options)
    .then((c) => { c.end(true); return 0 }, (err: { code?: number }) => err.code)

  it('an integration\'s client id must be in its tenant\'s namespace ("<tenant>:…"), whatever node it connects to', async () => {
    for (const clientId of ['erp', 'beta-erp', 'betaerp:x', 'acme:erp']) {
      expect(await refusal({ clientId, username: 'beta', password: beta.operatorToken }), clientId).toBe(2)
    }
    expect(await refusal({ clientId: 'beta:erp', username: 'beta', password: beta.operatorToken })).toBe(0)
    expect(await node.server.metrics.registry.getSingleMetricAsString('retrack_mqtt_auth_failures_total')).toMatch(/reason="integration_client_id_not_in_tenant"} [4-9]/)
  })

  it('another tenant\'s integration reusing a client id is refused and the messages queued for it stay queued', async () => {
    const watcher = await connect(node.mqttUrl, { clientId: 'acme:watch', username: 'acme', password: acme.operatorToken, clean: false })
    await watcher.subscribeAsync('tenants/acme/devices/+/telemetry', { qos: 1 })
    await watcher.endAsync()
    const device = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[0]!))
    await device.publishAsync(telemetry(0), reading(), { qos: 1 })
    await device.endAsync()

    expect(await refusal({ clientId: 'acme:watch', username: 'beta', password: beta.operatorToken, clean: false })).toBe(2)
    const owner = await connect(node.mqttUrl, { clientId: 'acme:watch', username: 'acme', password: acme.operatorToken, clean: false })
    const got = collect(owner)
    await settle()
    await owner.endAsync()
    expect(got.map((m) => m.topic)).toEqual([telemetry(0)])
  })

  it('another tenant\'s integration cannot take over a live connection by its client id; the same tenant can', async () => {
    const watcher = await connect(node.mqttUrl, { clientId: 'acme:live_watch', username: 'acme', password: acme.operatorToken })
    expect(await refusal({ clientId: 'acme:live_watch', username: 'beta', password: beta.operatorToken })).toBe(2)
    await settle(100)
    expect(watcher.connected).toBe(true)
    const replaced = new Promise<void>((resolve) => watcher.once('close', () => resolve()))
    const successor = await connect(node.mqttUrl, { clientId: 'acme:live_watch', username: 'acme', password: acme.adminToken })
    await replaced
    await successor.endAsync()
    watcher.end(true)
  })

  it('the owner of a persistent session still gets what was queued for it', async () => {
    const watcher = await connect(node.mqttUrl, { clientId: 'acme:owner', username: 'acme', password: acme.operatorToken, clean: false })
    await watcher.subscribeAsync('tenants/acme/devices/+/telemetry', { qos: 1 })
    await watcher.endAsync()
    const device = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[0]!))
    await device.publishAsync(telemetry(0), reading(), { qos: 1 })
    await device.endAsync()

    const again = await connect(node.mqttUrl, { clientId: 'acme:owner', username: 'acme', password: acme.operatorToken, clean: false })
    const got = collect(again)
    await settle()
    await again.endAsync()
    expect(got.map((m) => m.topic)).toEqual([telemetry(0)])
  })

  it.each([
    ['a device\'s retained reading', () => ({ client: deviceOptions('acme', acme.devices[1]!), topic: telemetry(1), payload: reading(), watch: 'tenants/acme/devices/+/telemetry' })],
    ['a device\'s retained status', () => ({ client: deviceOptions('acme', acme.devices[1]!), topic: `tenants/acme/devices/${acme.devices[1]!.id}/status`, payload: 'online', watch: 'tenants/acme/devices/+/status' })],
    ['an integration\'s retained command', () => ({ client: { clientId: 'acme:cmd', username: 'acme', password: acme.operatorToken }, topic: `tenants/acme/devices/${acme.devices[2]!.id}/commands`, payload: JSON.stringify({ id: 'c1', type: 'unlock', ts: Date.now() }), watch: `tenants/acme/devices/${acme.devices[2]!.id}/commands` })],
  ])('%s is delivered live and not replayed to a later subscriber', async (_name, setup) => {
    const { client, topic, payload, watch } = setup()
    const live = await connect(node.mqttUrl, { clientId: 'acme:live', username: 'acme', password: acme.operatorToken })
    await live.subscribeAsync(watch, { qos: 1 })
    const liveGot = collect(live)
    const publisher = await connect(node.mqttUrl, client)
    await publisher.publishAsync(topic, payload, { qos: 1, retain: true })
    await publisher.endAsync()
    await settle(200)
    await live.endAsync()
    expect(liveGot.map((m) => m.topic)).toEqual([topic])

    const subscriber = topic.endsWith('/commands')
      ? await connect(node.mqttUrl, deviceOptions('acme', acme.devices[2]!))
      : await connect(node.mqttUrl, { clientId: 'acme:later', username: 'acme', password: acme.operatorToken })
    const later = collect(subscriber)
    await subscriber.subscribeAsync(watch, { qos: 1 })
    await settle()
    await subscriber.endAsync()
    expect(later).toEqual([])
  })
})
