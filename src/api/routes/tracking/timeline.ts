// GET /shipments/:id/timeline: what happened to a shipment, in event-time order.
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { badRequest, notFound } from '../../../errors.js'
import { keyOf, timeline } from '../../../db/read-models.js'
import { IdParams, errors } from '../../schemas/common.js'
import type { ApiContext } from '../../context.js'
import { eventCursor, parseEventCursor } from './paging.js'
import { Timeline, TimelineQuery } from './schemas.js'

const timelineRoute: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/shipments/:id/timeline', {
    schema: {
      tags: ['shipments'],
      summary: 'The shipment\'s events in event-time order (ts, then id): its own, plus events its device sent during the trip',
      params: IdParams, querystring: TimelineQuery, response: { 200: Timeline, ...errors(400, 401, 403, 404) },
    },
    config: { access: 'read' },
  }, async (request) => {
    const { limit } = request.query
    if (request.query.after && request.query.before) throw badRequest('give either after or before, not both')
    const after = parseEventCursor(request.query.after, 'after')
    const before = parseEventCursor(request.query.before, 'before')
    const shipment = await request.db.shipment.findUnique({
      where: { id: request.params.id }, select: { id: true, deviceId: true, vehicleId: true, createdAt: true, startedAt: true, deliveredAt: true, cancelledAt: true },
    })
    if (!shipment) throw notFound('shipment')
    // the trip spans creation (or an earlier start: tracks may be replayed after the fact) to its end
    const from = shipment.startedAt && shipment.startedAt < shipment.createdAt ? shipment.startedAt : shipment.createdAt
    const page = await timeline(ctx.db.pool, request.principal.tid, {
      shipmentId: shipment.id, deviceId: shipment.deviceId, vehicleId: shipment.vehicleId, from, to: shipment.deliveredAt ?? shipment.cancelledAt ?? null,
    }, { limit, ...(after ? { after } : {}), ...(before ? { before } : {}) })
    const first = page.items[0]
    const last = page.items.at(-1)
    // after a cursor there is at least that item on the other side; from the start there is nothing before
    const moreAfter = before ? true : page.hasMore
    const moreBefore = after ? true : before ? page.hasMore : false
    return {
      items: page.items,
      nextCursor: moreAfter && last ? eventCursor(keyOf(last)) : null,
      prevCursor: moreBefore && first ? eventCursor(keyOf(first)) : null,
    }
  })
}
export default timelineRoute
