// The OpenAPI description is generated from the route schemas (so it cannot drift from the code),
// served at /openapi.json, with a browsable UI at /docs.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

export default fp(async function openapiPlugin(app) {
  await app.register(swagger, {
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
