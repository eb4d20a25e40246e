import { Type, type Static } from 'typebox'
import { Uuid } from '../../schemas/common.js'
import { DeviceId } from '../devices/schemas.js'
import { EventTypeList } from '../tracking/schemas.js'

const EventId = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'resume after this event id (what the last `id:` line said)' })

export const StreamQuery = Type.Object({
  shipmentId: Type.Optional(Type.String({ format: 'uuid', description: 'events of this shipment; with positions=true, positions of its device and vehicle' })),
  deviceId: Type.Optional(DeviceId),
  vehicleId: Type.Optional(Uuid),
  types: Type.Optional(EventTypeList()),
  type: Type.Optional(EventTypeList('the same filter as `types` (the name /events uses); with both, events of either list')),
  positions: Type.Boolean({ default: false, description: 'also send `positions` frames (latest fix per device, at most once a second)' }),
  lastEventId: Type.Optional(EventId),
  access_token: Type.Optional(Type.String({ description: 'the access token, for EventSource (which cannot send headers); prefer the Authorization header' })),
})
export type StreamQuery = Static<typeof StreamQuery>

export const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ pattern: '^\\d{1,18}$', description: 'sent by EventSource when it reconnects' })),
})
