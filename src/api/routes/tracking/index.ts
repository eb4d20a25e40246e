// The read side of tracking and manual events. The paths sit under existing resources
// (/shipments/:id/…, /devices/:id/…) but live here, beside the queries they share.
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { IdParams, errors } from '../../schemas/common.js'
import { toMessage } from '../../../live/frames.js'
import type { StoredTrackingEvent } from '../../../db/tracking-events.js'
import type { ApiContext } from '../../context.js'
import events from './events.js'
import latest from './latest.js'
import positions from './positions.js'
import state from './state.js'
import timeline from './timeline.js'
import { recordManualEvent } from './manual.js'
import { ManualEvent, ManualEventResult } from './schemas.js'

const view = (e: StoredTrackingEvent) => ({ ...toMessage(e), userId: e.userId ?? null, createdAt: new Date(e.createdAt).toISOString() })

const tracking: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  await app.register(events, { ctx })
  await app.register(timeline, { ctx })
  await app.register(positions, { ctx })
  await app.register(state, { ctx })
  await app.register(latest, { ctx })

  app.post('/shipments/:id/events', {
    schema: {
      tags: ['shipments'],
      summary: 'Record an exception (status → exception), a proof of delivery (status → delivered if it was not) or a comment',
      params: IdParams, body: ManualEvent, response: { 201: ManualEventResult, ...errors(400, 401, 403, 404, 409) },
    },
    config: { access: 'write' },
  }, async (request, reply) => {
    const user = request.userPrincipal
    const result = await recordManualEvent(request.db, { tenantId: user.tid, userId: user.sub }, request.params.id, request.body)
    // after the commit: live subscribers and integrations must never see an event that was rolled back
    ctx.live?.publishEvents(result.events)
    if (result.statusChanged) ctx.changes?.changed({ kind: 'shipment', tenantId: user.tid, id: result.shipment.id })
    return reply.status(201).send({ shipment: result.shipment, events: result.events.map(view) })
  })
}
export default tracking
