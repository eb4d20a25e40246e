// HTTP ingestion for devices that cannot keep an MQTT connection: the same payloads, the same
// pipeline, the same "answered means stored". A device authenticates with its JWT (Bearer) or
// with HTTP Basic `deviceId:secret`.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError, unauthorized } from '../../../errors.js'
import { deviceSecretMatches } from '../../../security/device-secrets.js'
import { deviceTopic } from '../../../contracts/topics.js'
import { deviceEventSchema, readingSchema } from '../../../contracts/schemas.js'
import { refusedEntirely, type DeviceIdentity, type IngestOutcome } from '../../../ingest/ingestor.js'
import { errors } from '../../schemas/common.js'
import type { ApiContext } from '../../context.js'

const Outcome = Type.Object({
  accepted: Type.Integer({ description: 'new readings (or events) stored and queued for processing' }),
  duplicates: Type.Integer({ description: 'already stored earlier; acknowledged, not applied again' }),
  dropped: Type.Array(Type.Object({ index: Type.Optional(Type.Integer()), reason: Type.String(), detail: Type.Optional(Type.String()) })),
  rejected: Type.Array(Type.Object({ index: Type.Optional(Type.Integer()), code: Type.String(), reason: Type.String() })),
})

/**
 * The contract's schema of one item (docs/schemas), as the body of the OpenAPI description: one
 * item or an array of them. Its `$id` goes: the description inlines it.
 */
function documented(item: Record<string, unknown>) {
  const { $id: _id, ...inline } = item
  return { description: 'one item or a JSON array of them (docs/mqtt.md); any content type, read as bytes', oneOf: [inline, { type: 'array', minItems: 1, items: inline }] }
}

/** The body is validated by the ingestor from the raw bytes (its rejections are dead-lettered), not by Fastify. */
const bodyAsBytes = () => () => true

const routes: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const ingest = ctx.ingest
  if (!ingest) return
  // the ingestor validates against the contract's schemas itself, from the raw bytes, whatever the
  // device calls them (application/json, text/plain, none): the same bytes as over MQTT, the same
  // size limit. Fastify's own parsers would hand on a string or an object instead.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: ctx.config.MQTT_MAX_PAYLOAD_BYTES }, (_req, body, done) => done(null, body))

  async function device(request: FastifyRequest): Promise<DeviceIdentity> {
    const header = request.headers.authorization ?? ''
    let deviceId: string
    let check: (record: { secretHash: string, secretVersion: number }) => boolean
    // auth scheme names are case-insensitive (RFC 9110 §11.1)
    const scheme = header.slice(0, header.indexOf(' ') + 1).toLowerCase()
    if (scheme === 'basic ') {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon < 1) throw unauthorized('Basic credentials must be deviceId:secret')
      deviceId = decoded.slice(0, colon)
      const secret = decoded.slice(colon + 1)
      check = (r) => deviceSecretMatches(secret, r.secretHash)
    } else if (scheme === 'bearer ') {
      let claims
      try { claims = ctx.tokens.verify(header.slice(7)) } catch { throw unauthorized('invalid or expired token') }
      if (claims.typ !== 'device') throw new AppError(403, 'FORBIDDEN', 'ingestion takes device credentials, not a user token')
      deviceId = claims.sub
      const version = claims.sv
      check = (r) => r.secretVersion === version
    } else throw unauthorized('device credentials required (Bearer device token or Basic deviceId:secret)')
    const record = await ingest!.directory.find(deviceId)
    if (!record || !check(record)) throw new AppError(401, 'BAD_CREDENTIALS', 'unknown device or wrong credentials')
    if (!record.enabled) throw new AppError(403, 'DEVICE_DISABLED', 'this device is disabled')
    return { tenantId: record.tenantId, tenantSlug: record.tenantSlug, deviceId: record.id, vehicleId: record.vehicleId }
  }

  const respond = (outcome: IngestOutcome, reply: { status(code: number): unknown }) => {
    // nothing usable at all: the request was bad (it is dead-lettered all the same)
    if (refusedEntirely(outcome)) throw new AppError(400, outcome.rejected[0]!.code, outcome.rejected[0]!.reason, outcome.rejected)
    reply.status(202)
    return outcome
  }

  const schema = (summary: string, item: Record<string, unknown>) => ({
    tags: ['ingestion'], summary, security: [{ bearer: [] }, { basic: [] }] as Array<Record<string, string[]>>,
    consumes: ['application/json', 'text/plain'],
    // for the OpenAPI description only: the ingestor validates the raw bytes (validatorCompiler below)
    body: documented(item),
    // 413: a body over MQTT_MAX_PAYLOAD_BYTES, refused by the content-type parser above
    response: { 202: Outcome, ...errors(400, 401, 403, 413) },
  })

  // access 'public': the device's credentials (Basic deviceId:secret, or a device JWT) are checked
  // by device() above; the shared JWT check of the auth plugin cannot take Basic
  app.post('/telemetry', { schema: schema('Readings from a device (same payload as MQTT telemetry)', readingSchema), validatorCompiler: bodyAsBytes, config: { access: 'public' } },
    async (request, reply) => {
      const who = await device(request)
      return respond(await ingest.ingestor.telemetry(who, deviceTopic(who.tenantSlug, who.deviceId, 'telemetry'), request.body as Buffer, 'http'), reply)
    })

  app.post('/events', { schema: schema('Events from a device (same payload as MQTT events)', deviceEventSchema), validatorCompiler: bodyAsBytes, config: { access: 'public' } },
    async (request, reply) => {
      const who = await device(request)
      return respond(await ingest.ingestor.events(who, deviceTopic(who.tenantSlug, who.deviceId, 'events'), request.body as Buffer, 'http'), reply)
    })
}
export default routes
