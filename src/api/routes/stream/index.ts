// GET /stream: the tenant's live events and positions as Server-Sent Events.
//   event: tracking   id: <event id>   data: TrackingEventMessage
//   event: positions                  data: [{ deviceId, vehicleId?, ts, lat, lon, speed, heading }]
//   event: truncated                  data: { lastEventId, replayedFrom } (the replay was cut short)
//   : heartbeat                       every 15 s, so proxies and clients see a live connection
// With Last-Event-ID (header) or lastEventId (query) the stored events after it are replayed
// first; live frames arriving meanwhile wait and are sent after, without duplicates (also when a
// publication the replay already covered reaches this node only later, e.g. over Redis).
// A stream lives as long as the access token it was opened with: it ends when the token expires or
// its user is disabled, deleted or given another role (checked every few seconds for all streams);
// the client reconnects with a fresh token and Last-Event-ID and misses nothing.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { AppError, notFound } from '../../../errors.js'
import { eventsAfter, type EventQuery } from '../../../db/read-models.js'
import type { TrackingEventMessage } from '../../../contracts/payloads.js'
import type { LiveFilter } from '../../../live/filter.js'
import type { LiveFrame } from '../../../live/frames.js'
import { errors } from '../../schemas/common.js'
import type { ApiContext } from '../../context.js'
import { revokedBecause } from '../../../security/user-status.js'
import type { UserClaims } from '../../../security/tokens.js'
import { SseWriter } from './sse.js'
import { StreamHeaders, StreamQuery } from './schemas.js'
import { eventTypesOf } from '../tracking/schemas.js'

export interface StreamOptions {
  ctx: ApiContext
  heartbeatMs?: number
  /** events replayed at most on resume; older missed ones are announced by a `truncated` frame */
  replayLimit?: number
  /** how often open streams are checked against their token's expiry and their user's standing */
  authCheckMs?: number
}

/** The 200 answer, for the OpenAPI description only: the handler writes the frames itself. */
const EventStream = {
  description: 'Server-Sent Events: `tracking`, `positions` and `truncated` frames and `: heartbeat` comments (see docs/live.md)',
  content: { 'text/event-stream': { schema: { type: 'string' } } },
}

/** Live frames held while the replay runs; a stream that falls this far behind is closed. */
const MAX_HELD_FRAMES = 10_000

/**
 * How long after a replay the replayed ids are still checked against live frames: a publication
 * of an event the replay already sent may reach this node later than the database did.
 */
const REPLAY_OVERLAP_MS = 60_000

/** What an open stream was authorised with. */
interface StreamAuth { claims: UserClaims, expiresAt: number }

const messageOf = ({ id, type, ts, source, shipmentId, stopId, vehicleId, deviceId, payload }: TrackingEventMessage): TrackingEventMessage =>
  ({ id, type, ts, source, shipmentId, stopId, vehicleId, deviceId, payload })

async function filterOf(request: FastifyRequest, q: StreamQuery): Promise<LiveFilter> {
  const types = eventTypesOf(q)
  const filter: LiveFilter = {
    positions: q.positions,
    ...(q.deviceId ? { deviceId: q.deviceId } : {}),
    ...(q.vehicleId ? { vehicleId: q.vehicleId } : {}),
    ...(types ? { types } : {}),
  }
  if (q.shipmentId) {
    const shipment = await request.db.shipment.findUnique({ where: { id: q.shipmentId }, select: { id: true, deviceId: true, vehicleId: true } })
    if (!shipment) throw notFound('shipment')
    filter.shipmentId = shipment.id
    filter.shipmentAsset = { deviceId: shipment.deviceId, vehicleId: shipment.vehicleId }
  }
  return filter
}

const eventQueryOf = (f: LiveFilter): EventQuery => ({
  ...(f.shipmentId ? { shipmentId: f.shipmentId } : {}), ...(f.deviceId ? { deviceId: f.deviceId } : {}),
  ...(f.vehicleId ? { vehicleId: f.vehicleId } : {}), ...(f.types ? { types: f.types } : {}),
})

