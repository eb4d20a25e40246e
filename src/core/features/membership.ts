// Fence membership with dwell and hysteresis, shared by tenant geofences and shipment stops.
// Entering needs the asset inside for `dwellS`; leaving needs it beyond `exitMarginM` outside for
// `exitS`. Between the boundary and the margin nothing changes, so GPS jitter at an edge and a
// drive-by (in and out within the dwell) fire nothing. A fix's reported accuracy widens the band:
// a vague fix neither enters a fence it barely touches nor leaves one it is barely outside of.
// A caller may ask more of an entry than time inside (`Motion`: shipment stops need the asset to
// have stopped there, src/core/features/stops.ts): the seconds it was stationary inside are counted,
// and an entry whose dwell is met waits until the caller accepts that evidence.
export interface MembershipSettings {
  dwellS: number
  exitMarginM: number
  exitS: number
  /** fixes vaguer than this only count as inside when even their error circle is inside */
  maxEntryAccuracyM: number
}

export interface Membership {
  /** confirmed inside, since (event time of the first fix inside) */
  inside: Record<string, number>
  /** inside, dwell not yet met, since */
  entering: Record<string, number>
  /** confirmed inside but now beyond the margin, since */
  leaving: Record<string, number>
  /**
   * only with a Motion: fences being entered in which the asset was stationary at least once, and
   * for how many seconds in all (both ends of an interval stationary) since it entered
   */
  still?: Record<string, number>
}

/** How the asset moves at this fix, and what an entry needs from that (see advanceMembership). */
export interface Motion {
  /** this fix is stationary */
  stationary: boolean
  /** seconds since the previous fix when that one and this one are both stationary, else 0 */
  stillS: number
  /** may the entry into `fenceId`, its dwell met, be confirmed, given the seconds stationary inside (undefined: not once) */
  ready(fenceId: string, stillS: number | undefined): boolean
}

export type Transition = { fenceId: string, kind: 'enter' | 'exit', at: number }

export const emptyMembership = (): Membership => ({ inside: {}, entering: {}, leaving: {} })

/**
 * Advances `m` (mutated) with one fix at `ts`, given the signed distance to every fence that is
 * near (fences absent from `distances` are far away). Returns the confirmed transitions, stamped
 * with the time the asset really crossed (first fix inside / first fix beyond the margin).
 */
export function advanceMembership(m: Membership, distances: ReadonlyMap<string, number>, ts: number, accuracyM: number, s: MembershipSettings, motion?: Motion): Transition[] {
  const transitions: Transition[] = []
  const vague = accuracyM > s.maxEntryAccuracyM
  const isIn = (d: number) => vague ? d <= -accuracyM : d <= 0
  const isOut = (d: number) => d > s.exitMarginM + accuracyM

  for (const fenceId of Object.keys(m.inside)) {
    const d = distances.get(fenceId) ?? Infinity
    if (!isOut(d)) { delete m.leaving[fenceId]; continue }
    const since = m.leaving[fenceId] ??= ts
    if (ts - since >= s.exitS * 1000) {
      delete m.inside[fenceId]
      delete m.leaving[fenceId]
      transitions.push({ fenceId, kind: 'exit', at: since })
    }
  }
  for (const fenceId of Object.keys(m.entering)) {
    if (isIn(distances.get(fenceId) ?? Infinity)) continue
    delete m.entering[fenceId]
    if (m.still) delete m.still[fenceId]
  }
  for (const [fenceId, d] of distances) {
    if (fenceId in m.inside || !isIn(d)) continue
    const fresh = !(fenceId in m.entering)
    const since = m.entering[fenceId] ??= ts
    if (motion?.stationary) {
      // the interval before the first fix inside was spent outside
      const still = m.still ??= {}
      still[fenceId] = (still[fenceId] ?? 0) + (fresh ? 0 : motion.stillS)
    }
    if (ts - since >= s.dwellS * 1000 && (!motion || motion.ready(fenceId, m.still?.[fenceId]))) {
      delete m.entering[fenceId]
      if (m.still) delete m.still[fenceId]
      m.inside[fenceId] = since
      transitions.push({ fenceId, kind: 'enter', at: since })
    }
  }
  return transitions
}
