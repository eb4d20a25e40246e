import { Type } from 'typebox'
import { Nullable, Timestamp, Uuid } from '../../schemas/common.js'

export const DeviceId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$', description: 'issued by the API; the MQTT clientId' })
export const DeviceParams = Type.Object({ id: DeviceId })

export const Device = Type.Object({
  id: DeviceId,
  name: Type.String(),
  vehicleId: Nullable(Uuid),
  enabled: Type.Boolean(),
  secretVersion: Type.Integer({ description: 'bumped by every rotation' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  presence: Type.Optional(Type.Object({
    online: Type.Boolean(),
    lastSeenAt: Nullable(Timestamp),
    lastFixAt: Nullable(Timestamp),
  })),
})

export const CreateDevice = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, description: 'label, e.g. the tracker IMEI' }),
  vehicleId: Type.Optional(Nullable(Uuid)),
}, { additionalProperties: false })

export const UpdateDevice = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  vehicleId: Type.Optional(Nullable(Uuid)),
}, { additionalProperties: false, minProperties: 1 })

export const Credentials = Type.Object({
  device: Device,
  secret: Type.String({ description: 'shown only in this answer; store it on the device' }),
  mqtt: Type.Object({
    clientId: Type.String(), username: Type.String(), telemetryTopic: Type.String(), eventsTopic: Type.String(),
    statusTopic: Type.String(), commandsTopic: Type.String(),
  }),
})

export const DeviceTokenResponse = Type.Object({ tokenType: Type.Literal('Bearer'), token: Type.String(), expiresIn: Type.Integer() })
