// The ETA's state in the asset state (features.eta) and its settings, shared by the processor
// (eta.ts), the reporting of its events (eta-report.ts) and the offline sweep's revision (eta-silent.ts).
import type { EtaStatus, SpeedEstimate, SpeedHistogram } from '../../geo/eta.js'
import type { PaceHandover } from './fleet-pace.js'

export interface EtaSettings {
  circuity: number
  defaultSpeedMps: number
  /** default for the stretches within nearStopM of a stop */
  nearStopSpeedMps: number
  nearStopM: number
  /** memory of the typical pace, in moving time */
  speedTauS: number
  thresholdS: number
  atRiskS: number
}

/** `hist` is missing in states written before it existed; `current` is the last few minutes' pace (open road only) */
export interface Pace { hist?: SpeedHistogram, current?: SpeedEstimate }
/**
 * `emitted`/`emittedStatus`: what was last reported (emittedStatus null: nothing yet; emitted null
 * with a status: reported as unknown). `passed`: the asset drove past it (see passed(), eta.ts);
 * `silent`: the asset went quiet and is overdue, the ETA reported unknown (reviseSilent); `closestM`:
 * its closest approach so far, kept only without a route.
 */
export interface StopEta {
  /** the last prediction from a fix (null: passed); what was reported may differ (`silent`) */
  eta: number | null
  status: EtaStatus
  emitted: number | null
  emittedStatus: EtaStatus | null
  delay: boolean
  passed?: true
  silent?: true
  closestM?: number
}
/**
 * `origin`: where the asset stood when its shipment began (a yard: driving around it is near-stop
 * driving); `handover`: the moving time not yet handed to the fleet pace (fleet-pace.ts).
 */
export interface EtaFeature {
  origin?: { shipmentId: string, at: [number, number] | null }
  handover?: PaceHandover
  open: Pace
  near: Pace
  stops: Record<string, StopEta>
}
