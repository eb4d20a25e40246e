// Runs small simulator fleets against the REAL Mosquitto (anonymous on 127.0.0.1:1883) and checks
// what a subscriber on the tenant's device topics actually receives.
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Ajv } from 'ajv'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parseConfig } from '../../../devices/config.js'
import { runSimulation } from '../../../devices/run.js'
import type { Reading } from '../../../src/contracts/payloads.js'
import { deviceEventSchema, eventsSchema, readingSchema, statusSchema, telemetrySchema } from '../../../src/contracts/schemas.js'
import { parseDeviceTopic } from '../../../src/contracts/topics.js'

const services = inject('services')
const ajv = new Ajv({ strict: false })
ajv.addSchema(readingSchema).addSchema(deviceEventSchema)
const valid = { telemetry: ajv.compile(telemetrySchema), events: ajv.compile(eventsSchema), status: ajv.compile(statusSchema) }

interface Received { device: string, channel: string, payload: Buffer, at: number }

function devicesFile(dir: string, count: number, prefix: string): string {
  const file = join(dir, `${prefix}.json`)
  writeFileSync(file, JSON.stringify(Array.from({ length: count }, (_, i) => ({ deviceId: `${prefix}-${i + 1}`, secret: `s${i}` }))))
  return file
}

async function subscribe(url: string, tenant: string): Promise<{ client: MqttClient, received: Received[] }> {
  const received: Received[] = []
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, clean: true, clientId: `sub-${tenant}` })
  client.on('message', (topic, payload) => {
    const t = parseDeviceTopic(topic)
    if (t) received.push({ device: t.deviceId, channel: t.channel, payload, at: Date.now() })
  })
  await client.subscribeAsync(`tenants/${tenant}/devices/+/#`, { qos: 1 })
  return { client, received }
}

const parse = (r: Received): unknown => { try { return JSON.parse(r.payload.toString()) } catch { return undefined } }

