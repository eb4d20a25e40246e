// Builds the HTTP application without listening (tests use app.inject; main.ts listens).
// Order: cross-cutting plugins (errors, auth, OpenAPI, metrics), then one plugin per resource.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import errors from './plugins/errors.js'
import auth from './plugins/auth.js'
import openapi from './plugins/openapi.js'
import metrics from './plugins/metrics.js'
import text from './plugins/text.js'
import consolePlugin from './plugins/console.js'
import health from './routes/health.js'
import authRoutes from './routes/auth/index.js'
import tenants from './routes/tenants/index.js'
import users from './routes/users/index.js'
import carriers from './routes/carriers/index.js'
import drivers from './routes/drivers/index.js'
import vehicles from './routes/vehicles/index.js'
import devices from './routes/devices/index.js'
import geofences from './routes/geofences/index.js'
import shipments from './routes/shipments/index.js'
import ingest from './routes/ingest/index.js'
import deadLetters from './routes/dead-letters/index.js'
import tracking from './routes/tracking/index.js'
import stream from './routes/stream/index.js'
import webhooks from './routes/webhooks/index.js'
import { moveQueryToken } from './routes/stream/query-token.js'
import type { ApiContext } from './context.js'

export type App = FastifyInstance

// Query strings, params and headers arrive as text and are coerced to their schema's types; JSON
// bodies are not: coercion there would turn a wrong value into a different right one (a nullable
// id given as "" would quietly become null and unassign something).
const ajvOptions = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false } as const
const coercing = addFormats.default(new Ajv({ ...ajvOptions, coerceTypes: 'array' }))
const exact = addFormats.default(new Ajv({ ...ajvOptions, coerceTypes: false }))

/** TRUST_PROXY as Fastify takes it: none, a number of hops, or the proxies' addresses and ranges. */
export function trustedProxies(setting: string): FastifyServerOptions['trustProxy'] {
  if (setting === '') return false
  // the nearest n hops are trusted proxies (proxy-addr's hop count)
  if (/^[0-9]+$/.test(setting)) { const hops = Number(setting); return (_address: string, hop: number) => hop < hops }
  return setting.split(',')
}

export async function buildApp(ctx: ApiContext, options: { jwtSecret: string, fastify?: FastifyServerOptions }): Promise<App> {
  const app = Fastify({
    loggerInstance: ctx.log,
    bodyLimit: 1024 * 1024,
    trustProxy: trustedProxies(ctx.config.TRUST_PROXY),
    // ?access_token= on the live stream becomes an Authorization header before logging and auth
    rewriteUrl: moveQueryToken,
    ...options.fastify,
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema))
  // many clients send `content-type: application/json` on every request: an empty body then is no
  // body (where the route's body is optional, e.g. cancel), not a 400; anything else parses as before
  const json = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (text === '') { done(null, undefined); return }
    void json(request, text, done)
  })

  await app.register(errors)
  await app.register(auth, { ctx, secret: options.jwtSecret })
  await app.register(openapi)
  await app.register(metrics, { metrics: ctx.metrics })
  await app.register(text)

  await app.register(health, { ctx })
  await app.register(consolePlugin, { ctx }) // the operator console at / (console/dist)
  await app.register(async (api) => {
    await api.register(authRoutes, { ctx, prefix: '/auth' })
    await api.register(tenants, { prisma: ctx.db.prisma, prefix: '/tenants' })
    await api.register(users, { prefix: '/users', ctx })
    await api.register(carriers, { prefix: '/carriers' })
    await api.register(drivers, { prefix: '/drivers' })
    await api.register(vehicles, { prefix: '/vehicles' })
    await api.register(devices, { ctx, prefix: '/devices' })
    await api.register(geofences, { ctx, prefix: '/geofences' })
    await api.register(shipments, { ctx, prefix: '/shipments' })
    await api.register(ingest, { ctx, prefix: '/ingest' })
    await api.register(deadLetters, { ctx, prefix: '/dead-letters' })
    await api.register(webhooks, { ctx, prefix: '/webhooks' })
    // timeline, manual events, positions, asset state (under /shipments and /devices) and /events
    await api.register(tracking, { ctx })
    await api.register(stream, { ctx })
  }, { prefix: '/api/v1' })

  return app
}
