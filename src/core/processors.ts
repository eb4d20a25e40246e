// The processors every accepted fix runs through, in this order: where on the route, which fences,
// which stops (milestones, lifecycle), when at the next stops (ETA), then one detector per anomaly.
// Later processors read what earlier ones wrote (route match, stop progress).
import type { FixProcessor } from './fix-processor.js'
import { routeProcessor } from './features/route.js'
import { geofencesProcessor } from './features/geofences.js'
import { stopsProcessor, type StopSettings } from './features/stops.js'
import { etaProcessor } from './features/eta.js'
import type { EtaSettings } from './features/eta-state.js'
import type { MembershipSettings } from './features/membership.js'
import { offRouteDetector, type OffRouteSettings } from './detectors/off-route.js'
import { unplannedStopDetector, type UnplannedStopSettings } from './detectors/unplanned-stop.js'
import { lowBatteryDetector, type LowBatterySettings } from './detectors/low-battery.js'
import { temperatureDetector, type TemperatureSettings } from './detectors/temperature.js'
import { gpsJumpDetector } from './detectors/gps-jump.js'
import { deviceOnlineDetector } from './detectors/device-online.js'

export interface ProcessingSettings {
  membership: MembershipSettings
  /** what shipment stops ask beyond fence membership (stationarity, stays) */
  stops: Omit<StopSettings, keyof MembershipSettings>
  eta: EtaSettings
  offRoute: OffRouteSettings
  unplannedStop: UnplannedStopSettings
  lowBattery: LowBatterySettings
  temperature: TemperatureSettings
}

export function buildProcessors(s: ProcessingSettings): FixProcessor[] {
  return [
    routeProcessor(),
    geofencesProcessor(s.membership),
    stopsProcessor({ ...s.membership, ...s.stops }),
    etaProcessor(s.eta),
    offRouteDetector(s.offRoute),
    unplannedStopDetector(s.unplannedStop),
    lowBatteryDetector(s.lowBattery),
    temperatureDetector(s.temperature),
    gpsJumpDetector(),
    deviceOnlineDetector(),
  ]
}
