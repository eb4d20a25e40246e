// JSON Schemas of the MQTT payloads (draft-07). docs/schemas/*.json are generated from these
// (npm run docs:generate) and a test keeps them equal. The device payloads are plain schema objects;
// the tracking event ReTrack sends out is a TypeBox schema, its TS type (payloads.ts) derived from it.
// Ranges of lat/lon are deliberately not here: an out-of-range fix is a well-formed reading that the
// pipeline's `invalid` stage drops with a reason.
import { Type } from 'typebox'

const eventTime = {
  description: 'event time: epoch milliseconds or an ISO 8601 date-time',
  oneOf: [
    { type: 'integer', minimum: 0, maximum: 8.64e15 },
    { type: 'string', maxLength: 40 },
  ],
} as const

const finite = { type: 'number' } as const

export const readingSchema = {
  $id: 'https://retrack.dev/schemas/v1/reading.json',
  title: 'Reading',
  description: 'one position/sensor reading on tenants/{tenant}/devices/{device}/telemetry',
  type: 'object',
  required: ['ts', 'lat', 'lon'],
  properties: {
    ts: eventTime,
    lat: { ...finite, description: 'WGS84 latitude, degrees' },
    lon: { ...finite, description: 'WGS84 longitude, degrees' },
    speed: { type: 'number', minimum: 0, description: 'm/s' },
    heading: { type: 'number', minimum: 0, maximum: 360, description: 'degrees clockwise from north' },
    alt: { ...finite, description: 'metres above the ellipsoid' },
    accuracy: { type: 'number', minimum: 0, description: 'metres' },
    battery: { type: 'number', minimum: 0, maximum: 100, description: 'percent' },
    seq: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'device counter, kept with the reading; readings are deduplicated by device and ts, not by seq' },
    attrs: {
      type: 'object', maxProperties: 64, description: 'free sensor values, e.g. {"temp": 4.2} in °C',
      additionalProperties: { type: ['number', 'string', 'boolean', 'null'], maxLength: 256 },
    },
  },
} as const

export const telemetrySchema = {
  $id: 'https://retrack.dev/schemas/v1/telemetry.json',
  title: 'Telemetry',
  description: 'payload of tenants/{tenant}/devices/{device}/telemetry: one reading or a batch of them',
  oneOf: [
    { $ref: 'reading.json' },
    { type: 'array', minItems: 1, items: { $ref: 'reading.json' } },
  ],
} as const

export const deviceEventSchema = {
  $id: 'https://retrack.dev/schemas/v1/device-event.json',
  title: 'DeviceEvent',
  description: 'one event on tenants/{tenant}/devices/{device}/events (sos, door_open, door_close, delivery_confirmed, or custom)',
  type: 'object',
  required: ['ts', 'type'],
  properties: {
    ts: eventTime,
    type: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,47}$' },
    // unlike a reading's, checked here: no pipeline stage judges an event's position, and one stored
    // as sent would put the event off every map for good
    lat: { type: 'number', minimum: -90, maximum: 90, description: 'WGS84 latitude where it happened, degrees (with lon)' },
    lon: { type: 'number', minimum: -180, maximum: 180, description: 'WGS84 longitude, degrees (with lat)' },
    seq: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    data: { type: 'object', maxProperties: 64 },
  },
  dependencies: { lat: ['lon'], lon: ['lat'] },
} as const

export const eventsSchema = {
  $id: 'https://retrack.dev/schemas/v1/events.json',
  title: 'DeviceEvents',
  description: 'payload of tenants/{tenant}/devices/{device}/events: one event or a batch',
  oneOf: [
    { $ref: 'device-event.json' },
    { type: 'array', minItems: 1, items: { $ref: 'device-event.json' } },
  ],
} as const

export const statusSchema = {
  $id: 'https://retrack.dev/schemas/v1/status.json',
  title: 'Status',
  description: 'payload of tenants/{tenant}/devices/{device}/status, also the Last Will: {"state":"offline"} or the bare string',
  oneOf: [
    { type: 'string', enum: ['online', 'offline'] },
    {
      type: 'object', required: ['state'],
      properties: { state: { type: 'string', enum: ['online', 'offline'] }, ts: eventTime },
    },
  ],
} as const

export const commandSchema = {
  $id: 'https://retrack.dev/schemas/v1/command.json',
  title: 'Command',
  description: 'server to device on tenants/{tenant}/devices/{device}/commands',
  type: 'object',
  required: ['id', 'type', 'ts'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64 },
    type: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,47}$', description: 'e.g. set_interval, reboot' },
    ts: { type: 'integer', minimum: 0, maximum: 8.64e15, description: 'when it was sent, epoch ms' },
    data: { type: 'object' },
  },
} as const

const NullableString = (description: string, format?: 'uuid') =>
  Type.Union([Type.String(format ? { format } : {}), Type.Null()], { description })

// Object.assign so $id is in the type too (TypeBox's TObject does not carry its options' keys)
export const trackingEventSchema = Object.assign(Type.Object({
  id: Type.Integer({ minimum: 1, description: 'increasing in storage order; the SSE event id and the `Last-Event-ID` to resume from' }),
  type: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'event type, also the last level of the topic: see docs/events.md' }),
  ts: Type.String({ format: 'date-time', description: 'when it happened (event time), ISO 8601 in UTC' }),
  source: Type.Enum(['device', 'rule', 'user'], { description: 'device: sent by a device; rule: detected by the processing core; user: entered through the API' }),
  shipmentId: NullableString('the shipment it concerns, if any', 'uuid'),
  stopId: NullableString('the stop of that shipment it concerns, if any', 'uuid'),
  vehicleId: NullableString('the vehicle it concerns, if any', 'uuid'),
  deviceId: NullableString('the device it concerns, if any'),
  payload: Type.Unsafe<Record<string, unknown>>({ type: 'object', description: 'type-specific fields: see docs/events.md' }),
}, {
  title: 'TrackingEvent',
  description: 'one stored tracking event, as ReTrack publishes it on tenants/{tenant}/events/{type} and sends it in the live stream\'s `tracking` frames',
  additionalProperties: false,
}), { $id: 'https://retrack.dev/schemas/v1/tracking-event.json' })

export const allSchemas = [readingSchema, telemetrySchema, deviceEventSchema, eventsSchema, statusSchema, commandSchema, trackingEventSchema]
