// The geofence table as crudRoutes sees it (its Delegate), with this resource's rules in front of
// the writes: the geometry must fit the kind, stop fences belong to their shipment, and every
// change is announced so the fence index on every node refreshes. Keeping the rules here rather
// than in hooks lets the generic routes stay generic and the rules read in one place.
import type { TenantDb } from '../../../db/tenant-scope.js'
import { AppError, notFound } from '../../../errors.js'
import type { Geofence, Prisma } from '../../../generated/prisma/client.js'
import type { ChangeNotifier } from '../../context.js'
import { fromGeoJSON } from '../../../geo/geojson.js'
import { GeoError } from '../../../geo/errors.js'
import type { Delegate } from '../crud.js'
import { invalidGeometry, parseGeometry, type FenceGeometry } from './geometry.js'
import type { CreateGeofence, GeofenceKind } from './schemas.js'

const geometryFor = { circle: 'Point', polygon: 'Polygon', corridor: 'LineString' } as const

interface FenceParts { kind: GeofenceKind, geometry: unknown, radiusM?: number | null | undefined, widthM?: number | null | undefined }
export interface FenceShape { kind: GeofenceKind, geometry: FenceGeometry, radiusM: number | null, widthM: number | null }

/** Checks that kind, geometry and measures fit together; returns the columns to store. */
export function fenceShape({ kind, geometry: raw, radiusM = null, widthM = null }: FenceParts): FenceShape {
  const geometry = parseGeometry(raw as { type?: unknown, coordinates?: unknown })
  const expected = geometryFor[kind]
  if (geometry.type !== expected) throw invalidGeometry('geometry.type', `a ${kind} fence needs a ${expected} geometry, not a ${geometry.type}`)
  if (kind === 'circle' && radiusM === null) throw invalidGeometry('radiusM', 'a circle fence needs radiusM')
  if (kind !== 'circle' && radiusM !== null) throw invalidGeometry('radiusM', `only circle fences have a radius; a ${kind} has none`)
  if (kind === 'corridor' && widthM === null) throw invalidGeometry('widthM', 'a corridor fence needs widthM (its full width)')
  if (kind !== 'corridor' && widthM !== null) throw invalidGeometry('widthM', `only corridor fences have a width; a ${kind} has none`)
  assertEvaluable({ kind, geometry, radiusM, widthM })
  return { kind, geometry, radiusM, widthM }
}

/**
 * The processing core must be able to evaluate every stored fence: it skips one it cannot (a polygon
 * or corridor spanning 180° of longitude or more, a ring around a pole), and that fence would
 * never fire. Built here with the core's own constructor, so both always agree.
 */
function assertEvaluable(f: FenceShape) {
  try {
    fromGeoJSON(f.kind, f.geometry, f.radiusM ?? undefined, f.widthM ?? undefined)
  } catch (e) {
    if (!(e instanceof GeoError)) throw e
    throw invalidGeometry(e.path ?? 'geometry', e.path ? e.message.slice(e.path.length + 2) : e.message)
  }
}

/**
 * A PATCH on top of the stored fence. Measures of the old kind do not carry over to a new kind
 * (a circle turned polygon loses its radius) so a client changing the kind sends only what the new
 * kind needs.
 */
export function patchedShape(old: Pick<Geofence, 'kind' | 'geometry' | 'radiusM' | 'widthM'>, patch: Partial<CreateGeofence>): FenceShape {
  const kind = patch.kind ?? old.kind
  const sameKind = kind === old.kind
  return fenceShape({
    kind,
    geometry: patch.geometry ?? old.geometry,
    radiusM: patch.radiusM !== undefined ? patch.radiusM : sameKind ? old.radiusM : null,
    widthM: patch.widthM !== undefined ? patch.widthM : sameKind ? old.widthM : null,
  })
}

// crudRoutes calls the delegate with exactly these shapes (see crud.ts); the Delegate interface
// types them as `object` because it serves every resource.
type CreateArgs = { data: CreateGeofence }
type UpdateArgs = { where: { id: string }, data: Partial<CreateGeofence> }
type WhereId = { where: { id: string } }

/** The tenant-scoped client sets tenant_id on every row it creates (db/tenant-scope.ts); this only tells the compiler. */
const scoped = (data: Omit<Prisma.GeofenceUncheckedCreateInput, 'tenantId'>) => data as Prisma.GeofenceUncheckedCreateInput

export function geofenceStore(db: TenantDb, changes: ChangeNotifier | undefined): Delegate {
  const fences = db.geofence
  const announce = (fence: Geofence) => {
    changes?.changed({ kind: 'geofence', tenantId: fence.tenantId, id: fence.id })
    return fence
  }

  /** The fence, if the tenant may change it directly: stop fences change only through their stop. */
  async function changeable(id: string): Promise<Geofence> {
    const fence = await fences.findUnique({ where: { id } })
    if (!fence) throw notFound('geofence')
    if (fence.stopId) {
      const stop = await db.stop.findUnique({ where: { id: fence.stopId }, select: { shipmentId: true } })
      throw new AppError(409, 'STOP_GEOFENCE',
        `geofence ${id} belongs to a shipment stop; change it with PATCH /api/v1/shipments/${stop?.shipmentId ?? '{shipmentId}'}/stops/${fence.stopId} ` +
        '(it is deleted with its shipment)')
    }
    return fence
  }

  return {
    findMany: (args) => fences.findMany(args),
    count: (args) => fences.count(args),
    findUnique: (args) => fences.findUnique(args as WhereId),
    async create(args) {
      const { data } = args as CreateArgs
      return announce(await fences.create({ data: scoped({ ...data, ...fenceShape(data) }) }))
    },
    async update(args) {
      const { where, data } = args as UpdateArgs
      const old = await changeable(where.id)
      return announce(await fences.update({ where, data: { ...data, ...patchedShape(old, data) } }))
    },
    async delete(args) {
      const { where } = args as WhereId
      await changeable(where.id)
      return announce(await fences.delete({ where }))
    },
  }
}
