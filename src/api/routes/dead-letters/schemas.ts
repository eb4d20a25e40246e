// Schemas of the dead-letter read routes.
import { Type, type Static } from 'typebox'
import { Nullable, Timestamp } from '../../schemas/common.js'
import { DeviceId } from '../devices/schemas.js'
import { Cursor } from '../tracking/schemas.js'

const DateTimeInput = (bound: string) => Type.String({ format: 'date-time', description: `ISO 8601 with a time zone; received ${bound} (inclusive)` })
// ingestion's codes are upper case (MALFORMED_JSON, SCHEMA, …); lower case is allowed for reasons to come
const CodeName = '[A-Za-z][A-Za-z0-9_]{0,63}'

export const DeadLettersQuery = Type.Object({
  deviceId: Type.Optional(DeviceId),
  code: Type.Optional(Type.String({
    pattern: `^${CodeName}(,${CodeName}){0,31}$`, description: 'one code or a comma-separated list (at most 32), e.g. MALFORMED_JSON,SCHEMA',
  })),
  from: Type.Optional(DateTimeInput('at or after')),
  to: Type.Optional(DateTimeInput('at or before')),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  cursor: Type.Optional(Cursor),
})
export type DeadLettersQuery = Static<typeof DeadLettersQuery>

export const DeadLetterParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) })

export const DeadLetter = Type.Object({
  id: Type.Integer({ description: 'increasing in storage order' }),
  deviceId: Nullable(Type.String({ description: 'the device that sent it (it may have been deleted since)' })),
  topic: Type.String({ description: 'the MQTT topic it came on (HTTP ingestion uses the same topic names)' }),
  code: Type.String({ description: 'why it was refused: MALFORMED_JSON, SCHEMA, BAD_TIME, EMPTY_BATCH, BATCH_TOO_LARGE, UNKNOWN_DEVICE, DEVICE_DISABLED (external broker), …' }),
  reason: Type.String({ description: 'for people: what was wrong, with the element index in a batch' }),
  receivedAt: Timestamp,
  payload: Type.String({ description: 'the payload as received (its first bytes: see payloadTruncated), in payloadEncoding' }),
  payloadEncoding: Type.Enum(['utf8', 'base64'], { description: 'utf8: the bytes are UTF-8 text without control characters (other than tab, CR, LF); base64: anything else' }),
  payloadBytes: Type.Integer({ description: 'size of the stored payload in bytes (the database keeps the first 64 KiB of a payload)' }),
  payloadTruncated: Type.Boolean({ description: 'true when `payload` is not the whole payload: cut in this answer (lists show the first 4 KiB; GET /dead-letters/{id} the whole stored copy) or cut when stored (64 KiB kept)' }),
})

export const DeadLetterPage = Type.Object({
  items: Type.Array(DeadLetter, { description: 'newest first (received time, then id)' }),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` for the next (older) page; null on the last one' }),
})
