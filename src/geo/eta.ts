// ETA arithmetic, free of I/O and clocks: the caller passes times in. All times are epoch ms, all
// durations passed as *S are seconds, speeds are m/s.

/** Below this a sample is "stationary" (parked, queueing, GPS drift) and says nothing about moving speed. */
export const STATIONARY_MPS = 1

/**
 * Smoothed moving speed. `weight` is how much of the estimate comes from samples rather than from
 * nothing (0 → none yet, towards 1 after a few time constants of moving samples): use it as the
 * confidence in blendedSpeed.
 */
export interface SpeedEstimate { readonly ts: number, readonly speedMps: number, readonly weight: number }

export interface SpeedOptions {
  /** time constant: a sample's influence falls to 1/e after this much moving time (default 300 s) */
  tauS?: number
}

/**
 * Exponentially weighted moving speed over *time*, not samples: a sample's weight is
 * 1 − exp(−Δt / τ), where Δt is the time since the previous sample (capped at τ, floored at 1 s), so
 * a device reporting every 2 s and one reporting every 60 s converge at the same rate per minute,
 * and a sample ending a long gap counts like one time constant, not like the whole gap.
 * Stationary samples only advance the clock: a stop neither drags the moving speed towards 0 nor
 * makes the first sample after it weigh more. Late or duplicate samples (ts ≤ last) are ignored.
 */
export function updateSpeed(prev: SpeedEstimate | undefined, ts: number, speedMps: number, options: SpeedOptions = {}): SpeedEstimate {
  const tauS = options.tauS ?? 300
  if (prev && !(ts > prev.ts)) return prev
  if (!Number.isFinite(speedMps) || !Number.isFinite(ts)) return prev ?? { ts, speedMps: 0, weight: 0 }
  if (speedMps < STATIONARY_MPS) return prev ? { ...prev, ts } : { ts, speedMps: 0, weight: 0 }
  const dtS = prev ? Math.min(tauS, Math.max(1, (ts - prev.ts) / 1000)) : 1
  const alpha = 1 - Math.exp(-dtS / tauS)
  const w0 = prev?.weight ?? 0
  const weight = w0 * (1 - alpha) + alpha
  // bias-corrected mean: with little history the estimate is the samples' mean, not pulled to 0
  const speed = ((prev?.speedMps ?? 0) * w0 * (1 - alpha) + speedMps * alpha) / weight
  return { ts, speedMps: speed, weight }
}

/**
 * Smoothed speed blended with a default by confidence in [0, 1]: confidence·smoothed +
 * (1 − confidence)·default. With no estimate (or confidence 0) the default is used.
 */
export function blendedSpeed(smoothedMps: number | undefined, confidence: number, defaultMps: number): number {
  if (smoothedMps === undefined || !Number.isFinite(smoothedMps) || !(confidence > 0)) return defaultMps
  const c = Math.min(1, confidence)
  return c * smoothedMps + (1 - c) * defaultMps
}

export interface EtaInput {
  /** metres still to drive (negative counts as 0) */
  readonly remainingM: number
  readonly speedMps: number
  /** planned dwell at the stops before this one, seconds */
  readonly dwellS?: number
}

/** Seconds until arrival: driving time plus dwell; undefined when the speed is not positive. */
export function etaSeconds({ remainingM, speedMps, dwellS = 0 }: EtaInput): number | undefined {
  if (!(speedMps > 0) || !Number.isFinite(remainingM)) return undefined
  return Math.max(0, remainingM) / speedMps + Math.max(0, dwellS)
}

export type EtaStatus = 'on_time' | 'at_risk' | 'late' | 'unknown'

/**
 * ETA (epoch ms) against an appointment window (epoch ms): late when after the window end, at risk
 * when within `atRiskMarginS` before it, else on time. Arriving before the window start is on time
 * (waiting is not a delay); a window with only a start uses the start as the deadline. Unknown
 * without an ETA or a window.
 */
export function etaStatus(etaMs: number | undefined, windowStartMs: number | undefined, windowEndMs: number | undefined, atRiskMarginS: number): EtaStatus {
  const deadline = windowEndMs ?? windowStartMs
  if (etaMs === undefined || !Number.isFinite(etaMs) || deadline === undefined) return 'unknown'
  if (etaMs > deadline) return 'late'
  if (etaMs > deadline - atRiskMarginS * 1000) return 'at_risk'
  return 'on_time'
}