const stream: FastifyPluginAsync<StreamOptions> = async (fastify, { ctx, heartbeatMs = 15_000, replayLimit = 1000, authCheckMs = 5000 }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const open = new Map<SseWriter, StreamAuth>()
  /** set when the server starts closing: a request still setting up its stream then ends it at once */
  let closing = false

  // one timer for every open stream: an expired token or a revoked user ends the stream
  const checkStreams = () => {
    const now = Date.now()
    for (const [sse, auth] of open) {
      if (now >= auth.expiresAt) { sse.comment('token expired'); sse.close(); continue }
      fastify.userStatus.get(auth.claims.tid, auth.claims.sub).then((status) => {
        if (revokedBecause(auth.claims, status)) { sse.comment('session revoked'); sse.close() }
      }, (err: unknown) => fastify.log.warn({ err }, 'live stream: checking the user failed; the stream stays open'))
    }
  }
  const authCheck = setInterval(checkStreams, authCheckMs)
  authCheck.unref()
  // hijacked responses are not idle connections: app.close() would wait for them forever
  app.addHook('preClose', async () => {
    closing = true
    clearInterval(authCheck)
    for (const s of open.keys()) s.close()
  })

  app.get('/stream', {
    schema: {
      tags: ['live'], summary: 'Live tracking events and positions of your tenant (text/event-stream); resume with Last-Event-ID',
      querystring: StreamQuery, headers: StreamHeaders, response: { 200: EventStream, ...errors(400, 401, 403, 404, 409) },
    },
    config: { access: 'read' },
  }, async (request, reply) => {
    const live = ctx.live
    if (!live) throw new AppError(409, 'NO_LIVE_STREAM', 'this node runs no live stream')
    const tenantId = request.principal.tid
    const filter = await filterOf(request, request.query)
    const header = request.headers['last-event-id']
    const resumeAfter = typeof header === 'string' ? Number(header) : request.query.lastEventId

    const claims = request.userPrincipal
    const exp = (claims as UserClaims & { exp?: unknown }).exp
    const expiresAt = typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY
    reply.hijack()
    if (closing) {
      // preClose already ended the open streams: this one, set up meanwhile, would hold the server
      // open. An empty stream that ends (not a 503, after which EventSource gives up) makes the
      // client reconnect to another node; `connection: close` so no idle socket delays the close.
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'close' })
      reply.raw.end('retry: 3000\n\n')
      return
    }
    const sse = new SseWriter(reply.raw, { heartbeatMs, maxBufferedBytes: 1024 * 1024 })
    open.set(sse, { claims, expiresAt })
    const write = (frame: LiveFrame) => {
      if (frame.kind === 'event') sse.send('tracking', JSON.stringify(frame.event), String(frame.event.id))
      else sse.send('positions', JSON.stringify(frame.positions))
    }
    // On resume the client has every event up to resumeAfter, and the replay sends some after it:
    // a live frame of one of those (its publication reached this node after the database did, or
    // after the client moved here from another node) would be a duplicate.
    let replayed: Set<number> | null = null
    let replayedUntil = 0
    const isNew = (frame: LiveFrame): boolean => {
      if (frame.kind !== 'event' || resumeAfter === undefined) return true
      if (frame.event.id <= resumeAfter) return false
      if (replayed && Date.now() > replayedUntil) replayed = null // the overlap is over: free the ids
      return !replayed?.has(frame.event.id)
    }
    // subscribe before the replay query so nothing stored meanwhile falls between the two
    let held: LiveFrame[] | null = resumeAfter !== undefined ? [] : null
    const unsubscribe = live.subscribe(tenantId, filter, (frame) => {
      if (!held) { if (isNew(frame)) write(frame); return }
      if (held.length >= MAX_HELD_FRAMES) return sse.close()
      held.push(frame)
    })
    sse.onClose(() => { unsubscribe(); open.delete(sse) })
    sse.open()
    if (resumeAfter === undefined) return

    try {
      const replay = await eventsAfter(ctx.db.pool, tenantId, resumeAfter, eventQueryOf(filter), replayLimit)
      const first = replay.events[0]
      if (replay.truncated && first) sse.send('truncated', JSON.stringify({ lastEventId: resumeAfter, replayedFrom: first.id }))
      for (const e of replay.events) write({ kind: 'event', event: messageOf(e) })
      replayed = new Set(replay.events.map((e) => e.id))
      replayedUntil = Date.now() + REPLAY_OVERLAP_MS
      for (const frame of held ?? []) if (isNew(frame)) write(frame)
      held = null
    } catch (err) {
      request.log.error({ err }, 'live stream replay failed')
      sse.close()
    }
  })
}
export default stream
