import { describe, expect, it } from 'vitest'
import {
  addSpeed, blendedSpeed, etaStatus, histogramSeconds, horizonSpeed, trimmedMeanSpeed, updateSpeed, type SpeedEstimate, type SpeedHistogram,
} from '../../../src/geo/eta.js'

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

/** adds [speed, seconds] samples to an empty histogram with a memory of `memoryS` */
const histogram = (samples: [number, number][], memoryS = 1e12) =>
  samples.reduce<SpeedHistogram | undefined>((h, [v, s]) => addSpeed(h, v, s, memoryS), undefined)

describe('addSpeed / trimmedMeanSpeed (time-weighted speed histogram)', () => {
  it('keeps the exact time-weighted mean, whatever the bins', () => {
    const h = histogram([[22.3, 600], [17.8, 300]])
    expect(histogramSeconds(h)).toBeCloseTo(900, 6)
    expect(trimmedMeanSpeed(h, 0)).toBeCloseTo((22.3 * 600 + 17.8 * 300) / 900, 6)
  })

  it('a steady speed is its own interquartile mean, not rounded to a bin', () => {
    expect(trimmedMeanSpeed(histogram([[22.2, 3600]]))).toBeCloseTo(22.2, 6)
  })

  it('an interquartile mean ignores a jam and a burst that a mean does not', () => {
    // an hour at 22 m/s with 10 min crawling at 5 m/s and 5 min at 30 m/s
    const h = histogram([[22, 2700], [5, 600], [30, 300]])
    expect(trimmedMeanSpeed(h, 0)).toBeCloseTo((22 * 2700 + 5 * 600 + 30 * 300) / 3600, 6)
    expect(trimmedMeanSpeed(h)).toBeCloseTo(22, 6)
  })

  it('forgets with its memory in moving time', () => {
    const h = histogram([[10, 3600], [20, 3600]], 3600)
    // the first hour is faded by e^-1 before the second is added
    expect(histogramSeconds(h)).toBeCloseTo(3600 * Math.exp(-1) + 3600, 0)
    expect(trimmedMeanSpeed(h, 0)).toBeCloseTo((10 * Math.exp(-1) + 20) / (Math.exp(-1) + 1), 1)
  })

  it('is empty until something is added; ignores nonsense; clamps beyond its top bin', () => {
    expect(trimmedMeanSpeed(undefined)).toBeUndefined()
    expect(histogramSeconds(addSpeed(undefined, Number.NaN, 30, 7200))).toBe(0)
    expect(histogramSeconds(addSpeed(undefined, 20, 0, 7200))).toBe(0)
    // 80 m/s lands in the top bin, which still knows its mean
    expect(trimmedMeanSpeed(histogram([[80, 60], [39.5, 60]]), 0)).toBeCloseTo(59.75, 6)
  })
})

describe('horizonSpeed (current pace persisting with time constant τ)', () => {
  it.each<[number, number]>([[0, 1], [300, (1 - Math.exp(-1))], [3600, (300 / 3600) * (1 - Math.exp(-12))]])(
    'over %d s the current pace weighs %d', (horizonS, w) => {
      expect(horizonSpeed(10, 20, horizonS, 300)).toBeCloseTo(w * 10 + (1 - w) * 20, 9)
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

describe('etaStatus with hysteresis (window ends 11:00, at risk 10 min before, 5 min hysteresis)', () => {
  const end = Date.UTC(2026, 0, 5, 11), min = 60_000
  const status = (eta: number, previous: 'unknown' | 'on_time' | 'at_risk' | 'late') => etaStatus(eta, undefined, end, 600, previous, 300)
  it.each<[string, number, 'on_time' | 'at_risk' | 'late', string]>([
    ['worse at once: on time → at risk', end - 9 * min, 'on_time', 'at_risk'],
    ['worse at once: at risk → late', end + 1, 'at_risk', 'late'],
    ['late stays late 1 min before the end', end - 1 * min, 'late', 'late'],
    ['late becomes at risk 6 min before the end', end - 6 * min, 'late', 'at_risk'],
    ['late becomes on time well before', end - 30 * min, 'late', 'on_time'],
    ['at risk stays at risk 11 min before the end', end - 11 * min, 'at_risk', 'at_risk'],
    ['at risk becomes on time 16 min before the end', end - 16 * min, 'at_risk', 'on_time'],
  ])('%s', (_, eta, previous, expected) => {
    expect(status(eta, previous)).toBe(expected)
  })

  it('an ETA wandering ±2 min around the at-risk boundary flips the status once, not at every fix', () => {
    let previous: 'unknown' | 'on_time' | 'at_risk' | 'late' = 'on_time'
    let flips = 0
    for (let i = 0; i < 40; i++) {
      const next = status(end - 10 * min + (i % 2 === 0 ? 2 : -2) * min, previous)
      if (next !== previous) flips++
      previous = next
    }
    expect(flips).toBe(1)
    expect(previous).toBe('at_risk')
  })
})
