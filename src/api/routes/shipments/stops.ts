// Changing one stop of a shipment. Only a pending stop changes: once the vehicle arrived, the stop
// is history. Its name and radius are also its fence's, so both change in one transaction.
import { storedEventOf } from '../../../db/tracking-events.js'
import { addWebhookDeliveries } from '../../../webhooks/outbox.js'
import { AppError } from '../../../errors.js'
import type { ShipmentStatus } from '../../../generated/prisma/enums.js'
import { announce, instant, type Caller } from './caller.js'
import { getStop, stopView } from './queries.js'
import { assertOpen, assertOrdered } from './rules.js'
import type { UpdateStop } from './schemas.js'

const notPending = (status: string) => new AppError(409, 'STOP_NOT_PENDING', `only a pending stop can change; this one is ${status}`)

async function pendingStop(c: Caller, shipmentId: string, stopId: string, action: string) {
  const stop = await getStop(c.db, shipmentId, stopId)
  assertOpen(stop.shipment, action)
  if (stop.status !== 'pending') throw notPending(stop.status)
  return stop
}

export async function updateStop(c: Caller, shipmentId: string, stopId: string, patch: UpdateStop) {
  const stop = await pendingStop(c, shipmentId, stopId, 'change its stops')
  const { windowStart, windowEnd, ...rest } = patch
  const start = windowStart !== undefined ? instant('windowStart', windowStart) : stop.windowStart
  const end = windowEnd !== undefined ? instant('windowEnd', windowEnd) : stop.windowEnd
  assertOrdered('windowStart', start, 'windowEnd', end)
  const fence = {
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.radiusM !== undefined ? { radiusM: patch.radiusM } : {}),
  }
  const fenceChanged = Object.keys(fence).length > 0
  await c.db.$transaction(async (tx) => {
    // pending in the WHERE: the processing core may mark the stop arrived meanwhile
    const { count } = await tx.stop.updateMany({ where: { id: stopId, status: 'pending' }, data: { ...rest, windowStart: start, windowEnd: end } })
    if (count === 0) throw notPending('no longer pending')
    if (fenceChanged) await tx.geofence.updateMany({ where: { stopId }, data: fence })
  })
  announce(c, shipmentId, fenceChanged && stop.geofence ? [stop.geofence.id] : [])
  return stopView(await getStop(c.db, shipmentId, stopId))
}

/** Statuses a shipment under way may have; skipping its last open stop then completes it. */
const UNDER_WAY: ShipmentStatus[] = ['in_transit', 'at_stop', 'exception']

export async function skipStop(c: Caller, shipmentId: string, stopId: string) {
  const stop = await pendingStop(c, shipmentId, stopId, 'skip its stops')
  const ts = new Date()
  const events = await c.db.$transaction(async (tx) => {
    const { count } = await tx.stop.updateMany({ where: { id: stopId, status: 'pending' }, data: { status: 'skipped', eta: null, etaStatus: 'unknown' } })
    if (count === 0) throw notPending('no longer pending')
    const shipment = await tx.shipment.findUniqueOrThrow({ where: { id: shipmentId }, select: { status: true, reference: true, vehicleId: true, deviceId: true } })
    const base = { tenantId: c.tenantId, shipmentId, vehicleId: shipment.vehicleId, deviceId: shipment.deviceId, ts, source: 'user' as const, userId: c.userId }
    // the context the processing core's milestones carry (src/core/features/stop-milestones.ts)
    const context = { reference: shipment.reference, stop: { seq: stop.seq, type: stop.type, name: stop.name } }
    // on the shipment's timeline beside the events the processing core records
    const rows = [await tx.trackingEvent.create({ data: { ...base, type: 'stop_skipped', stopId, payload: context } })]
    // the last open stop of a shipment under way: nothing is left to depart from, so it is done now,
    // by the rule the processing core applies (every stop departed or skipped = delivered), with the
    // same events: delivered (a webhook filtered on milestones learns it too), then the status
    const open = await tx.stop.count({ where: { shipmentId, status: { in: ['pending', 'arrived'] } } })
    if (open === 0 && UNDER_WAY.includes(shipment.status)) {
      const done = await tx.shipment.updateMany({ where: { id: shipmentId, status: shipment.status }, data: { status: 'delivered', deliveredAt: ts } })
      if (done.count === 1) {
        rows.push(await tx.trackingEvent.create({ data: { ...base, type: 'delivered', stopId, payload: { ...context, by: 'skip' } } }))
        rows.push(await tx.trackingEvent.create({ data: { ...base, type: 'shipment_status', payload: { reference: shipment.reference, from: shipment.status, to: 'delivered' } } }))
      }
    }
    await addWebhookDeliveries(tx, c.tenantId, rows)
    return rows
  })
  announce(c, shipmentId, [], events.map(storedEventOf))
  return stopView(await getStop(c.db, shipmentId, stopId))
}
