// Bad telemetry payloads, one generator per kind. Each is something real trackers or broken gateways
// send; the ingest path must drop every one with a reason and never crash on it.
import type { Reading } from '../../src/contracts/payloads.js'
import { pick, type Rng } from '../random.js'

export const MALFORMED_KINDS = ['not_json', 'truncated_json', 'binary', 'wrong_types', 'missing_fields', 'out_of_range', 'empty_batch'] as const
export type MalformedKind = typeof MALFORMED_KINDS[number]

const generators: Record<MalformedKind, (r: Reading, rng: Rng) => string | Buffer> = {
  // a NMEA-ish or key=value line from a misconfigured tracker
  not_json: (r) => `lat=${r.lat};lon=${r.lon};t=${String(r.ts)}`,
  // the connection died mid-write
  truncated_json: (r) => { const s = JSON.stringify(r); return s.slice(0, Math.max(1, Math.floor(s.length / 2))) },
  // random bytes, not even UTF-8
  binary: (_r, rng) => Buffer.from(Array.from({ length: 24 }, (_, i) => (i === 0 ? 0xff : Math.floor(rng() * 256)))),
  // numbers as strings, a boolean for a coordinate
  wrong_types: (r) => JSON.stringify({ ts: 'yesterday', lat: String(r.lat), lon: true, speed: 'fast', seq: -1 }),
  // position missing
  missing_fields: (r) => JSON.stringify({ ts: r.ts, speed: r.speed ?? 0 }),
  // well-formed JSON with values no device can produce
  out_of_range: (r) => JSON.stringify({ ts: r.ts, lat: 123.4, lon: 200.5, speed: -3, heading: 400, battery: 150, accuracy: -1 }),
  // a batch with nothing in it
  empty_batch: () => '[]',
}

export function malformedPayload(kind: MalformedKind, reading: Reading, rng: Rng): string | Buffer {
  return generators[kind](reading, rng)
}

export function randomMalformed(reading: Reading, rng: Rng): { kind: MalformedKind, payload: string | Buffer } {
  const kind = pick(rng, MALFORMED_KINDS)
  return { kind, payload: malformedPayload(kind, reading, rng) }
}
