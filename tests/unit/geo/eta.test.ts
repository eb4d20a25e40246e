import { describe, expect, it } from 'vitest'
import { blendedSpeed, etaSeconds, etaStatus, updateSpeed, type SpeedEstimate } from '../../../src/geo/eta.js'

/** feeds [seconds, speed] samples from t = 0 */
const feed = (samples: [number, number][], start?: SpeedEstimate, tauS = 300) =>
  samples.reduce<SpeedEstimate | undefined>((s, [t, v]) => updateSpeed(s, t * 1000, v, { tauS }), start)

const every = (stepS: number, fromS: number, toS: number, speed: number): [number, number][] =>
  Array.from({ length: Math.floor((toS - fromS) / stepS) + 1 }, (_, i) => [fromS + i * stepS, speed])

describe('updateSpeed (time-constant EWMA of moving speed)', () => {
  it('starts at the first moving sample, with little confidence', () => {
    const s = feed([[0, 12]])!
    expect(s.speedMps).toBe(12)
    expect(s.weight).toBeGreaterThan(0)
    expect(s.weight).toBeLessThan(0.01)
  })

  it('gains confidence with moving time: 1 − exp(−t/τ)', () => {
    const s = feed(every(10, 0, 300, 20))!
    expect(s.speedMps).toBeCloseTo(20, 9)
    expect(s.weight).toBeCloseTo(1 - Math.exp(-(1 + 300) / 300), 9)
  })

  it('ignores stationary samples: a stop neither drags the speed down nor changes confidence', () => {
    const moving = feed(every(10, 0, 600, 20))!
    const stopped = feed([...every(10, 610, 1800, 0.4)], moving)!
    expect(stopped.speedMps).toBe(moving.speedMps)
    expect(stopped.weight).toBe(moving.weight)
    expect(stopped.ts).toBe(1_800_000)
    // and the first sample after the stop weighs like any 10 s sample, not like the whole stop
    const resumed = updateSpeed(stopped, 1_810_000, 10)
    expect(resumed.speedMps).toBeCloseTo(20 - 10 * (1 - Math.exp(-10 / 300)) / resumed.weight, 6)
  })

  it('converges at the same rate per minute whether sampled every 5 s or every 60 s', () => {
    const history = feed(every(10, 0, 3000, 10))!
    const fast = feed(every(5, 3005, 3120, 20), history)!
    const slow = feed(every(60, 3060, 3120, 20), history)!
    expect(fast.speedMps).toBeCloseTo(slow.speedMps, 9)
    // a per-sample alpha would differ by 12× here; the step response is 1 − exp(−120/τ)
    const expected = 20 - (10 * Math.exp(-120 / 300) * history.weight) / fast.weight
    expect(fast.speedMps).toBeCloseTo(expected, 9)
  })

  it('counts a sample after a long gap as one time constant, not the whole gap', () => {
    const history = feed(every(10, 0, 3000, 10))!
    const after = updateSpeed(history, 3000_000 + 3_600_000, 30)
    const alpha = 1 - Math.exp(-1)
    expect(after.speedMps).toBeCloseTo((10 * history.weight * (1 - alpha) + 30 * alpha) / after.weight, 9)
    expect(after.speedMps).toBeLessThan(25)
  })

  it.each([['a late sample', 500_000], ['a duplicate', 600_000]])('ignores %s', (_, ts) => {
    const s = feed(every(10, 0, 600, 20))!
    expect(updateSpeed(s, ts, 40)).toBe(s)
  })

  it.each([[0.99, false], [1, true]])('speed %d m/s counts as moving: %s', (speed, moving) => {
    const s = feed([[0, 20]])!
    expect(updateSpeed(s, 10_000, speed).speedMps === 20).toBe(!moving)
  })
})

describe('blendedSpeed', () => {
  it.each<[number | undefined, number, number, number]>([
    [undefined, 0.5, 20, 20],
    [10, 0, 20, 20],
    [10, 1, 20, 10],
    [10, 0.25, 20, 17.5],
    [10, 0.75, 20, 12.5],
    [10, 2, 20, 10],
    [10, -1, 20, 20],
    [Number.NaN, 0.5, 20, 20],
  ])('blendedSpeed(%s, %d, %d) = %d', (smoothed, confidence, fallback, expected) => {
    expect(blendedSpeed(smoothed, confidence, fallback)).toBeCloseTo(expected, 9)
  })
})

describe('etaSeconds', () => {
  it.each<[string, number, number, number | undefined, number | undefined]>([
    ['10 km at 10 m/s', 10_000, 10, undefined, 1000],
    ['plus 10 min dwell before', 10_000, 10, 600, 1600],
    ['already there', -5, 10, 300, 300],
    ['no speed', 10_000, 0, 0, undefined],
    ['negative speed', 10_000, -3, 0, undefined],
  ])('%s', (_, remainingM, speedMps, dwellS, expected) => {
    expect(etaSeconds({ remainingM, speedMps, dwellS })).toBe(expected)
  })
})

describe('etaStatus (window 10:00–11:00, at risk 10 min before the end)', () => {
  const start = Date.UTC(2026, 0, 5, 10), end = Date.UTC(2026, 0, 5, 11), min = 60_000
  it.each<[string, number | undefined, number | undefined, number | undefined, string]>([
    ['long before the window', start - 120 * min, start, end, 'on_time'],
    ['inside the window, early', start + 5 * min, start, end, 'on_time'],
    ['exactly 10 min before the end', end - 10 * min, start, end, 'on_time'],
    ['9 min before the end', end - 9 * min, start, end, 'at_risk'],
    ['exactly at the end', end, start, end, 'at_risk'],
    ['1 ms after the end', end + 1, start, end, 'late'],
    ['an hour late', end + 60 * min, start, end, 'late'],
    ['no ETA', undefined, start, end, 'unknown'],
    ['no window', start, undefined, undefined, 'unknown'],
    ['only a start: it is the deadline', start + 1, start, undefined, 'late'],
  ])('%s', (_, eta, windowStart, windowEnd, expected) => {
    expect(etaStatus(eta, windowStart, windowEnd, 600)).toBe(expected)
  })
})
