// The read-ahead connection: while a reading's commit (and so its PUBACK) waits, Aedes does not read
// the device's next packets, but ReTrack does, and starts their ingestion. With the positions table
// locked against writes, readings sent after a held one still reach the asset state; the PUBACKs
// all wait for the commit and come in order. MQTT_READ_AHEAD bounds how many may run ahead, and 0
// turns it off (the next reading then waits in the socket, which is what this replaced).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import net from 'node:net'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { createPostgresDatabase } from '../../helpers/databases.js'
import { eventually, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

interface State { fixCount: number, lastFix: { ts: string } | null }

describe.runIf(postgresAvailable())('read-ahead while a commit waits (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>
  let locker: pg.Client
  beforeAll(async () => {
    database = await createPostgresDatabase()
    locker = new pg.Client({ connectionString: database.url })
    await locker.connect()
  })
  afterAll(async () => {
    await locker?.end() // first: ends the lock's transaction if a test failed inside it
    await database?.drop()
  })

  /**
   * A node with the given read-ahead, a device on a raw MQTT connection (so the test decides which
   * packets share a TCP write), and the positions table locked against inserts.
   */
  async function scenario(slug: string, readAhead: number, run: (s: {
    node: TestNode, device: RawDevice, state: () => Promise<State>, stored: () => Promise<number>
  }) => Promise<void>): Promise<void> {
    const node = await startNode({ MQTT_READ_AHEAD: readAhead }, { databaseUrl: database.url })
    let device: RawDevice | undefined
    try {
      const acme: Provisioned = await provision(node, slug, 1)
      const { id, secret } = acme.devices[0]!
      device = await RawDevice.connect(Number(new URL(node.mqttUrl).port), slug, id, secret)
      const state = () => nodeApi(node)<State>('GET', `/api/v1/devices/${id}/state`, acme.operatorToken)
      const stored = async () => Number((await locker.query<{ n: string }>('select count(*) as n from positions where device_id = $1', [id])).rows[0]!.n)
      await locker.query('begin')
      await locker.query('lock table positions in share mode') // reads go on, inserts wait
      await run({ node, device, state, stored })
    } finally {
      await locker.query('rollback').catch(() => {})
      device?.close()
      await node.close()
    }
  }

  const iso = (ts: number) => new Date(ts).toISOString()
  const showsFix = (state: () => Promise<State>, ts: number, what: string) =>
    eventually(async () => (await state()).lastFix?.ts === iso(ts) || undefined, 5000, what)
  const duplicates = async (node: TestNode) => (await node.server.metrics.readingsDropped.get()).values.find((v) => v.labels['reason'] === 'duplicate')?.value ?? 0
  const readAheadCount = async (node: TestNode) => (await node.server.metrics.readAhead.get()).values[0]?.value ?? 0

  // Five readings in one TCP write hold Aedes: it reads that socket again only after as many
  // events (a packet handled, or new data arriving) as the read had packets, so the next two
  // single-reading writes wait for the held readings' commit.
  const held = (t0: number) => [0, 1, 2, 3, 4].map((i) => t0 + i * 1000)
  /** The held five in one write, then two single readings in writes of their own; returns t0. */
  async function holdFiveThenSendTwo(device: RawDevice, state: () => Promise<State>): Promise<number> {
    const t0 = Date.now() - 60_000
    device.send(held(t0))
    await showsFix(state, t0 + 4000, 'the first five readings in the state')
    device.send([t0 + 5000])
    await device.flushed()
    device.send([t0 + 6000])
    return t0
  }
  it('applies the readings that arrive behind held PUBACKs, and acknowledges them after the commit', async () => {
    await scenario('ahead-on', 64, async ({ node, device, state, stored }) => {
      const t0 = await holdFiveThenSendTwo(device, state)
      await showsFix(state, t0 + 6000, 'the readings behind the held ones in the state')
      expect((await state()).fixCount).toBe(7)
      expect(device.acks).toEqual([])
      expect(await stored()).toBe(0)
      expect(await readAheadCount(node)).toBe(5) // claimed by the hook so far: the held five
      await locker.query('commit')
      await eventually(() => device.acks.length === 7 || undefined, 5000, 'seven PUBACKs')
      expect(device.acks.slice(5)).toEqual([6, 7]) // after the held ones, in the order sent
      expect(await readAheadCount(node)).toBe(7)
      expect(await stored()).toBe(7)
      expect((await state()).fixCount).toBe(7)
      expect(await duplicates(node)).toBe(0) // each claimed, none ingested a second time
    })
  })

  it('runs at most MQTT_READ_AHEAD publishes ahead; the rest wait for Aedes', async () => {
    await scenario('ahead-one', 1, async ({ device, state, stored }) => {
      const t0 = Date.now() - 60_000
      device.send(held(t0))
      await showsFix(state, t0 + 4000, 'the first five readings in the state')
      device.send([t0 + 5000])
      await showsFix(state, t0 + 5000, 'the one reading allowed ahead')
      device.send([t0 + 6000])
      await new Promise((r) => setTimeout(r, 300))
      expect((await state()).lastFix?.ts).toBe(iso(t0 + 5000))
      await locker.query('commit')
      await showsFix(state, t0 + 6000, 'the last reading once the commit let Aedes read on')
      await eventually(() => device.acks.length === 7 || undefined, 5000, 'seven PUBACKs')
      expect(await stored()).toBe(7)
    })
  })

  it('with MQTT_READ_AHEAD=0 the readings behind held PUBACKs wait in the socket until the commit', async () => {
    await scenario('ahead-off', 0, async ({ node, device, state }) => {
      const t0 = await holdFiveThenSendTwo(device, state)
      await new Promise((r) => setTimeout(r, 300))
      expect((await state()).lastFix?.ts).toBe(iso(t0 + 4000))
      await locker.query('commit')
      await showsFix(state, t0 + 6000, 'the readings after the commit')
      await eventually(() => device.acks.length === 7 || undefined, 5000, 'seven PUBACKs')
      expect(device.acks.slice(5)).toEqual([6, 7])
      expect(await readAheadCount(node)).toBe(0)
    })
  })
})

