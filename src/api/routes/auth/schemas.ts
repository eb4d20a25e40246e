import { Type, type Static } from 'typebox'
import { TENANT_SLUG_PATTERN } from '../../../db/accounts.js'
import { PASSWORD_MAX_LENGTH } from '../../../security/account-rules.js'
import { Email } from '../../schemas/common.js'

export const LoginBody = Type.Object({
  email: Email,
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  tenant: Type.Optional(Type.String({ pattern: TENANT_SLUG_PATTERN, description: 'tenant slug; needed only when the email exists in several tenants' })),
})
export type LoginBody = Static<typeof LoginBody>

export const RefreshBody = Type.Object({ refreshToken: Type.String({ minLength: 20, maxLength: 200 }) })
export type RefreshBody = Static<typeof RefreshBody>

export const Session = Type.Object({
  tokenType: Type.Literal('Bearer'),
  accessToken: Type.String(),
  expiresIn: Type.Integer({ description: 'seconds' }),
  refreshToken: Type.String(),
  user: Type.Object({
    id: Type.String(), email: Type.String(), name: Type.String(), role: Type.String(), platformAdmin: Type.Boolean(),
    tenant: Type.Object({ id: Type.String(), slug: Type.String(), name: Type.String() }),
  }),
})

export const Me = Type.Object({
  userId: Type.String(), tenantId: Type.String(), tenant: Type.String(), role: Type.String(), platformAdmin: Type.Boolean(),
})

export const DeviceTokenBody = Type.Object({
  tenant: Type.String({ pattern: TENANT_SLUG_PATTERN }),
  deviceId: Type.String({ minLength: 1, maxLength: 64 }),
  secret: Type.String({ minLength: 1, maxLength: 200 }),
})
export type DeviceTokenBody = Static<typeof DeviceTokenBody>

export const DeviceToken = Type.Object({ tokenType: Type.Literal('Bearer'), token: Type.String(), expiresIn: Type.Integer() })
