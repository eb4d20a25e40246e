// Impossible jumps through the real pipeline: a glitch is dropped and reported once; a wrong last
// fix (a cold start far away) does not lock the asset's true fixes out for hours.
import { describe, expect, it } from 'vitest'
import { Track, offset } from '../../helpers/tracks.js'
import { rig, type LonLat } from './harness.js'

const T0 = Date.UTC(2026, 0, 5, 8)
const depot: LonLat = [4.80, 45.70]

describe('impossible jumps', () => {
  it('a bad first fix thousands of km away locks out the true fixes for a minute, not for hours', async () => {
    const r = rig(null)
    await r.feed([{ ts: T0, lat: 10, lon: 10, accuracy: 10 }])
    const t = new Track(depot, T0 + 10_000).driveTo(offset(depot, 90, 20_000), 20)
    await r.feed(t.fixes)
    const dropped = r.drops.filter((d) => d.reason === 'impossible_jump')
    expect(dropped.length).toBeLessThanOrEqual(6) // the first minute of the true track
    const state = (await r.state())!
    expect(state.lastFix!.ts).toBe(t.now)
    expect(state.fixCount).toBe(1 + t.fixes.length - dropped.length)
    expect(r.seq(['gps_jump', 'gps_jump_cleared'])).toEqual(['gps_jump', 'gps_jump_cleared'])
  })

  it('a glitch of a few consistent fixes is still dropped, and the track goes on', async () => {
    const r = rig(null)
    const t = new Track(depot, T0, 5).driveTo(offset(depot, 90, 5000), 20)
    const glitchAt = t.now
    const away = offset(t.position, 0, 30_000)
    const glitch = [5, 10, 15].map((s, i) => ({ ts: glitchAt + s * 1000, lat: offset(away, 90, i * 50)[1], lon: offset(away, 90, i * 50)[0], accuracy: 8 }))
    const after = new Track(t.position, glitchAt + 15_000, 5).driveTo(offset(t.position, 90, 3000), 20)
    await r.feed([...t.fixes, ...glitch, ...after.fixes])
    expect(r.drops.map((d) => d.ts)).toEqual(glitch.map((g) => g.ts))
    expect((await r.state())!.lastFix!.ts).toBe(after.now)
  })

  it('drops in one batch count as much as drops one by one', async () => {
    const r = rig(null)
    await r.feed([{ ts: T0, lat: 10, lon: 10, accuracy: 10 }])
    const t = new Track(depot, T0 + 10_000).driveTo(offset(depot, 90, 20_000), 20)
    await r.feed(t.fixes, 50)
    expect(r.drops.filter((d) => d.reason === 'impossible_jump').length).toBeLessThanOrEqual(6)
  })
})
