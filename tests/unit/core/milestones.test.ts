// Milestones through the real pipeline (every stage and processor, memory state): stops close
// together, a round trip, and an arrival the asset state lost (a restart on in-memory state).
import { describe, expect, it } from 'vitest'
import { Track, offset } from '../../helpers/tracks.js'
import { plan, rig, stop, type LonLat } from './harness.js'

const T0 = Date.UTC(2026, 0, 5, 8)
const depot: LonLat = [4.80, 45.70]
const MILESTONES = ['arrived', 'departed', 'picked_up', 'delivered', 'stop_skipped']
const statuses = (r: ReturnType<typeof rig>) => r.events.filter((e) => e.type === 'shipment_status').map((e) => e.payload['to'])

describe('milestones', () => {
  it('a stop 300 m from the one before (inside its exit margin) is arrived at, not skipped', async () => {
    const A = offset(depot, 90, 10_000)
    const B = offset(A, 90, 300) // fences of 250 m overlap; B's centre is 50 m outside A's fence
    const C = offset(A, 90, 30_000)
    const r = rig(plan('s', [stop('A', 0, 'pickup', A), stop('B', 1, 'pickup', B), stop('C', 2, 'delivery', C)]))
    const t = new Track(depot, T0).driveTo(A, 15).dwell(20 * 60).driveTo(B, 5).dwell(30 * 60)
      .driveTo(C, 20).dwell(20 * 60).driveTo(offset(C, 0, 3000), 15)
    await r.feed(t.fixes)
    expect(r.seq(MILESTONES)).toEqual([
      'arrived:A', 'departed:A', 'picked_up:A',
      'arrived:B', 'departed:B', 'picked_up:B',
      'arrived:C', 'departed:C', 'delivered:C',
    ])
    const at = (type: string, stopId: string) => r.events.find((e) => e.type === type && e.stopId === stopId)!.ts
    expect(at('departed', 'A')).toBeLessThanOrEqual(at('arrived', 'B'))
    expect(statuses(r).at(-1)).toBe('delivered')
  })

  it('a round trip still arrives at its depot once at the start and once at the end', async () => {
    const C = offset(depot, 0, 20_000)
    const r = rig(plan('s', [stop('A', 0, 'pickup', depot), stop('C', 1, 'delivery', C), stop('B', 2, 'waypoint', depot)]))
    const t = new Track(depot, T0).dwell(15 * 60).driveTo(C, 15).dwell(15 * 60).driveTo(depot, 15).dwell(15 * 60).driveTo(offset(depot, 180, 3000), 10)
    await r.feed(t.fixes)
    expect(r.seq(MILESTONES)).toEqual([
      'arrived:A', 'departed:A', 'picked_up:A', 'arrived:C', 'departed:C', 'delivered:C', 'arrived:B', 'departed:B',
    ])
    expect(statuses(r).at(-1)).toBe('delivered')
  })

  it('a return stop 300 m from the depot is not reached on the way out, skipping the stops between', async () => {
    // found by the simulator's Berlin round (depot, five deliveries, "depot (returns)" beside it):
    // leaving the depot crosses the returns fence while still inside the depot's exit margin
    // the returns dock 300 m up the road out: its fence starts 50 m past the depot's, inside the depot's exit margin
    const returns = offset(depot, 0, 300)
    const C = offset(depot, 0, 20_000)
    const r = rig(plan('s', [stop('A', 0, 'pickup', depot), stop('C', 1, 'delivery', C), stop('R', 2, 'delivery', returns)]))
    const t = new Track(depot, T0).dwell(15 * 60).driveTo(offset(depot, 0, 340), 1).driveTo(C, 15).dwell(15 * 60).driveTo(returns, 15).dwell(15 * 60)
      .driveTo(offset(returns, 180, 3000), 10)
    await r.feed(t.fixes)
    expect(r.seq(MILESTONES)).toEqual([
      'arrived:A', 'departed:A', 'picked_up:A', 'arrived:C', 'departed:C', 'delivered:C', 'arrived:R', 'departed:R', 'delivered:R',
    ])
  })

  it('a stop arrived before the asset state was lost is still departed, and the shipment still delivered', async () => {
    const A = offset(depot, 90, 10_000)
    const C = offset(A, 90, 30_000)
    const arrivedAt = T0 - 15 * 60_000
    // the database kept the arrival at A; the asset state is new (a restart on the in-memory store)
    const r = rig(plan('s', [stop('A', 0, 'pickup', A, { status: 'arrived', arrivedAt }), stop('C', 1, 'delivery', C)], { status: 'at_stop' }))
    const t = new Track(offset(A, 90, 2000), T0).driveTo(C, 20).dwell(20 * 60).driveTo(offset(C, 0, 3000), 15)
    await r.feed(t.fixes)
    expect(r.seq(MILESTONES)).toEqual(['departed:A', 'picked_up:A', 'arrived:C', 'departed:C', 'delivered:C'])
    expect(statuses(r)).toEqual(['in_transit', 'at_stop', 'delivered'])
    expect(r.effects.filter((e) => e.kind === 'stop' && e.stopId === 'A').map((e) => e.kind === 'stop' && e.status)).toEqual(['departed'])
  })

  it('a stop arrived before the state was lost, the asset still there: departed when it leaves, not before', async () => {
    const A = offset(depot, 90, 10_000)
    const C = offset(A, 90, 30_000)
    const r = rig(plan('s', [stop('A', 0, 'pickup', A, { status: 'arrived', arrivedAt: T0 - 60_000 }), stop('C', 1, 'delivery', C)], { status: 'at_stop' }))
    const t = new Track(A, T0).dwell(10 * 60)
    await r.feed(t.fixes)
    expect(r.seq(MILESTONES)).toEqual([])
    const leaving = t.now
    t.driveTo(offset(A, 90, 5000), 15)
    await r.feed(t.fixes.filter((f) => (f.ts as number) > leaving))
    expect(r.seq(MILESTONES)).toEqual(['departed:A', 'picked_up:A'])
    expect(statuses(r)).toEqual(['in_transit'])
  })

  it('a device that reports no speed: stopped is judged by how far it moved between fixes', async () => {
    const A = offset(depot, 90, 10_000)
    const B = offset(A, 90, 20_000)
    const r = rig(plan('s', [stop('A', 0, 'pickup', A), stop('B', 1, 'delivery', B)]))
    const noSpeed = { speed: undefined } as const
    // through A's fence at 2.5 m/s, fixes every 10 s (25 m apart): no stop, no arrival; then a real stop at B
    const t = new Track(offset(A, 270, 3000), T0).driveTo(offset(A, 270, 250), 15, noSpeed).driveTo(offset(A, 90, 250), 2.5, noSpeed)
      .driveTo(B, 15, noSpeed).dwell(15 * 60, 3, noSpeed).driveTo(offset(B, 0, 3000), 15, noSpeed)
    await r.feed(t.fixes.map((f) => { const { speed: _s, ...rest } = f; return rest }))
    expect(r.seq(MILESTONES)).toEqual(['stop_skipped:A', 'arrived:B', 'departed:B', 'delivered:B'])
  })
})
