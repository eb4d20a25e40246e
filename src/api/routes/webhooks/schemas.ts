// Schemas of the webhook routes. The secret appears in Created (POST, rotate-secret) only: Webhook,
// which every read answers with, has no field for it, so the serializer could not send it anyway.
import { Type, type Static } from 'typebox'
import { Nullable, Timestamp, Uuid } from '../../schemas/common.js'
import { Cursor, EventTypeName } from '../tracking/schemas.js'
import { URL_MAX_LENGTH } from '../../../webhooks/ssrf.js'

const Url = Type.String({
  minLength: 1, maxLength: URL_MAX_LENGTH,
  description: 'where events are POSTed: https:// (http:// only where WEBHOOK_ALLOW_HTTP is true); no credentials, and no loopback, private, link-local or metadata address (docs/webhooks.md)',
})
const EventTypes = Type.Array(EventTypeName, {
  maxItems: 64, uniqueItems: true, description: 'event types to deliver (docs/events.md); empty: every type, including types added later',
})
const Description = Type.String({ maxLength: 500 })

export const WebhookParams = Type.Object({ id: Uuid })
export const DeliveryParams = Type.Object({ id: Uuid, deliveryId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) })

export const Webhook = Type.Object({
  id: Uuid,
  url: Type.String(),
  eventTypes: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  description: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  health: Type.Object({
    consecutiveFailures: Type.Integer({ description: 'failed attempts since the last delivered one' }),
    lastError: Nullable(Type.String({ description: 'the last failed attempt\'s reason (an HTTP status with the start of the answer, a timeout, a refused address, …)' })),
    lastSuccessAt: Nullable(Timestamp),
    lastFailureAt: Nullable(Timestamp),
  }),
})

export const CreateWebhook = Type.Object({
  url: Url,
  eventTypes: Type.Optional(EventTypes),
  enabled: Type.Optional(Type.Boolean({ default: true })),
  description: Type.Optional(Description),
}, { additionalProperties: false })
export type CreateWebhook = Static<typeof CreateWebhook>

export const UpdateWebhook = Type.Object({
  url: Type.Optional(Url),
  eventTypes: Type.Optional(EventTypes),
  enabled: Type.Optional(Type.Boolean({ description: 'false: no deliveries are created for new events, and pending ones wait until it is enabled again' })),
  description: Type.Optional(Description),
}, { additionalProperties: false, minProperties: 1 })
export type UpdateWebhook = Static<typeof UpdateWebhook>

export const Created = Type.Object({
  webhook: Webhook,
  secret: Type.String({ description: 'signs every delivery (x-retrack-signature); shown only in this answer' }),
})

export const DeliveryStatus = Type.Enum(['pending', 'delivered', 'failed'])

export const Delivery = Type.Object({
  id: Type.Integer({ description: 'the x-retrack-delivery header' }),
  eventId: Type.Integer({ description: 'the event (x-retrack-event-id, and `id` in the body)' }),
  eventType: Type.String(),
  status: DeliveryStatus,
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Timestamp),
  lastAttemptAt: Nullable(Timestamp),
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  deliveredAt: Nullable(Timestamp),
  createdAt: Timestamp,
})

export const DeliveriesQuery = Type.Object({
  status: Type.Optional(DeliveryStatus),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  cursor: Type.Optional(Cursor),
})

export const DeliveryPage = Type.Object({
  items: Type.Array(Delivery, { description: 'newest event first' }),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` for the next (older) page; null on the last one' }),
})
