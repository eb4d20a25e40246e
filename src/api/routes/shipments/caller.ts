// Who is changing a shipment, and how the rest of the process hears about it.
import type { FastifyRequest } from 'fastify'
import type { TenantDb } from '../../../db/tenant-scope.js'
import { AppError } from '../../../errors.js'
import type { ApiContext, ChangeNotifier } from '../../context.js'
import type { StoredTrackingEvent } from '../../../db/tracking-events.js'

export interface Caller {
  db: TenantDb
  tenantId: string
  userId: string
  changes: ChangeNotifier | undefined
  live: ApiContext['live']
}

export function callerOf(request: FastifyRequest, ctx: Pick<ApiContext, 'changes' | 'live'>): Caller {
  const user = request.userPrincipal
  return { db: request.db, tenantId: user.tid, userId: user.sub, changes: ctx.changes, live: ctx.live }
}

/**
 * After the commit, never inside the transaction: a listener reloading the shipment must see the
 * change, and live subscribers must never see an event that was rolled back.
 */
export function announce(c: Caller, shipmentId: string, fenceIds: string[] = [], events: StoredTrackingEvent[] = []): void {
  c.changes?.changed({ kind: 'shipment', tenantId: c.tenantId, id: shipmentId })
  for (const id of fenceIds) c.changes?.changed({ kind: 'geofence', tenantId: c.tenantId, id })
  if (events.length > 0) c.live?.publishEvents(events)
}

/** Years the database takes as written: the schema's date-time format allows year 0 and offsets that push 9999 into 10000. */
const EARLIEST = new Date('0001-01-01T00:00:00Z').getTime()
const LATEST = new Date('9999-12-31T23:59:59.999Z').getTime()

/**
 * An ISO date-time the schema accepted but Date cannot hold (a leap second) or the database cannot
 * store (year 0, past 9999) is still a 400, not a 500.
 */
export function instant(field: string, value: string | null | undefined): Date | null | undefined {
  if (value === null || value === undefined) return value
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) throw new AppError(400, 'VALIDATION', `${field} is not a valid date-time`)
  if (date.getTime() < EARLIEST || date.getTime() > LATEST) throw new AppError(400, 'VALIDATION', `${field} must be between years 0001 and 9999 (UTC)`)
  return date
}
