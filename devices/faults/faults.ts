// Per-fix fault decisions and position corruption. Pure: the device asks, then acts on the answer.
import { offsetM, type LonLat } from '../geo.js'
import { chance, gaussian, uniform, type Rng } from '../random.js'

export interface FaultParams {
  /** σ of GPS noise, metres */
  noiseM: number
  jumpProb: number
  gapProb: number
  /** simulated seconds */
  gapS: number
  reconnectProb: number
  dropProb: number
  dupProb: number
  /** 0–100 */
  malformedPct: number
}

export const NO_FAULTS: FaultParams = { noiseM: 0, jumpProb: 0, gapProb: 0, gapS: 300, reconnectProb: 0, dropProb: 0, dupProb: 0, malformedPct: 0 }

/** What happens to the connection at this fix; at most one thing, the rarest-first order is arbitrary. */
export type LinkFault = 'gap' | 'drop' | 'reconnect' | null

export function linkFault(rng: Rng, p: FaultParams): LinkFault {
  if (chance(rng, p.gapProb)) return 'gap'
  if (chance(rng, p.dropProb)) return 'drop'
  if (chance(rng, p.reconnectProb)) return 'reconnect'
  return null
}

/** Gaussian noise of σ metres in each axis. */
export function withNoise(rng: Rng, lat: number, lon: number, sigmaM: number): LonLat {
  if (sigmaM <= 0) return { lat, lon }
  return offsetM(lat, lon, gaussian(rng) * sigmaM, gaussian(rng) * sigmaM)
}

/** A multipath/cold-start jump: the reported position lands 2–50 km away in a random direction. */
export function withJump(rng: Rng, lat: number, lon: number): LonLat & { jumpM: number } {
  const jumpM = uniform(rng, 2_000, 50_000)
  const angle = rng() * 2 * Math.PI
  return { ...offsetM(lat, lon, Math.cos(angle) * jumpM, Math.sin(angle) * jumpM), jumpM }
}