describe.runIf(services.mosquitto)('simulator fleet against Mosquitto', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retrack-sim-'))
  const tenant = `sim${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
  let sub: Awaited<ReturnType<typeof subscribe>>
  let result: Awaited<ReturnType<typeof runSimulation>>

  beforeAll(async () => {
    sub = await subscribe(services.mosquittoUrl, tenant)
    const config = parseConfig([
      '--url', services.mosquittoUrl, '--tenant', tenant, '--devices-file', devicesFile(dir, 20, tenant),
      '--speedup', '600', '--interval', '30', '--duration', '5', '--stagger', '0', '--seed', '42', '--progress', '0',
      '--routes', 'de-berlin-city-deliveries,nl-be-rotterdam-brussels',
      '--gap-prob', '0.04', '--gap-s', '240', '--drop-prob', '0.02', '--dup-prob', '0.03', '--malformed-pct', '4', '--temp', '4',
      '--truth-out', join(dir, 'truth.json'),
    ], {})
    result = await runSimulation(config, { log: () => undefined })
    await new Promise((r) => setTimeout(r, 1500))
  }, 60_000)

  afterAll(async () => { await sub?.client.endAsync() })

  it('connects every device and gets a PUBACK for what it published', () => {
    const s = result.summary
    expect(s.everConnected).toBe(20)
    expect(s.refused).toBe(0)
    expect(s.sent).toBeGreaterThan(500)
    expect(s.acked).toBeGreaterThan(s.sent * 0.9)
    expect(s.simulated.clamped).toBe(false)
  })

  it('delivers telemetry, events and status from every device, valid against the contract schemas', () => {
    const devices = new Set(sub.received.map((r) => r.device))
    expect(devices.size).toBe(20)
    const byChannel = (c: string) => sub.received.filter((r) => r.channel === c)
    expect(byChannel('events').length).toBeGreaterThan(0)
    for (const channel of ['events', 'status'] as const) {
      for (const r of byChannel(channel)) expect(valid[channel](parse(r)), r.payload.toString()).toBe(true)
    }
    // telemetry: every message is either valid, or one of the malformed ones the device counted
    const invalid = new Map<string, number>()
    for (const r of byChannel('telemetry')) {
      if (!valid.telemetry(parse(r))) invalid.set(r.device, (invalid.get(r.device) ?? 0) + 1)
    }
    const malformed = new Map(result.truth.devices.map((d) => [d.deviceId, d.fixes.malformedTotal]))
    for (const [device, count] of invalid) expect(count).toBeLessThanOrEqual(malformed.get(device)!)
    expect([...invalid.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
  })

  it('never sends event time from the future', () => {
    for (const r of sub.received.filter((x) => x.channel === 'telemetry')) {
      const body = parse(r)
      if (!valid.telemetry(body)) continue
      for (const reading of ([] as Reading[]).concat(body as Reading | Reading[])) expect(Number(reading.ts)).toBeLessThanOrEqual(r.at)
    }
  })

  it('sends what was buffered in a coverage gap as ONE array, in event-time order', () => {
    const batches = sub.received.filter((r) => r.channel === 'telemetry').map(parse)
      .filter((b): b is Reading[] => Array.isArray(b) && b.length > 1 && valid.telemetry(b))
    expect(batches.length).toBeGreaterThan(5)
    for (const batch of batches) {
      const ts = batch.map((r) => Number(r.ts))
      expect(ts).toEqual([...ts].sort((a, b) => a - b))
    }
    const gaps = result.truth.devices.reduce((n, d) => n + d.fixes.gaps, 0)
    expect(gaps).toBeGreaterThan(0)
  })

  it('repeats duplicates with the same seq and ts', () => {
    const seen = new Map<string, number>()
    for (const r of sub.received.filter((x) => x.channel === 'telemetry')) {
      const body = parse(r)
      if (!body || Array.isArray(body) || !valid.telemetry(body)) continue
      const key = `${r.device}/${(body as Reading).seq}/${String((body as Reading).ts)}`
      seen.set(key, (seen.get(key) ?? 0) + 1)
    }
    expect([...seen.values()].some((n) => n >= 2)).toBe(true)
  })

  it('makes the broker publish the Last Will when --drop-prob drops a socket, then comes back online', async () => {
    const dropTenant = `${tenant}drop`
    const own = await subscribe(services.mosquittoUrl, dropTenant)
    try {
      const config = parseConfig(['--url', services.mosquittoUrl, '--tenant', dropTenant, '--devices-file', devicesFile(dir, 5, dropTenant),
        '--speedup', '600', '--interval', '30', '--duration', '3', '--seed', '7', '--progress', '0', '--drop-prob', '0.05'], {})
      const run = await runSimulation(config, { log: () => undefined })
      await new Promise((r) => setTimeout(r, 1000))
      const drops = run.truth.devices.reduce((n, d) => n + d.fixes.drops, 0)
      const wills = own.received.filter((r) => r.channel === 'status' && r.payload.toString() === '{"state":"offline"}')
      expect(drops).toBeGreaterThan(0)
      expect(wills.length).toBeGreaterThan(0)
      expect(wills.length).toBeLessThanOrEqual(drops)
      const online = own.received.filter((r) => r.channel === 'status' && (parse(r) as { state?: string })?.state === 'online')
      expect(online.length).toBeGreaterThan(5)
    } finally {
      await own.client.endAsync()
    }
  }, 30_000)

  it('writes the truth: the pickup arrival of every vehicle and a fix summary', () => {
    expect(result.truth.devices).toHaveLength(20)
    for (const d of result.truth.devices) {
      const first = d.trips[0]!
      expect(first.stops[0]!.arrivedAt).toBe(first.plannedStart)
      expect(d.fixes.fixes).toBeGreaterThan(10)
      expect(d.fixes.lastTs).toBeLessThanOrEqual(Date.now())
    }
  })

  it('runs from the command line and prints the summary as JSON with --json', async () => {
    const file = devicesFile(dir, 3, `${tenant}cli`)
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'devices/main.ts', '--url', services.mosquittoUrl, '--tenant', tenant,
      '--devices-file', file, '--speedup', '300', '--duration', '2', '--progress', '0', '--json'], { cwd: process.cwd(), timeout: 30_000 })
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as { everConnected: number, sent: number, cpuSeconds: { user: number }, rssMB: { peak: number } }
    expect(summary.everConnected).toBe(3)
    expect(summary.sent).toBeGreaterThan(0)
    expect(summary.rssMB.peak).toBeGreaterThan(0)
  }, 40_000)
})
