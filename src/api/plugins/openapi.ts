// The OpenAPI description is generated from the route schemas (so it cannot drift from the code),
// served at /openapi.json, with a browsable UI at /docs.
// Each operation also says who may call it (a `Roles:` line in its description and `x-roles`, from
// the route's `config.access`), paths carry no trailing slash, and a query parameter with a default
// is not required.
import fp from 'fastify-plugin'
import swagger, { type SwaggerTransform } from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { Access } from './auth.js'

interface JsonSchema { type?: string | string[], anyOf?: JsonSchema[], oneOf?: JsonSchema[], default?: unknown }
interface Parameter { in?: string, required?: boolean, schema?: JsonSchema }
interface Operation { requestBody?: { required?: boolean, content?: Record<string, { schema?: JsonSchema }> }, parameters?: Parameter[] }
interface Document { paths?: Record<string, Record<string, Operation | undefined>> }

/** Who an access level admits (src/api/plugins/auth.ts): `x-roles` and the description's `Roles:` line. */
export const rolesOf: Record<Access, { roles: string[], text: string }> = {
  public: { roles: [], text: 'anyone (no token)' },
  read: { roles: ['admin', 'operator', 'viewer'], text: 'admin, operator, viewer' },
  write: { roles: ['admin', 'operator'], text: 'admin, operator' },
  admin: { roles: ['admin'], text: 'admin' },
  platform: { roles: ['platform-admin'], text: 'platform administrator (an admin with platform rights)' },
  device: { roles: ['device'], text: 'device (device credentials, not a user token)' },
}

/**
 * Per route: its roles from `config.access`, and its path without a trailing slash (a resource's
 * collection is registered as `/` under its prefix; Fastify answers with and without the slash).
 * The ingestion routes declare `public` to the role hook because they check device credentials
 * themselves; their security requirement (bearer or basic) tells them apart from the open routes.
 */
export const describeRoute: SwaggerTransform = ({ schema, url, route }) => {
  const path = url.length > 1 ? url.replace(/\/+$/, '') : url
  const declared = route.config?.access
  if (!schema || declared === undefined) return { schema, url: path }
  const access: Access = declared === 'public' && Array.isArray(schema.security) && schema.security.length > 0 ? 'device' : declared
  const { roles, text } = rolesOf[access]
  const description = typeof schema.description === 'string' ? `${schema.description}\n\nRoles: ${text}` : `Roles: ${text}`
  return { schema: { ...schema, description, 'x-roles': roles }, url: path }
}

/**
 * A parameter with a default may be left out (the validator fills the default in), but
 * @fastify/swagger marks every property its object schema requires as a required parameter.
 */
export function markDefaultedParametersOptional<D extends object>(doc: D): D {
  for (const operations of Object.values((doc as Document).paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const p of operation?.parameters ?? []) if (p.in !== 'path' && p.schema?.default !== undefined) p.required = false
    }
  }
  return doc
}

const admitsNull = (s: JsonSchema | undefined): boolean => s !== undefined &&
  (s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null')) || [...s.anyOf ?? [], ...s.oneOf ?? []].some(admitsNull))

/**
 * Fastify validates a missing body as null, so a body schema that admits null makes the body
 * optional (`POST /shipments/{id}/cancel`). @fastify/swagger marks every requestBody required
 * regardless; this corrects the generated document.
 */
export function markOptionalBodies<D extends object>(doc: D): D {
  for (const operations of Object.values((doc as Document).paths ?? {})) {
    for (const operation of Object.values(operations)) {
      const body = operation?.requestBody
      const media = Object.values(body?.content ?? {})
      if (body && media.length > 0 && media.every((m) => admitsNull(m.schema))) body.required = false
    }
  }
  return doc
}

export default fp(async function openapiPlugin(app) {
  await app.register(swagger, {
    transform: describeRoute,
    transformObject: (documents) => 'openapiObject' in documents
      ? markDefaultedParametersOptional(markOptionalBodies(documents.openapiObject))
      : documents.swaggerObject,
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ReTrack API',
        version: '1',
        description: 'Multi-tenant freight visibility: tenants, users, assets, devices, geofences, shipments and their lifecycle. ' +
          'Authenticate with POST /api/v1/auth/login and send the access token as `Authorization: Bearer <token>`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, basic: { type: 'http', scheme: 'basic', description: 'devices only: deviceId:secret' } } },
      security: [{ bearer: [] }],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } })
  app.get('/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, async () => app.swagger())
}, { name: 'openapi' })
