import { describe, expect, it } from 'vitest'
import type { Fix } from '../../../src/contracts/payloads.js'
import { statelessStages } from '../../../src/core/stages/stateless.js'
import { statefulStages } from '../../../src/core/stages/stateful.js'
import { emptyState, toLastFix, type AssetState } from '../../../src/core/state.js'
import type { FilterSettings } from '../../../src/core/stages/stage.js'

const settings: FilterSettings = { maxFutureMs: 300_000, maxAgeMs: 7 * 86_400_000, maxAccuracyM: 1000, maxSpeedMps: 85 }
const NOW = 1_800_000_000_000
const fix = (over: Partial<Fix> = {}): Fix => ({ tenantId: 't', deviceId: 'd', ts: NOW - 1000, receivedAt: NOW, lat: 48.8566, lon: 2.3522, ...over })

const firstStatelessDrop = (f: Fix) => {
  for (const stage of statelessStages) {
    const r = stage.check(f, NOW, settings)
    if (!r.ok) return r.reason
  }
  return 'kept'
}

describe('stateless stages, in their declared order', () => {
  it('are declared in the documented order', () => {
    expect(statelessStages.map((s) => s.name)).toEqual(['invalid', 'null_island', 'future', 'too_old', 'poor_accuracy'])
  })

  it.each([
    ['a good fix', {}, 'kept'],
    ['lat 90.0001', { lat: 90.0001 }, 'invalid'],
    ['lon -180.5', { lon: -180.5 }, 'invalid'],
    ['lat NaN', { lat: Number.NaN }, 'invalid'],
    ['lon Infinity', { lon: Number.POSITIVE_INFINITY }, 'invalid'],
    ['lat exactly 90', { lat: 90 }, 'kept'],
    ['lon exactly -180', { lon: -180 }, 'kept'],
    ['0,0', { lat: 0, lon: 0 }, 'null_island'],
    ['0,0.5 (a real place)', { lat: 0, lon: 0.5 }, 'kept'],
    ['6 minutes ahead', { ts: NOW + 360_000 }, 'future'],
    ['4 minutes ahead', { ts: NOW + 240_000 }, 'kept'],
    ['8 days old', { ts: NOW - 8 * 86_400_000 }, 'too_old'],
    ['6 days old', { ts: NOW - 6 * 86_400_000 }, 'kept'],
    ['accuracy 1500 m', { accuracy: 1500 }, 'poor_accuracy'],
    ['accuracy 999 m', { accuracy: 999 }, 'kept'],
    ['invalid and future: the first stage wins', { lat: 200, ts: NOW + 3_600_000 }, 'invalid'],
  ])('%s → %s', (_name, over, expected) => {
    expect(firstStatelessDrop(fix(over))).toBe(expected)
  })
})

describe('stateful stages', () => {
  const state = (last: Partial<Fix>): AssetState => ({ ...emptyState('t', 'd'), lastFix: toLastFix(fix(last)) })
  const judge = (f: Fix, s: AssetState) => {
    for (const stage of statefulStages) {
      const r = stage.check(f, s, settings)
      if (!r.ok) return r.reason
    }
    return 'kept'
  }

  it.each([
    ['the first fix of an asset', null, {}, 'kept'],
    ['a later fix nearby', { ts: NOW - 61_000 }, { ts: NOW - 1000, lat: 48.857 }, 'kept'],
    ['an older fix', { ts: NOW - 1000 }, { ts: NOW - 2000 }, 'late'],
    ['the same event time again', { ts: NOW - 1000 }, { ts: NOW - 1000, lat: 48.9 }, 'duplicate'],
    ['Paris to Lyon in a minute', { ts: NOW - 61_000 }, { ts: NOW - 1000, lat: 45.764, lon: 4.8357 }, 'impossible_jump'],
    ['Paris to Lyon in five hours', { ts: NOW - 5 * 3_600_000 }, { ts: NOW - 1000, lat: 45.764, lon: 4.8357 }, 'kept'],
    ['50 m in 1 s with 30 m accuracy each (noise, not speed)', { ts: NOW - 2000, accuracy: 30 }, { ts: NOW - 1000, lat: 48.85705, accuracy: 30 }, 'kept'],
  ])('%s → %s', (_name, last, next, expected) => {
    const s = last ? state(last) : emptyState('t', 'd')
    expect(judge(fix(next), s)).toBe(expected)
  })
})
