// A webhook's deliveries: what was sent, what is waiting and what was given up, newest event
// first (keyset-paged on the event id, like the other feeds), a failed one put back in line, and a
// pending one made due now (its backoff dropped).
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { AppError, notFound } from '../../../errors.js'
import type { TenantDb } from '../../../db/tenant-scope.js'
import { errors } from '../../schemas/common.js'
import type { ApiContext } from '../../context.js'
import { makeDueNow, leaseMsFor } from '../../../webhooks/store.js'
import { deliveryCursor, parseDeliveryCursor } from '../tracking/paging.js'
import { DeliveriesQuery, Delivery, DeliveryPage, DeliveryParams, WebhookParams } from './schemas.js'

interface Row {
  id: bigint, eventId: bigint, status: 'pending' | 'delivered' | 'failed', attempts: number, nextAttemptAt: Date, lastAttemptAt: Date | null,
  lastStatusCode: number | null, lastError: string | null, deliveredAt: Date | null, createdAt: Date
}

/** The rows as the API shows them, with their events' types (read in one query: deliveries have no relation to events). */
async function views(db: TenantDb, rows: Row[]) {
  const events = await db.trackingEvent.findMany({ where: { id: { in: rows.map((d) => d.eventId) } }, select: { id: true, type: true } })
  const types = new Map(events.map((e) => [e.id, e.type]))
  return rows.map((d) => ({
    id: Number(d.id), eventId: Number(d.eventId), eventType: types.get(d.eventId) ?? '', status: d.status, attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null, lastAttemptAt: d.lastAttemptAt,
    lastStatusCode: d.lastStatusCode, lastError: d.lastError, deliveredAt: d.deliveredAt, createdAt: d.createdAt,
  }))
}

async function assertWebhook(db: TenantDb, id: string): Promise<void> {
  if (!await db.webhook.findUnique({ where: { id }, select: { id: true } })) throw notFound('webhook')
}

const deliveries: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['webhooks']

  app.get('/:id/deliveries', {
    schema: {
      tags, summary: 'A webhook\'s deliveries, newest event first; `status` narrows to pending, delivered or failed',
      params: WebhookParams, querystring: DeliveriesQuery, response: { 200: DeliveryPage, ...errors(400, 401, 403, 404) },
    },
    config: { access: 'read' },
  }, async (request) => {
    const { status, limit, cursor } = request.query
    const before = parseDeliveryCursor(cursor)
    await assertWebhook(request.db, request.params.id)
    const rows = await request.db.webhookDelivery.findMany({
      where: { webhookId: request.params.id, ...(status ? { status } : {}), ...(before !== undefined ? { eventId: { lt: before } } : {}) },
      orderBy: { eventId: 'desc' }, take: limit + 1,
    })
    const items = rows.slice(0, limit)
    const last = items.at(-1)
    return { items: await views(request.db, items), nextCursor: rows.length > limit && last ? deliveryCursor(Number(last.eventId)) : null }
  })

  app.post('/:id/deliveries/:deliveryId/retry', {
    schema: {
      tags,
      summary: 'Retry a delivery now. A failed one is put back in line: it is attempted again (once more, if it is older than WEBHOOK_MAX_AGE_S) before the webhook\'s later events. '
        + 'A pending one waiting for its next attempt (backoff) is made due now: the dispatcher takes it at its next poll (WEBHOOK_POLL_MS). '
        + 'A pending one being attempted right now is left as it is (its nextAttemptAt is the end of that attempt\'s lease). A delivered one is a 409',
      params: DeliveryParams, response: { 200: Delivery, ...errors(400, 401, 403, 404, 409) },
    },
    config: { access: 'admin' },
  }, async (request) => {
    const { id: webhookId, deliveryId } = request.params
    const where = { id: BigInt(deliveryId), webhookId }
    const { count } = await request.db.webhookDelivery.updateMany({ where: { ...where, status: 'failed' }, data: { status: 'pending', nextAttemptAt: new Date() } })
    if (count === 0) {
      await makeDueNow(ctx.db.pool, { tenantId: request.principal.tid, webhookId, deliveryId: where.id }, leaseMsFor(ctx.config.WEBHOOK_TIMEOUT_MS))
    }
    const row = await request.db.webhookDelivery.findFirst({ where })
    if (!row) throw notFound('delivery')
    if (row.status === 'delivered') throw new AppError(409, 'DELIVERY_NOT_FAILED', 'only a failed or pending delivery can be retried; this one was delivered')
    return (await views(request.db, [row]))[0]!
  })
}
export default deliveries
