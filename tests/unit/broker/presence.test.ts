// The connected-devices gauge counts live connections, even when Aedes' 'client' and
// 'clientDisconnect' events do not pair. They do not when a connection's close waits on the broker's
// backend (Redis away: unsubscribing its subscriptions hangs) while the device is back on a new
// connection: Aedes registers the new one, then the old one, finishing its close, removes the new
// one's entry, so the new one never gets a 'clientDisconnect' (the drift an ops audit saw: 20 with
// no socket open). A real Aedes and real MQTT clients; the message fan-out is mqemitter's own, its
// removeListener held back as a Redis-backed one is during an outage.
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { Aedes } from 'aedes'
import mqemitter from 'mqemitter'
import mqtt from 'mqtt'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { watchPresence } from '../../../src/broker/presence.js'
import { setPrincipal } from '../../../src/broker/principal.js'
import { Metrics } from '../../../src/metrics.js'
import { MemoryPresenceStore } from '../../../src/state/memory.js'

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms))

describe('watchPresence', () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c() })

  async function broker() {
    let held: Array<() => void> | null = null
    const mq = mqemitter()
    const removeListener = mq.removeListener.bind(mq)
    mq.removeListener = ((topic: string, listener: never, done?: () => void) => {
      if (held) held.push(() => removeListener(topic, listener, done))
      else removeListener(topic, listener, done)
    }) as typeof mq.removeListener
    let n = 0
    const aedes = await Aedes.createBroker({
      mq,
      authenticate: (client, username, _password, done) => {
        setPrincipal(client, { kind: 'device', tenantId: 't', tenantSlug: String(username), deviceId: client.id, vehicleId: null, connection: `c${++n}` })
        done(null, true)
      },
    })
    const metrics = new Metrics({ defaultMetrics: false })
    const presence = new MemoryPresenceStore()
    const watched = watchPresence(aedes, presence, metrics, pino({ level: 'silent' }))
    const server = net.createServer((socket) => { aedes.handle(socket) })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanup.push(() => new Promise<void>((resolve) => { server.close(); aedes.close(() => resolve()) }))
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
    return {
      aedes, presence, watched, url,
      gauge: async () => (await metrics.devicesConnected.get()).values[0]?.value ?? 0,
      hold: () => { held = [] },
      release: () => { const h = held ?? []; held = null; h.forEach((f) => f()) },
    }
  }
  const connect = async (url: string) => {
    const c = await mqtt.connectAsync(url, { clientId: 'dev_presence0000001', username: 'acme', password: 'x', protocolVersion: 4, reconnectPeriod: 0 })
    cleanup.push(() => { c.end(true) })
    return c
  }

  it('counts connections, not events: a connection taken over while its close hangs leaves no phantom', async () => {
    const b = await broker()
    const first = await connect(b.url)
    await first.subscribeAsync('tenants/acme/devices/dev_presence0000001/commands', { qos: 1 })
    expect(await b.gauge()).toBe(1)

    // the backend goes away: the first connection dies, its close hangs on unsubscribing
    b.hold()
    first.stream.destroy()
    await tick()
    // the device is back on a new connection before the old one has finished closing
    const second = await connect(b.url)
    await tick()
    expect(await b.gauge()).toBe(1)
    // the backend is back: the old connection finishes closing (and Aedes drops the new one's entry)
    b.release()
    await tick()
    expect(await b.gauge()).toBe(1)
    expect(b.watched.connected()).toBe(1)
    expect((await b.presence.get([{ tenantId: 't', deviceId: 'dev_presence0000001' }])).get('dev_presence0000001')).toMatchObject({ online: true, connection: 'c2' })

    // the device leaves: nothing is connected, and it is offline
    await second.endAsync()
    await tick(50)
    expect(await b.gauge()).toBe(0)
    expect((await b.presence.get([{ tenantId: 't', deviceId: 'dev_presence0000001' }])).get('dev_presence0000001')).toMatchObject({ online: false })
  })

  it('a connection counts once and leaves once', async () => {
    const b = await broker()
    const c = await connect(b.url)
    expect(await b.gauge()).toBe(1)
    await c.endAsync()
    await tick()
    expect(await b.gauge()).toBe(0)
    expect(b.watched.connected()).toBe(0)
  })
})
