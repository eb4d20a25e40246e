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

/** An ISO date-time the schema accepted but Date cannot hold (e.g. a leap second) is still a 400, not a 500. */
export function instant(field: string, value: string | null | undefined): Date | null | undefined {
  if (value === null || value === undefined) return value
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) throw new AppError(400, 'VALIDATION', `${field} is not a valid date-time`)
  return date
}
