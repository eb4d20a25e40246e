// Fence membership with dwell and hysteresis, shared by tenant geofences and shipment stops.
// Entering needs the asset inside for `dwellS`; leaving needs it beyond `exitMarginM` outside for
// `exitS`. Between the boundary and the margin nothing changes, so GPS jitter at an edge and a
// drive-by (in and out within the dwell) fire nothing. A fix's reported accuracy widens the band:
// a vague fix neither enters a fence it barely touches nor leaves one it is barely outside of.
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
}

export type Transition = { fenceId: string, kind: 'enter' | 'exit', at: number }

export const emptyMembership = (): Membership => ({ inside: {}, entering: {}, leaving: {} })

/**
 * Advances `m` (mutated) with one fix at `ts`, given the signed distance to every fence that is
 * near (fences absent from `distances` are far away). Returns the confirmed transitions, stamped
 * with the time the asset really crossed (first fix inside / first fix beyond the margin).
 */
export function advanceMembership(m: Membership, distances: ReadonlyMap<string, number>, ts: number, accuracyM: number, s: MembershipSettings): Transition[] {
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
    if (!isIn(distances.get(fenceId) ?? Infinity)) delete m.entering[fenceId]
  }
  for (const [fenceId, d] of distances) {
    if (fenceId in m.inside || !isIn(d)) continue
    const since = m.entering[fenceId] ??= ts
    if (ts - since >= s.dwellS * 1000) {
      delete m.entering[fenceId]
      m.inside[fenceId] = since
      transitions.push({ fenceId, kind: 'enter', at: since })
    }
  }
  return transitions
}
