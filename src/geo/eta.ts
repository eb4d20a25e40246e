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

/**
 * Moving time (s) and distance (m) per speed bin, bins HISTOGRAM_BIN_MPS wide: each bin knows its own
 * mean speed (metres ÷ seconds), so a steady speed comes out exactly, not rounded to a bin. Time-
 * weighted because the mean of speed over time is distance ÷ time, what an ETA divides by. Sparse,
 * [bin, seconds, metres] for the bins in use in bin order: it is part of the asset state, written
 * on every fix, and a truck uses a dozen bins of forty.
 */
export type SpeedHistogram = Array<[number, number, number]>
const HISTOGRAM_BIN_MPS = 1
/** 0–40 m/s (144 km/h); anything faster counts in the top bin */
const TOP_BIN = 39

/**
 * Five significant digits: plenty, and short in the stored state. Relative, not to a fixed decimal,
 * so that fading by a fraction of a percent per fix is never rounded away, however small the bin.
 */
function round(x: number): number {
  if (!(x > 0)) return 0
  const e = Math.floor(Math.log10(x)) - 4
  // an integer times or over an exact power of ten: prints as the short decimal it is
  return e >= 0 ? Math.round(x / 10 ** e) * 10 ** e : Math.round(x * 10 ** -e) / 10 ** -e
}

/**
 * Adds `seconds` of moving at `speedMps`, after fading what was there by exp(−seconds / memoryS): a
 * memory in moving time, like updateSpeed's, so a parked asset forgets nothing. Updates `hist` in
 * place (it runs on every fix) and returns it, or a new histogram when there was none.
 */
export function addSpeed(hist: SpeedHistogram | undefined, speedMps: number, seconds: number, memoryS: number): SpeedHistogram {
  const h = hist ?? []
  if (!(seconds > 0) || !Number.isFinite(speedMps) || speedMps < 0) return h
  const keep = Math.exp(-seconds / memoryS)
  for (let j = h.length - 1; j >= 0; j--) {
    const b = h[j]!
    b[1] = round(b[1] * keep)
    b[2] = round(b[2] * keep)
    if (b[1] < 0.01) h.splice(j, 1) // faded out
  }
  addToBin(h, Math.min(TOP_BIN, Math.floor(speedMps / HISTOGRAM_BIN_MPS)), seconds, speedMps * seconds)
  return h
}

/** Adds seconds and metres to a bin of `h` (kept in bin order), creating it if need be. */
function addToBin(h: SpeedHistogram, bin: number, seconds: number, metres: number) {
  let j = 0
  while (j < h.length && h[j]![0] < bin) j++
  if (h[j]?.[0] === bin) {
    h[j]![1] = round(h[j]![1] + seconds)
    h[j]![2] = round(h[j]![2] + metres)
  } else h.splice(j, 0, [bin, round(seconds), round(metres)])
}

/**
 * Adds every bin of `from` to `into` (in place; a new histogram when `into` is undefined), after
 * fading `into` once by exp(−seconds of `from` ÷ memoryS): the same memory in moving time as addSpeed,
 * for histograms measured elsewhere (an asset's paces going into its fleet's). `scale` multiplies
 * what is added (a part of `from`'s time, keeping its shape).
 */
export function mergeSpeeds(into: SpeedHistogram | undefined, from: SpeedHistogram | undefined, memoryS: number, scale = 1): SpeedHistogram {
  const h = into ?? []
  const seconds = histogramSeconds(from) * scale
  if (!from || !(seconds > 0)) return h
  const keep = Math.exp(-seconds / memoryS)
  for (const b of h) { b[1] = round(b[1] * keep); b[2] = round(b[2] * keep) }
  for (const [bin, s, m] of from) addToBin(h, bin, s * scale, m * scale)
  for (let j = h.length - 1; j >= 0; j--) if (h[j]![1] < 0.01) h.splice(j, 1) // faded out
  return h
}

/** Total (faded) moving time in the histogram, seconds. */
export function histogramSeconds(hist: SpeedHistogram | undefined): number {
  let total = 0
  for (const b of hist ?? []) total += b[1]
  return total
}

/**
 * Time-weighted mean of the speeds between the `trim` and 1 − `trim` quantiles (0.25: the
 * interquartile mean). Robust where a plain mean is not: a crawl in a jam, a stretch of accelerating
 * out of a town or a yard moves a mean by however long it lasted, the interquartile mean hardly; and
 * a delay that comes rarely but long is right-skewed, so the typical (median-like) trip, which is
 * what a mean absolute error rewards, is faster than the mean trip. Undefined when empty. `total` is
 * histogramSeconds(hist), for a caller that has it already.
 */
export function trimmedMeanSpeed(hist: SpeedHistogram | undefined, trim = 0.25, total = histogramSeconds(hist)): number | undefined {
  if (!hist || !(total > 0)) return undefined
  const lo = trim * total, hi = (1 - trim) * total
  let below = 0, metres = 0, seconds = 0
  for (const [, s, m] of hist) {
    if (below >= hi) break
    const take = Math.max(0, Math.min(below + s, hi) - Math.max(below, lo))
    metres += take * (m / s)
    seconds += take
    below += s
  }
  return seconds > 0 ? metres / seconds : undefined
}

/**
 * The expected mean speed over the next `horizonS` when the current pace persists with time constant
 * `persistS` and then reverts to the typical one (an Ornstein–Uhlenbeck view of pace): the current
 * pace weighs (τ/H)·(1 − e^(−H/τ)), all of it for a horizon of seconds, little for an hour.
 */
export function horizonSpeed(currentMps: number, typicalMps: number, horizonS: number, persistS: number): number {
  const w = horizonS > 0 ? (persistS / horizonS) * (1 - Math.exp(-horizonS / persistS)) : 1
  return w * currentMps + (1 - w) * typicalMps
}

export type EtaStatus = 'on_time' | 'at_risk' | 'late' | 'unknown'

/**
 * ETA (epoch ms) against an appointment window (epoch ms): late when after the window end, at risk
 * when within `atRiskMarginS` before it, else on time. Arriving before the window start is on time
 * (waiting is not a delay); a window with only a start uses the start as the deadline. Unknown
 * without an ETA or a window.
 */
const RANK: Record<EtaStatus, number> = { unknown: 0, on_time: 1, at_risk: 2, late: 3 }

/**
 * A worse status is taken at once; a better one than `previous` only once the ETA is `hysteresisS`
 * inside the better side of its boundary. An ETA hovering at a boundary would otherwise flip the
 * status (and fire eta_updated, delay_predicted / delay_cleared) at every fix.
 */
export function etaStatus(
  etaMs: number | undefined, windowStartMs: number | undefined, windowEndMs: number | undefined, atRiskMarginS: number,
  previous: EtaStatus = 'unknown', hysteresisS = 0,
): EtaStatus {
  const deadline = windowEndMs ?? windowStartMs
  if (etaMs === undefined || !Number.isFinite(etaMs) || deadline === undefined) return 'unknown'
  const plain = (slackMs: number): EtaStatus => etaMs > deadline - slackMs ? 'late' : etaMs > deadline - atRiskMarginS * 1000 - slackMs ? 'at_risk' : 'on_time'
  const now = plain(0)
  if (RANK[now] >= RANK[previous] || previous === 'unknown') return now
  // getting better: judged against boundaries moved by the hysteresis, and never past where it is now
  const held = plain(hysteresisS * 1000)
  return RANK[held] < RANK[previous] ? held : previous
}
