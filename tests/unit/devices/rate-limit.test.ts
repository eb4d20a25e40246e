import { describe, expect, it } from 'vitest'
import { backoffMs, ConnectGate } from '../../../devices/net/connect-gate.js'
import { mulberry32 } from '../../../devices/random.js'
import { TokenBucket } from '../../../devices/token-bucket.js'
import { manualClock } from './helpers.js'

describe('token bucket', () => {
  it.each([
    { rate: 10, burst: 10, seconds: 5 },
    { rate: 1000, burst: 100, seconds: 3 },
    { rate: 2.5, burst: 1, seconds: 8 },
  ])('rate $rate/s, burst $burst: never more than burst + rate × t over $seconds s', ({ rate, burst, seconds }) => {
    const clock = manualClock()
    const bucket = new TokenBucket(rate, burst, clock.now)
    let taken = 0
    for (let ms = 0; ms <= seconds * 1000; ms += 10) {
      while (bucket.tryTake()) taken++
      expect(taken).toBeLessThanOrEqual(burst + (rate * ms) / 1000 + 1e-9)
      clock.advance(10)
    }
    // and it does deliver the rate
    expect(taken).toBeGreaterThanOrEqual(Math.floor(burst + rate * seconds) - 1)
  })

  it('starts full, refills continuously and caps at the burst', () => {
    const clock = manualClock()
    const bucket = new TokenBucket(100, 5, clock.now)
    expect(bucket.available()).toBe(5)
    expect(bucket.tryTake(5)).toBe(true)
    expect(bucket.tryTake()).toBe(false)
    clock.advance(30)
    expect(bucket.available()).toBeCloseTo(3, 9)
    clock.advance(10_000)
    expect(bucket.available()).toBe(5)
  })

  it.each([0, Number.POSITIVE_INFINITY])('rate %s means unlimited', (rate) => {
    const bucket = new TokenBucket(rate)
    for (let i = 0; i < 10_000; i++) expect(bucket.tryTake()).toBe(true)
  })
})

describe('connect gate', () => {
  it('starts no more than the connect rate and no more than the concurrency limit', () => {
    const clock = manualClock()
    const gate = new ConnectGate<number>(new TokenBucket(100, 10, clock.now), 25, clock.now)
    for (let i = 0; i < 100; i++) gate.enqueue(i)
    const started: number[] = []
    gate.pump((i) => started.push(i))
    expect(started).toHaveLength(10) // burst
    clock.advance(100)
    gate.pump((i) => started.push(i))
    expect(started).toHaveLength(20) // rate: 10 more in 100 ms
    clock.advance(100)
    gate.pump((i) => started.push(i))
    expect(started).toHaveLength(25) // concurrency: 25 waiting for their CONNACK
    for (let i = 0; i < 25; i++) gate.settle()
    clock.advance(100)
    gate.pump((i) => started.push(i))
    expect(started).toHaveLength(35)
    expect(started).toEqual(Array.from({ length: 35 }, (_, i) => i))
  })

  it('holds a backed-off attempt until its delay is over', () => {
    const clock = manualClock()
    const gate = new ConnectGate<string>(new TokenBucket(1000, 100, clock.now), 100, clock.now)
    gate.enqueue('later', 2000)
    const started: string[] = []
    gate.pump((x) => started.push(x))
    expect(started).toEqual([])
    expect(gate.waiting).toBe(1)
    clock.advance(2000)
    gate.pump((x) => started.push(x))
    expect(started).toEqual(['later'])
  })

  it.each([
    { attempt: 0, min: 500, max: 1000 },
    { attempt: 1, min: 1000, max: 2000 },
    { attempt: 3, min: 4000, max: 8000 },
    { attempt: 10, min: 30_000, max: 60_000 },
  ])('backoff after attempt $attempt is in [$min, $max] ms', ({ attempt, min, max }) => {
    const rng = mulberry32(attempt)
    for (let i = 0; i < 100; i++) {
      const ms = backoffMs(attempt, rng)
      expect(ms).toBeGreaterThanOrEqual(min)
      expect(ms).toBeLessThanOrEqual(max)
    }
  })
})
