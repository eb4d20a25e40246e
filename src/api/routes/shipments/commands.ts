// Changing shipments: create (with stops and their fences), edit, assign, cancel, delete. Status
// guards are part of the UPDATE's WHERE where it matters, so a change racing the processing core
// (which moves a shipment along as the vehicle drives) fails with 409 instead of overwriting it.
import { storedEventOf } from '../../../db/tracking-events.js'
import { addWebhookDeliveries } from '../../../webhooks/outbox.js'
import type { Config } from '../../../config.js'
import { AppError, conflict, notFound } from '../../../errors.js'
import { Prisma, type Stop } from '../../../generated/prisma/client.js'
import { parseLineString } from '../geofences/geometry.js'
import { announce, instant, type Caller } from './caller.js'
import { getShipment } from './queries.js'
import { CLOSED, DELETABLE, assertAssignable, assertOpen, assertOrdered, assignmentStatus } from './rules.js'
import type { AssignBody, CreateShipment, StopInput, UpdateShipment } from './schemas.js'

export type StopDefaults = Pick<Config, 'STOP_RADIUS_M' | 'STOP_DWELL_S'>

async function assertReferenceFree(c: Caller, reference: string): Promise<void> {
  // the unique index still decides under a race (P2002 → 409); this only gives the clearer message
  if (await c.db.shipment.findFirst({ where: { reference }, select: { id: true } })) {
    throw new AppError(409, 'ALREADY_EXISTS', `a shipment with reference "${reference}" already exists`)
  }
}

async function current(c: Caller, id: string) {
  const shipment = await c.db.shipment.findUnique({ where: { id } })
  if (!shipment) throw notFound('shipment')
  return shipment
}

function stopRow(tenantId: string, shipmentId: string, seq: number, s: StopInput, defaults: StopDefaults): Prisma.StopCreateManyInput {
  const at = `stops[${seq}]`
  return {
    tenantId, shipmentId, seq, type: s.type, name: s.name, address: s.address ?? null, lat: s.lat, lon: s.lon,
    radiusM: s.radiusM ?? defaults.STOP_RADIUS_M, plannedDwellS: s.plannedDwellS ?? defaults.STOP_DWELL_S,
    windowStart: instant(`${at}.windowStart`, s.windowStart) ?? null, windowEnd: instant(`${at}.windowEnd`, s.windowEnd) ?? null,
  }
}

/** Every stop gets a circle around it; the processing core detects arrival and departure with it. */
const stopFence = (stop: Stop): Prisma.GeofenceCreateManyInput => ({
  tenantId: stop.tenantId, stopId: stop.id, name: stop.name, kind: 'circle',
  geometry: { type: 'Point', coordinates: [stop.lon, stop.lat] }, radiusM: stop.radiusM,
})

export async function createShipment(c: Caller, defaults: StopDefaults, input: CreateShipment) {
  assertOrdered('tempMinC', input.tempMinC, 'tempMaxC', input.tempMaxC)
  input.stops.forEach((s, i) => assertOrdered(`stops[${i}].windowStart`, s.windowStart, `stops[${i}].windowEnd`, s.windowEnd))
  const route = input.route ? parseLineString(input.route, 'route') : undefined
  await assertAssignable(c.db, input)
  await assertReferenceFree(c, input.reference)

  const { stops, route: _raw, ...fields } = input
  const status = input.vehicleId || input.deviceId ? 'assigned' : 'planned'
  const { id, fenceIds } = await c.db.$transaction(async (tx) => {
    const shipment = await tx.shipment.create({ data: { ...fields, tenantId: c.tenantId, status, route } })
    const rows = await tx.stop.createManyAndReturn({ data: stops.map((s, seq) => stopRow(c.tenantId, shipment.id, seq, s, defaults)) })
    const fences = await tx.geofence.createManyAndReturn({ data: rows.map(stopFence), select: { id: true } })
    return { id: shipment.id, fenceIds: fences.map((f) => f.id) }
  })
  announce(c, id, fenceIds)
  return getShipment(c.db, id)
}