/** A device speaking MQTT 3.1.1 over a bare socket: each `send` is one TCP write. */
class RawDevice {
  readonly acks: number[] = []
  private nextId = 1

  private constructor(private readonly socket: net.Socket, private readonly topic: string) {}

  static async connect(port: number, tenant: string, id: string, secret: string): Promise<RawDevice> {
    const socket = net.connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    const device = new RawDevice(socket, `tenants/${tenant}/devices/${id}/telemetry`)
    const parser = mqttPacket.parser()
    const connack = new Promise<void>((resolve, reject) => {
      parser.on('packet', (p: Packet) => {
        if (p.cmd === 'connack') { if (p.returnCode === 0) resolve(); else reject(new Error(`CONNACK ${p.returnCode}`)) }
        if (p.cmd === 'puback' && p.messageId !== undefined) device.acks.push(p.messageId)
      })
      socket.once('error', reject)
    })
    socket.on('data', (chunk: Buffer) => parser.parse(chunk))
    socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: id, keepalive: 0, username: tenant, password: Buffer.from(secret) }))
    await connack
    return device
  }

  /** QoS 1 readings at these times, in one write; their message ids are 1, 2, 3… in order sent. */
  send(times: number[]): void {
    this.socket.write(Buffer.concat(times.map((ts) => mqttPacket.generate({
      cmd: 'publish', topic: this.topic, qos: 1, messageId: this.nextId++, retain: false, dup: false,
      payload: Buffer.from(JSON.stringify({ ts, lat: 45.76, lon: 4.84 + (ts % 100_000) / 1e7 })),
    }))))
  }

  /** lets the last write reach the broker as a read of its own */
  async flushed(): Promise<void> {
    await new Promise((r) => setTimeout(r, 100))
  }

  close(): void {
    this.socket.destroy()
  }
}
