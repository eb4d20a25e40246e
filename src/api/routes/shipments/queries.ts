// Reading shipments. A page of the list is two queries whatever its size (rows with their stop
// count and next pending stop, and the total), never one per shipment.
import { containsText } from '../../../db/like.js'
import type { TenantDb } from '../../../db/tenant-scope.js'
import { notFound } from '../../../errors.js'
import type { Prisma } from '../../../generated/prisma/client.js'
import type { LineStringGeometry } from '../geofences/geometry.js'
import { instant } from './caller.js'
import { assertOrdered } from './rules.js'
import type { ListQuery } from './schemas.js'

export function listWhere(q: Omit<ListQuery, 'limit' | 'offset'>): Prisma.ShipmentWhereInput {
  assertOrdered('createdFrom', q.createdFrom, 'createdTo', q.createdTo)
  const from = instant('createdFrom', q.createdFrom)
  const to = instant('createdTo', q.createdTo)
  return {
    ...(q.status?.length ? { status: { in: q.status } } : {}),
    ...(q.q ? { reference: containsText(q.q) } : {}),
    ...(q.carrierId ? { carrierId: q.carrierId } : {}),
    ...(q.vehicleId ? { vehicleId: q.vehicleId } : {}),
    ...(q.driverId ? { driverId: q.driverId } : {}),
    ...(q.deviceId ? { deviceId: q.deviceId } : {}),
    ...(from || to ? { createdAt: { ...(from ? { gte: from } : {}), ...(to ? { lte: to } : {}) } } : {}),
  }
}

export async function listShipments(db: TenantDb, { limit, offset, ...filters }: ListQuery) {
  const where = listWhere(filters)
  const [rows, total] = await Promise.all([
    db.shipment.findMany({
      where,
      omit: { route: true },
      include: {
        _count: { select: { stops: true } },
        // the related rows of a whole page come in one query (Prisma batches an include)
        stops: { where: { status: 'pending' }, orderBy: { seq: 'asc' }, take: 1, select: { id: true, seq: true, name: true, eta: true, etaStatus: true } },
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      take: limit,
      skip: offset,
    }),
    db.shipment.count({ where }),
  ])
  // a closed shipment goes nowhere next, even with stops left pending (a proof of delivery, a cancel)
  const closed = (status: string) => status === 'delivered' || status === 'cancelled'
  const items = rows.map(({ _count, stops, ...shipment }) => ({ ...shipment, stopsCount: _count.stops, nextStop: closed(shipment.status) ? null : stops[0] ?? null }))
  return { items, total, limit, offset }
}

const stopInclude = { geofence: { select: { id: true } } } as const
type StopRow = Prisma.StopGetPayload<{ include: typeof stopInclude }>

/** A stop as the API shows it: every column plus the id of its fence. */
export const stopView = ({ geofence, ...stop }: StopRow) => ({ ...stop, geofenceId: geofence?.id ?? null })

export async function getShipment(db: Pick<TenantDb, 'shipment'>, id: string) {
  const shipment = await db.shipment.findUnique({ where: { id }, include: { stops: { orderBy: { seq: 'asc' }, include: stopInclude } } })
  if (!shipment) throw notFound('shipment')
  // the column is written only through parseLineString (commands.ts), so it holds a LineString or null
  return { ...shipment, route: shipment.route as LineStringGeometry | null, stops: shipment.stops.map(stopView) }
}

export async function getStop(db: Pick<TenantDb, 'stop'>, shipmentId: string, stopId: string) {
  const stop = await db.stop.findFirst({ where: { id: stopId, shipmentId }, include: { ...stopInclude, shipment: { select: { status: true } } } })
  if (!stop) throw notFound('stop')
  return stop
}
