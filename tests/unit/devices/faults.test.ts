import { Ajv } from 'ajv'
import { describe, expect, it } from 'vitest'
import { readingSchema, telemetrySchema } from '../../../src/contracts/schemas.js'
import type { Reading } from '../../../src/contracts/payloads.js'
import type { DevicePublishChannel } from '../../../src/contracts/topics.js'
import { DEFAULT_MAX_BATCH, DeviceSim, type DevicePort } from '../../../devices/device-sim.js'
import { NO_FAULTS, withJump, type FaultParams } from '../../../devices/faults/faults.js'
import { MALFORMED_KINDS, malformedPayload, randomMalformed } from '../../../devices/faults/malformed.js'
import { OfflineBuffer } from '../../../devices/faults/offline-buffer.js'
import { haversineM } from '../../../devices/geo.js'
import { TripRunner } from '../../../devices/motion/trips.js'
import { planTrips } from '../../../devices/plan.js'
import { mulberry32 } from '../../../devices/random.js'
import { Battery } from '../../../devices/sensors.js'
import { params, straightRoute } from './helpers.js'

const ajv = new Ajv({ strict: false })
ajv.addSchema(readingSchema)
const validTelemetry = ajv.compile(telemetrySchema)

const T0 = Date.UTC(2025, 0, 6, 6, 0, 0)
const route = straightRoute(40, [[0, 'pickup', 600], [20, 'delivery', 600], [40, 'delivery', 600]])

/** A port that records publishes and can be switched on and off. */
class FakePort implements DevicePort {
  online = true
  published: { channel: DevicePublishChannel, payload: string | Buffer, done: ((ok: boolean) => void) | undefined }[] = []
  disconnects: string[] = []
  tokens = Number.POSITIVE_INFINITY
  canPublish() { return this.tokens >= 1 }
  publish(channel: DevicePublishChannel, payload: string | Buffer, done?: (ok: boolean) => void) { this.tokens--; this.published.push({ channel, payload, done }) }
  disconnect(kind: string) { this.disconnects.push(kind); this.online = false }
  telemetry() { return this.published.filter((p) => p.channel === 'telemetry').map((p) => p.payload.toString()) }
}

function device(faults: Partial<FaultParams>, seed = 1, maxBatch?: number) {
  const trips = new TripRunner(planTrips(route, 1, T0, params()), params(), mulberry32(seed))
  return new DeviceSim({
    deviceId: 'dev-1', intervalMs: 5000, seqBase: 1000, faults: { ...NO_FAULTS, ...faults },
    sensors: { battery: new Battery(90, 1, T0) }, rng: mulberry32(seed + 100), maxFixesPerTick: 1000,
    ...(maxBatch !== undefined ? { maxBatch } : {}),
  }, trips)
}

/** A device that lost coverage at T0 and buffered the 24 fixes up to T0 + 115 s, back online. */
function deviceBackFromGap(maxBatch?: number) {
  const sim = device({ gapProb: 1, gapS: 120 }, 1, maxBatch)
  const port = new FakePort()
  sim.connected(T0)
  sim.step(T0 + 115_000, port)
  port.online = true
  return { sim, port }
}

const batchTimes = (payload: string) => (JSON.parse(payload) as Reading[]).map((r) => Number(r.ts))

