// Manual events on a shipment (exceptions, proof of delivery, comments), stored in one transaction
// with the status change they cause, so the timeline and the shipment's status never disagree.
import { AppError, conflict, notFound } from '../../../errors.js'
import type { TenantDb } from '../../../db/tenant-scope.js'
import { storedEventOf, type StoredTrackingEvent } from '../../../db/tracking-events.js'
import { addWebhookDeliveries } from '../../../webhooks/outbox.js'
import type { Prisma } from '../../../generated/prisma/client.js'
import type { ShipmentStatus } from '../../../generated/prisma/enums.js'
import { instant } from '../shipments/caller.js'
import { assertOpen } from '../shipments/rules.js'
import type { ManualEvent } from './schemas.js'

export interface Author { tenantId: string, userId: string }

/** A proof of delivery may be entered a little ahead of the server's clock, not from the future. */
const FUTURE_SLACK_MS = 5 * 60_000

interface Row { type: string, ts: Date, payload: Prisma.InputJsonObject }

function deliveryTime(value: string, now: number): Date {
  const time = instant('time', value)!
  if (time.getTime() > now + FUTURE_SLACK_MS) throw new AppError(400, 'INVALID_TIME', 'time is in the future')
  return time
}

/** What the event does: the rows to store and the status it moves the shipment to (if any). */
function plan(s: { status: ShipmentStatus }, body: ManualEvent, now: number): { rows: Row[], next: { status: ShipmentStatus, deliveredAt?: Date } | null } {
  switch (body.type) {
    case 'exception':
      assertOpen(s, 'record an exception')
      return {
        rows: [{ type: 'exception', ts: new Date(now), payload: { code: body.code, note: body.note ?? null } }],
        next: s.status === 'exception' ? null : { status: 'exception' },
      }
    case 'proof_of_delivery': {
      if (s.status === 'cancelled') throw new AppError(409, 'SHIPMENT_CLOSED', 'cannot record a proof of delivery: the shipment is cancelled')
      const time = deliveryTime(body.time, now)
      const pod: Row = { type: 'proof_of_delivery', ts: time, payload: { name: body.name, time: time.toISOString(), note: body.note ?? null } }
      // an already delivered shipment keeps its delivery; the proof is added to the record
      if (s.status === 'delivered') return { rows: [pod], next: null }
      return { rows: [pod, { type: 'delivered', ts: time, payload: { by: 'proof_of_delivery' } }], next: { status: 'delivered', deliveredAt: time } }
    }
    case 'comment':
      return { rows: [{ type: 'comment', ts: new Date(now), payload: { text: body.text } }], next: null }
  }
}

export async function recordManualEvent(db: TenantDb, who: Author, shipmentId: string, body: ManualEvent, now = Date.now()) {
  return db.$transaction(async (tx) => {
    const s = await tx.shipment.findUnique({ where: { id: shipmentId }, select: { id: true, reference: true, status: true, vehicleId: true, deviceId: true, deliveredAt: true } })
    if (!s) throw notFound('shipment')
    const { rows, next } = plan(s, body, now)
    if (next) {
      // guarded by the status just read: the processing core may move the shipment meanwhile
      const { count } = await tx.shipment.updateMany({ where: { id: s.id, status: s.status }, data: next })
      if (count === 0) throw conflict('the shipment changed while the event was being recorded; read it again and retry')
      rows.push({ type: 'shipment_status', ts: next.deliveredAt ?? new Date(now), payload: { from: s.status, to: next.status } })
    }
    const base = { tenantId: who.tenantId, shipmentId: s.id, vehicleId: s.vehicleId, deviceId: s.deviceId, source: 'user' as const, userId: who.userId }
    // the shipment's reference, as in the processing core's events, before the event's own fields
    const created = await tx.trackingEvent.createManyAndReturn({ data: rows.map((r) => ({ ...base, ...r, payload: { reference: s.reference, ...r.payload } })) })
    await addWebhookDeliveries(tx, who.tenantId, created)
    const events: StoredTrackingEvent[] = created.map(storedEventOf).sort((a, b) => a.id - b.id)
    return {
      shipment: { id: s.id, status: next?.status ?? s.status, deliveredAt: next?.deliveredAt ?? s.deliveredAt },
      events, statusChanged: next !== null,
    }
  })
}
