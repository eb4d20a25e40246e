// Schemas shared by several resources.
import { Type, type Static, type TSchema } from 'typebox'
import { EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../security/account-rules.js'

export const Uuid = Type.String({ format: 'uuid' })
export const IdParams = Type.Object({ id: Uuid })
export type IdParams = Static<typeof IdParams>

export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String({ description: 'stable machine-readable error code' }),
  error: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
}, { description: 'every 4xx and 5xx answer has this shape' })

export const PageQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  // bounded so a huge number is a 400, not a database error; far beyond any tenant's row count
  offset: Type.Integer({ minimum: 0, maximum: 2_147_483_647, default: 0 }),
})
export type PageQuery = Static<typeof PageQuery>

export const Page = <T extends TSchema>(item: T) => Type.Object({
  items: Type.Array(item),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
})

/** Prisma gives Dates, JSON carries ISO strings: the serializer converts. */
export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' })
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

// a user's email and a new password: the limits of src/security/account-rules.ts, which the CLI
// and the BOOTSTRAP_* settings check too
export const Email = Type.String({ format: 'email', maxLength: EMAIL_MAX_LENGTH })
export const NewPassword = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH })
export const PersonName = Type.String({ maxLength: NAME_MAX_LENGTH })

/** Standard error answers to document on a route, beside its success schema. */
export const errors = (...codes: Array<400 | 401 | 403 | 404 | 409 | 413>) =>
  Object.fromEntries(codes.map((c) => [c, ErrorResponse])) as Record<number, typeof ErrorResponse>