export async function updateShipment(c: Caller, id: string, patch: UpdateShipment) {
  const shipment = await current(c, id)
  // notes stay editable on a closed shipment (a remark after delivery); the plan does not
  if (Object.keys(patch).some((k) => k !== 'notes')) assertOpen(shipment, 'change its reference, route or temperature range')
  assertOrdered('tempMinC', patch.tempMinC !== undefined ? patch.tempMinC : shipment.tempMinC,
    'tempMaxC', patch.tempMaxC !== undefined ? patch.tempMaxC : shipment.tempMaxC)
  const route = patch.route ? parseLineString(patch.route, 'route') : patch.route === null ? Prisma.DbNull : undefined
  if (patch.reference !== undefined && patch.reference !== shipment.reference) await assertReferenceFree(c, patch.reference)
  await c.db.shipment.update({ where: { id }, data: { ...patch, route } })
  announce(c, id)
  return getShipment(c.db, id)
}

export async function assignShipment(c: Caller, id: string, body: AssignBody) {
  const shipment = await current(c, id)
  assertOpen(shipment, 'assign it')
  await assertAssignable(c.db, body)
  // what the shipment carries once assigned: the body's assets, the current ones where it names none
  const assets = {
    vehicleId: body.vehicleId !== undefined ? body.vehicleId : shipment.vehicleId,
    deviceId: body.deviceId !== undefined ? body.deviceId : shipment.deviceId,
  }
  const status = assignmentStatus(shipment.status, assets)
  const events = await c.db.$transaction(async (tx) => {
    const { count } = await tx.shipment.updateMany({ where: { id, status: shipment.status }, data: { ...body, status } })
    if (count === 0) throw conflict('the shipment changed while it was being assigned; read it again and retry')
    // a swap of assets on a shipment under way leaves its status, and stores nothing
    if (status === shipment.status) return []
    const changed = await tx.trackingEvent.create({
      data: {
        tenantId: c.tenantId, type: 'shipment_status', shipmentId: id, ...assets,
        ts: new Date(), source: 'user', userId: c.userId, payload: { reference: shipment.reference, from: shipment.status, to: status },
      },
    })
    await addWebhookDeliveries(tx, c.tenantId, [changed])
    return [changed]
  })
  announce(c, id, [], events.map(storedEventOf))
  return getShipment(c.db, id)
}

export async function cancelShipment(c: Caller, id: string, reason: string | undefined) {
  const ts = new Date()
  const events = await c.db.$transaction(async (tx) => {
    const shipment = await tx.shipment.findUnique({ where: { id } })
    if (!shipment) throw notFound('shipment')
    if (shipment.status === 'cancelled') throw new AppError(409, 'SHIPMENT_CLOSED', 'the shipment is already cancelled')
    assertOpen(shipment, 'cancel it')
    const { count } = await tx.shipment.updateMany({ where: { id, status: { notIn: CLOSED } }, data: { status: 'cancelled', cancelledAt: ts } })
    if (count === 0) throw conflict('the shipment was closed while it was being cancelled')
    const base = { tenantId: c.tenantId, shipmentId: id, vehicleId: shipment.vehicleId, deviceId: shipment.deviceId, ts, source: 'user' as const, userId: c.userId }
    const cancelled = await tx.trackingEvent.create({
      data: { ...base, type: 'shipment_cancelled', payload: { reference: shipment.reference, reason: reason ?? null } },
    })
    // like every status change (the catalogue's shipment_status), after the event that caused it
    const changed = await tx.trackingEvent.create({
      data: { ...base, type: 'shipment_status', payload: { reference: shipment.reference, from: shipment.status, to: 'cancelled' } },
    })
    await addWebhookDeliveries(tx, c.tenantId, [cancelled, changed])
    return [cancelled, changed]
  })
  announce(c, id, [], events.map(storedEventOf))
  return getShipment(c.db, id)
}

export async function deleteShipment(c: Caller, id: string): Promise<void> {
  const shipment = await current(c, id)
  if (!DELETABLE.includes(shipment.status)) {
    throw new AppError(409, 'SHIPMENT_NOT_DELETABLE', `only planned, assigned or cancelled shipments can be deleted; this one is ${shipment.status} (cancel it first)`)
  }
  // stops and their fences go with the shipment (ON DELETE CASCADE); its events stay in the history
  const fences = await c.db.geofence.findMany({ where: { stop: { shipmentId: id } }, select: { id: true } })
  const { count } = await c.db.shipment.deleteMany({ where: { id, status: { in: DELETABLE } } })
  if (count === 0) throw conflict('the shipment changed while it was being deleted; read it again')
  announce(c, id, fences.map((f) => f.id))
}
