// GET /events: the tenant's tracking events, filtered and keyset-paged.
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { keyOf, listEvents } from '../../../db/read-models.js'
import { errors } from '../../schemas/common.js'
import type { ApiContext } from '../../context.js'
import { eventCursor, parseEventCursor, timeRange } from './paging.js'
import { EventPage, EventsQuery, eventTypesOf } from './schemas.js'

const events: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/events', {
    schema: {
      tags: ['events'], summary: 'List tracking events (newest first unless order=asc), by type, shipment, device, vehicle and event time',
      querystring: EventsQuery, response: { 200: EventPage, ...errors(400, 401, 403) },
    },
    config: { access: 'read' },
  }, async (request) => {
    const q = request.query
    const types = eventTypesOf(q)
    const order = q.order ?? 'desc'
    const after = parseEventCursor(q.cursor)
    const page = await listEvents(ctx.db.pool, request.principal.tid, {
      ...timeRange(q.from, q.to), order, limit: q.limit,
      ...(types ? { types } : {}),
      ...(q.shipmentId ? { shipmentId: q.shipmentId } : {}),
      ...(q.deviceId ? { deviceId: q.deviceId } : {}),
      ...(q.vehicleId ? { vehicleId: q.vehicleId } : {}),
      ...(after ? { after } : {}),
    })
    const last = page.items.at(-1)
    return { items: page.items, nextCursor: page.hasMore && last ? eventCursor(keyOf(last)) : null }
  })
}
export default events
