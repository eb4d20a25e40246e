// The OpenAPI description is generated from the route schemas (so it cannot drift from the code),
// served at /openapi.json, with a browsable UI at /docs.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

interface JsonSchema { type?: string | string[], anyOf?: JsonSchema[], oneOf?: JsonSchema[] }
interface Operation { requestBody?: { required?: boolean, content?: Record<string, { schema?: JsonSchema }> } }
interface Document { paths?: Record<string, Record<string, Operation | undefined>> }

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
    transformObject: (documents) => 'openapiObject' in documents ? markOptionalBodies(documents.openapiObject) : documents.swaggerObject,
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