describe('fault injection', () => {
  it('a coverage gap goes offline, buffers, and sends the backlog as an array batch in event-time order on reconnect', () => {
    const sim = device({ gapProb: 1, gapS: 120 })
    const port = new FakePort()
    sim.connected(T0)
    sim.step(T0, port) // first fix: the gap starts before it
    expect(port.disconnects).toEqual(['gap'])
    expect(sim.wantsConnection(T0 + 60_000)).toBe(false)
    sim.step(T0 + 115_000, port) // offline: 23 more fixes buffered
    expect(port.published).toEqual([])
    expect(sim.wantsConnection(T0 + 120_000)).toBe(true)

    port.online = true
    sim.step(T0 + 115_000, port)
    const telemetry = port.telemetry()
    expect(telemetry).toHaveLength(1)
    const batch = JSON.parse(telemetry[0]!) as Reading[]
    expect(Array.isArray(batch)).toBe(true)
    expect(batch).toHaveLength(24)
    expect(validTelemetry(batch)).toBe(true)
    const ts = batch.map((r) => Number(r.ts))
    expect(ts).toEqual([...ts].sort((a, b) => a - b))
    expect(ts[0]).toBe(T0)
    expect(sim.summary).toMatchObject({ gaps: 1, batches: 1, batchedFixes: 24 })
  })

  it('a backlog bigger than --max-batch goes out as several batches of at most max-batch, oldest first, one publish each', () => {
    // ReTrack dead-letters a whole batch over its MQTT_MAX_BATCH: one array of the backlog lost it all
    const { sim, port } = deviceBackFromGap(10)
    sim.step(T0 + 115_000, port)
    const batches = port.telemetry().map(batchTimes)
    expect(batches.map((b) => b.length)).toEqual([10, 10, 4])
    expect(batches.flat()).toEqual(Array.from({ length: 24 }, (_, i) => T0 + i * 5000))
    expect(sim.summary).toMatchObject({ batches: 3, batchedFixes: 24 })
    expect(sim.buffered).toBe(0)
  })

  it('the default backlog batch is 500, half of ReTrack\'s default limit', () => {
    expect(DEFAULT_MAX_BATCH).toBe(500)
    const sim = device({ gapProb: 1, gapS: 3600 }, 1)
    const port = new FakePort()
    sim.connected(T0)
    sim.step(T0 + 3600_000 - 5000, port) // 720 fixes buffered
    port.online = true
    sim.step(T0 + 3600_000 - 5000, port)
    expect(port.telemetry().map((t) => batchTimes(t).length)).toEqual([500, 220])
  })

  it('a backlog flush stopped by the rate limit keeps the rest buffered and goes on in order', () => {
    const { sim, port } = deviceBackFromGap(10)
    port.tokens = 1
    expect(sim.step(T0 + 115_000, port)).toBe(false)
    expect(port.telemetry()).toHaveLength(1)
    expect(sim.unsent.readings).toBe(14)
    port.tokens = 100
    expect(sim.step(T0 + 115_000, port)).toBe(true)
    expect(port.telemetry().flatMap(batchTimes)).toEqual(Array.from({ length: 24 }, (_, i) => T0 + i * 5000))
  })

  it('a batch whose connection died goes back into the buffer once, not in a loop', () => {
    const { sim, port } = deviceBackFromGap(10)
    // a port that fails every publish at once, as a link that just lost its socket does
    port.publish = (channel, payload, done) => { port.published.push({ channel, payload, done }); done?.(false) }
    sim.step(T0 + 115_000, port)
    expect(port.telemetry()).toHaveLength(3)
    expect(sim.unsent.readings).toBe(24)
  })

  it('counts what is still buffered, never sent', () => {
    const sim = device({ gapProb: 1, gapS: 600 })
    const port = new FakePort()
    sim.connected(T0)
    sim.step(T0 + 45_000, port) // offline from the first fix: 10 fixes buffered
    expect(sim.unsent).toEqual({ readings: 10, events: 0 })
    expect(port.published).toEqual([])
  })

  it('readings whose publish was not acknowledged go back to the buffer and out in the next batch, in order', () => {
    const sim = device({})
    const port = new FakePort()
    sim.connected(T0)
    sim.step(T0 + 20_000, port) // 5 single fixes
    expect(port.telemetry()).toHaveLength(5)
    port.published[3]!.done?.(false)
    port.published[1]!.done?.(false)
    sim.step(T0 + 20_000, port)
    const batch = JSON.parse(port.telemetry()[5]!) as Reading[]
    expect(batch.map((r) => r.ts)).toEqual([T0 + 5000, T0 + 15_000])
  })

  it('a duplicate repeats the same reading: same seq, same ts, same bytes', () => {
    const sim = device({ dupProb: 1 })
    const port = new FakePort()
    sim.connected(T0)
    sim.step(T0 + 10_000, port)
    const telemetry = port.telemetry()
    expect(telemetry).toHaveLength(6)
    for (let i = 0; i < 6; i += 2) expect(telemetry[i]).toBe(telemetry[i + 1])
    const seqs = telemetry.map((t) => (JSON.parse(t) as Reading).seq)
    expect(seqs).toEqual([1000, 1000, 1001, 1001, 1002, 1002])
    expect(sim.summary.duplicates).toBe(3)
  })

  it('a drop publishes the fix, then closes the socket abruptly', () => {
    const sim = device({ dropProb: 1 })
    const port = new FakePort()
    sim.connected(T0)
    sim.step(T0, port)
    expect(port.telemetry()).toHaveLength(1)
    expect(port.disconnects).toEqual(['drop'])
    expect(sim.wantsConnection(T0)).toBe(true)
  })

  it('stops at the rate limit without losing the fix it could not send', () => {
    const sim = device({})
    const port = new FakePort()
    port.tokens = 2
    sim.connected(T0)
    expect(sim.step(T0 + 20_000, port)).toBe(false)
    expect(port.telemetry()).toHaveLength(2)
    port.tokens = 100
    expect(sim.step(T0 + 20_000, port)).toBe(true)
    expect(port.telemetry().map((t) => (JSON.parse(t) as Reading).ts)).toEqual([0, 1, 2, 3, 4].map((i) => T0 + i * 5000))
  })

  describe.each(MALFORMED_KINDS.map((kind) => ({ kind })))('malformed payload $kind', ({ kind }) => {
    const reading: Reading = { ts: T0, lat: 52.5, lon: 13.4, speed: 12, seq: 7 }
    it('is rejected by JSON parsing or by the telemetry schema (or is an impossible position)', () => {
      const payload = malformedPayload(kind, reading, mulberry32(3))
      let parsed: unknown
      try { parsed = JSON.parse(payload.toString()) } catch { return }
      const invalid = !validTelemetry(parsed)
      const p = parsed as { lat?: number, lon?: number }
      const impossible = typeof p.lat === 'number' && (Math.abs(p.lat) > 90 || Math.abs(p.lon ?? 0) > 180)
      expect(invalid || impossible).toBe(true)
    })
  })

  it('draws every malformed kind, and --malformed-pct 100 replaces every telemetry message', () => {
    const rng = mulberry32(5)
    const seen = new Set(Array.from({ length: 500 }, () => randomMalformed({ ts: T0, lat: 1, lon: 1 }, rng).kind))
    expect([...seen].sort()).toEqual([...MALFORMED_KINDS].sort())
    const sim = device({ malformedPct: 100 })
    const port = new FakePort()
    sim.connected(T0)
    sim.step(T0 + 50_000, port)
    expect(port.telemetry()).toHaveLength(11)
    expect(sim.summary.malformedTotal).toBe(11)
    expect(sim.summary.published).toBe(0)
  })

  it('a GPS jump lands 2–50 km away', () => {
    const rng = mulberry32(9)
    for (let i = 0; i < 50; i++) {
      const j = withJump(rng, 52, 13)
      expect(haversineM(52, 13, j.lat, j.lon)).toBeGreaterThan(1_990)
      expect(haversineM(52, 13, j.lat, j.lon)).toBeLessThan(50_100)
    }
  })

  it('the offline buffer keeps the newest entries when full and counts the loss', () => {
    const buffer = new OfflineBuffer<{ ts: number }>(3)
    for (const ts of [5, 1, 4, 2, 3]) buffer.push({ ts })
    expect(buffer.overflowed).toBe(2)
    expect(buffer.drain()).toEqual([{ ts: 2 }, { ts: 3 }, { ts: 4 }])
    expect(buffer.size).toBe(0)
  })
})
