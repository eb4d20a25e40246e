// Tenant geofences: which of the tenant's fences the asset is in, with dwell and hysteresis, and a
// geofence_entered / geofence_exited event per confirmed transition.
import type { FixProcessor } from '../fix-processor.js'
import { feature } from '../context.js'
import { advanceMembership, emptyMembership, type MembershipSettings } from './membership.js'

export function geofencesProcessor(settings: MembershipSettings): FixProcessor {
  return {
    name: 'geofences',
    process({ fix, next, asset, emit }) {
      const index = asset.fences
      const membership = feature(next.features, 'geofences', emptyMembership)
      if (!index && Object.keys(membership.inside).length === 0 && Object.keys(membership.entering).length === 0) return
      const accuracy = fix.accuracy ?? 0
      const hits = index ? index.query([fix.lon, fix.lat], settings.exitMarginM + accuracy) : []
      const distances = new Map(hits.map((h) => [h.id, h.signedDistanceM]))
      for (const t of advanceMembership(membership, distances, fix.ts, accuracy, settings)) {
        emit({
          type: t.kind === 'enter' ? 'geofence_entered' : 'geofence_exited', ts: t.at,
          tenantId: fix.tenantId, deviceId: fix.deviceId, vehicleId: asset.vehicleId, shipmentId: asset.shipment?.id ?? null,
          payload: { geofenceId: t.fenceId, confirmedAt: fix.ts },
          dedupeKey: `fence:${fix.deviceId}:${t.fenceId}:${t.kind}:${t.at}`,
        })
      }
    },
  }
}
