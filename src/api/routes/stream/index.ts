// GET /stream: the tenant's live events and positions as Server-Sent Events.
//   event: tracking   id: <event id>   data: TrackingEventMessage
//   event: positions                  data: [{ deviceId, vehicleId?, ts, lat, lon, speed, heading }]
//   event: truncated                  data: { lastEventId, replayedFrom } (the replay was cut short)
//   : heartbeat                       every 15 s, so proxies and clients see a live connection
// With Last-Event-ID (header) or lastEventId (query) the stored events after it are replayed
// first; live frames arriving meanwhile wait and are sent after, without duplicates.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { AppError, notFound } from '../../../errors.js'
import { eventsAfter, type EventQuery } from '../../../db/read-models.js'
import type { TrackingEventMessage } from '../../../contracts/payloads.js'
import type { LiveFilter } from '../../../live/filter.js'
import type { LiveFrame } from '../../../live/frames.js'
import { errors } from '../../schemas/common.js'
import type { ApiContext } from '../../context.js'
import { SseWriter } from './sse.js'
import { StreamHeaders, StreamQuery } from './schemas.js'

export interface StreamOptions {
  ctx: ApiContext
  heartbeatMs?: number
  /** events replayed at most on resume; older missed ones are announced by a `truncated` frame */
  replayLimit?: number
}

/** The 200 answer, for the OpenAPI description only: the handler writes the frames itself. */
const EventStream = {
  description: 'Server-Sent Events: `tracking`, `positions` and `truncated` frames and `: heartbeat` comments (see docs/live.md)',
  content: { 'text/event-stream': { schema: { type: 'string' } } },
}

/** Live frames held while the replay runs; a stream that falls this far behind is closed. */
const MAX_HELD_FRAMES = 10_000

const messageOf = ({ id, type, ts, source, shipmentId, stopId, vehicleId, deviceId, payload }: TrackingEventMessage): TrackingEventMessage =>
  ({ id, type, ts, source, shipmentId, stopId, vehicleId, deviceId, payload })

async function filterOf(request: FastifyRequest, q: StreamQuery): Promise<LiveFilter> {
  const filter: LiveFilter = {
    positions: q.positions,
    ...(q.deviceId ? { deviceId: q.deviceId } : {}),
    ...(q.vehicleId ? { vehicleId: q.vehicleId } : {}),
    ...(q.types ? { types: q.types.split(',') } : {}),
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

const stream: FastifyPluginAsync<StreamOptions> = async (fastify, { ctx, heartbeatMs = 15_000, replayLimit = 1000 }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const open = new Set<SseWriter>()
  // hijacked responses are not idle connections: app.close() would wait for them forever
  app.addHook('preClose', async () => { for (const s of open) s.close() })

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

    reply.hijack()
    const sse = new SseWriter(reply.raw, { heartbeatMs, maxBufferedBytes: 1024 * 1024 })
    open.add(sse)
    const write = (frame: LiveFrame) => {
      if (frame.kind === 'event') sse.send('tracking', JSON.stringify(frame.event), String(frame.event.id))
      else sse.send('positions', JSON.stringify(frame.positions))
    }
    // subscribe before the replay query so nothing stored meanwhile falls between the two
    let held: LiveFrame[] | null = resumeAfter !== undefined ? [] : null
    const unsubscribe = live.subscribe(tenantId, filter, (frame) => {
      if (!held) return write(frame)
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
      const replayed = new Set(replay.events.map((e) => e.id))
      for (const frame of held ?? []) if (frame.kind !== 'event' || !replayed.has(frame.event.id)) write(frame)
      held = null
    } catch (err) {
      request.log.error({ err }, 'live stream replay failed')
      sse.close()
    }
  })
}
export default stream
