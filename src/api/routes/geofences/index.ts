// Geofences: circles, polygons (with holes) and corridors of the tenant, plus the circle every
// shipment stop gets. The routes are the generic ones of crud.ts; the rules are in store.ts.
import type { FastifyPluginAsync } from 'fastify'
import { containsText } from '../../../db/like.js'
import type { ApiContext } from '../../context.js'
import { crudRoutes, updateOf } from '../crud.js'
import { CreateGeofence, Geofence, GeofenceFilters } from './schemas.js'
import { geofenceStore } from './store.js'

const geofences: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  crudRoutes(app, {
    noun: 'geofence', tag: 'geofences', item: Geofence, createBody: CreateGeofence, updateBody: updateOf(CreateGeofence),
    filters: GeofenceFilters,
    where: (q) => ({
      ...(q['kind'] ? { kind: q['kind'] } : {}),
      ...(q['q'] ? { name: containsText(q['q'] as string) } : {}),
      ...(q['stop'] !== undefined ? { stopId: q['stop'] ? { not: null } : null } : {}),
      ...(q['shipmentId'] ? { stop: { shipmentId: q['shipmentId'] } } : {}),
    }),
    delegate: (db) => geofenceStore(db, ctx.changes),
  })
}
export default geofences
