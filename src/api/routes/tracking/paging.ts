// Opaque keyset cursors and time ranges for the read routes. A cursor names the last item a page
// showed; the next page starts strictly beyond it, so pages never repeat or skip a row even while
// new rows arrive. Cursors are base64url text, not a contract: clients pass them back unchanged.
import { AppError } from '../../../errors.js'
import type { EventKey } from '../../../db/read-models.js'
import type { DeadLetterKey } from '../../../db/dead-letter-reads.js'

const invalid = (name: string) => new AppError(400, 'INVALID_CURSOR', `${name} is not a cursor this API issued`)
const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64url')
const decode = (cursor: string) => Buffer.from(cursor, 'base64url').toString('utf8')

/** Earliest instant PostgreSQL's timestamptz holds (4713 BC); the latest is beyond what a Date holds. */
const EARLIEST_MS = Date.parse('-004713-11-24T00:00:00Z')
/** Epoch ms both a Date and the database hold: a cursor naming another would fail in the query, a 500. */
const instantMs = (text: string) => {
  const ms = Number(text)
  return ms >= EARLIEST_MS && !Number.isNaN(new Date(ms).getTime()) ? ms : undefined
}

export const eventCursor = (k: EventKey) => encode(`e:${k.ts}:${k.id}`)

export function parseEventCursor(cursor: string | undefined, name = 'cursor'): EventKey | undefined {
  if (cursor === undefined) return undefined
  const m = /^e:(-?\d{1,16}):(\d{1,18})$/.exec(decode(cursor))
  const ts = m ? instantMs(m[1]!) : undefined
  const id = m ? Number(m[2]) : NaN
  if (ts === undefined || !Number.isSafeInteger(id)) throw invalid(name)
  return { ts, id }
}

/** Dead letters (GET /dead-letters) page on their received time, then id: `l:`, so no event cursor passes for one. */
export const deadLetterCursor = (k: DeadLetterKey) => encode(`l:${k.receivedAt}:${k.id}`)

export function parseDeadLetterCursor(cursor: string | undefined): DeadLetterKey | undefined {
  if (cursor === undefined) return undefined
  const m = /^l:(-?\d{1,16}):(\d{1,18})$/.exec(decode(cursor))
  const receivedAt = m ? instantMs(m[1]!) : undefined
  const id = m ? Number(m[2]) : NaN
  if (receivedAt === undefined || !Number.isSafeInteger(id)) throw invalid('cursor')
  return { receivedAt, id }
}

/** A webhook's deliveries (GET /webhooks/{id}/deliveries) page on their event id, newest first: `w:`. */
export const deliveryCursor = (eventId: number) => encode(`w:${eventId}`)

export function parseDeliveryCursor(cursor: string | undefined): bigint | undefined {
  if (cursor === undefined) return undefined
  const m = /^w:(\d{1,18})$/.exec(decode(cursor))
  if (!m) throw invalid('cursor')
  return BigInt(m[1]!)
}

/** Device ids match DeviceId (1–64 of [A-Za-z0-9_.:-]): a cursor naming anything else was not ours. */
export const deviceCursor = (deviceId: string) => encode(`d:${deviceId}`)

export function parseDeviceCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined
  const m = /^d:([A-Za-z0-9][A-Za-z0-9_.:-]{0,63})$/.exec(decode(cursor))
  if (!m) throw invalid('cursor')
  return m[1]!
}

export const positionCursor = (ts: string) => encode(`p:${Date.parse(ts)}`)

export function parsePositionCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined
  const m = /^p:(-?\d{1,16})$/.exec(decode(cursor))
  const ts = m ? instantMs(m[1]!) : undefined
  if (ts === undefined) throw invalid('cursor')
  return ts
}

/** Both bounds as Dates; 400 when `from` is after `to` or a value Date cannot hold. */
export function timeRange(from: string | undefined, to: string | undefined): { from?: Date, to?: Date } {
  const parse = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined
    const d = new Date(v)
    if (Number.isNaN(d.getTime())) throw new AppError(400, 'VALIDATION', `${name} is not a valid date-time`)
    return d
  }
  const range = { from: parse('from', from), to: parse('to', to) }
  if (range.from && range.to && range.from > range.to) {
    throw new AppError(400, 'INVALID_RANGE', 'from must not be after to', { fields: ['from', 'to'] })
  }
  return { ...(range.from ? { from: range.from } : {}), ...(range.to ? { to: range.to } : {}) }
}
