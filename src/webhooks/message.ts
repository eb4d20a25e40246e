// What a webhook receives: the request body and headers of one delivery. `data` is the event as the
// live stream and the MQTT event topics send it (TrackingEventMessage, one serializer for all).
import type { TrackingEventMessage } from '../contracts/payloads.js'
import type { StoredTrackingEvent } from '../db/tracking-events.js'
import { toMessage } from '../live/frames.js'
import { SIGNATURE_HEADER, signatureHeader } from './signature.js'

export const USER_AGENT = 'ReTrack-Webhooks/1'

export interface WebhookBody {
  /** the event id: the same event delivered twice (at-least-once) has the same id */
  id: number
  type: string
  /** when the event was stored */
  createdAt: string
  data: TrackingEventMessage
}

export function webhookBody(e: StoredTrackingEvent): string {
  const body: WebhookBody = { id: e.id, type: e.type, createdAt: new Date(e.createdAt).toISOString(), data: toMessage(e) }
  return JSON.stringify(body)
}

/** The headers of one attempt; signed now, so every attempt carries a fresh timestamp. */
export function webhookHeaders(delivery: { id: number, secret: string }, e: StoredTrackingEvent, body: string, now = Date.now()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'x-retrack-event-id': String(e.id),
    'x-retrack-event-type': e.type,
    'x-retrack-delivery': String(delivery.id),
    [SIGNATURE_HEADER]: signatureHeader(delivery.secret, body, Math.floor(now / 1000)),
  }
}
