import { describe, expect, it } from 'vitest'
import { GroupCommitWriter, isRowError } from '../../../src/db/group-commit.js'

const deferred = () => {
  let resolve!: () => void
  const promise = new Promise<void>((r) => { resolve = r })
  return { promise, resolve }
}

describe('GroupCommitWriter', () => {
  it('writes at once when idle and gathers what arrives meanwhile into the next batch', async () => {
    const batches: number[][] = []
    const gate = deferred()
    const writer = new GroupCommitWriter<number, number>(async (rows) => {
      batches.push(rows)
      if (batches.length === 1) await gate.promise
      return rows.map((r) => r * 10)
    }, { maxBatch: 100, maxWaitMs: 0, maxConcurrent: 1 })
    const first = writer.write([1])
    await new Promise((r) => setImmediate(r))
    const rest = [writer.write([2, 3]), writer.write([4])]
    gate.resolve()
    expect(await first).toEqual([10])
    expect(await Promise.all(rest)).toEqual([[20, 30], [40]])
    expect(batches).toEqual([[1], [2, 3, 4]])
  })

  it('never exceeds maxBatch rows except for one oversized write', async () => {
    const sizes: number[] = []
    const writer = new GroupCommitWriter<number, true>(async (rows) => { sizes.push(rows.length); return rows.map(() => true as const) },
      { maxBatch: 5, maxWaitMs: 0, maxConcurrent: 1 })
    await Promise.all([writer.write([1, 2, 3]), writer.write([4, 5, 6]), writer.write(Array.from({ length: 9 }, (_, i) => i))])
    expect(sizes.every((s) => s <= 5 || s === 9)).toBe(true)
    expect(sizes.reduce((a, b) => a + b)).toBe(15)
  })

  it('fails every caller of a failed batch, and the next batch still goes', async () => {
    let calls = 0
    const writer = new GroupCommitWriter<number, number>(async (rows) => {
      if (++calls === 1) throw new Error('disk full')
      return rows
    }, { maxBatch: 10, maxWaitMs: 0, maxConcurrent: 1 })
    await expect(writer.write([1])).rejects.toThrow('disk full')
    expect(await writer.write([2])).toEqual([2])
  })

  it('with isolate, a batch failed by one caller\'s rows is written again caller by caller', async () => {
    const batches: number[][] = []
    const writer = new GroupCommitWriter<number, number>(async (rows) => {
      batches.push(rows)
      if (rows.includes(13)) throw Object.assign(new Error('refused value'), { code: '22P05' })
      return rows
    }, { maxBatch: 10, maxWaitMs: 5, maxConcurrent: 1, isolate: isRowError })
    const results = await Promise.allSettled([writer.write([1, 2]), writer.write([13]), writer.write([3])])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(results[2]).toEqual({ status: 'fulfilled', value: [3] })
    expect(batches).toEqual([[1, 2, 13, 3], [1, 2], [13], [3]])
  })

  it('isolates only errors a row can cause, never a failure of the database itself', async () => {
    expect(isRowError(Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' }))).toBe(true)
    expect(isRowError(Object.assign(new Error('violates foreign key constraint'), { code: '23503' }))).toBe(true)
    expect(isRowError(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(false)
    expect(isRowError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(false)
    let calls = 0
    const writer = new GroupCommitWriter<number, number>(async () => { calls++; throw Object.assign(new Error('terminating connection'), { code: '57P01' }) },
      { maxBatch: 10, maxWaitMs: 5, maxConcurrent: 1, isolate: isRowError })
    const results = await Promise.allSettled([writer.write([1]), writer.write([2])])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(calls).toBe(1)
  })

  it('drain() waits for queued and in-flight writes', async () => {
    const done: number[] = []
    const writer = new GroupCommitWriter<number, number>(async (rows) => {
      await new Promise((r) => setTimeout(r, 20))
      done.push(...rows)
      return rows
    }, { maxBatch: 2, maxWaitMs: 0, maxConcurrent: 1 })
    void writer.write([1, 2]); void writer.write([3])
    await writer.drain()
    expect(done).toEqual([1, 2, 3])
  })

  it('settled() waits for the writes handed in before it, failed ones included, and not for later ones', async () => {
    const gates = [deferred(), deferred(), deferred()]
    let call = 0
    const writer = new GroupCommitWriter<number, number>(async (rows) => {
      const gate = gates[call++]!
      await gate.promise
      if (rows.includes(2)) throw new Error('constraint')
      return rows
    }, { maxBatch: 1, maxWaitMs: 0, maxConcurrent: 3 })
    const first = writer.write([1])
    const second = writer.write([2]).catch(() => 'failed')
    let settled = false
    const barrier = writer.settled().then(() => { settled = true })
    const later = writer.write([3])
    gates[0]!.resolve()
    await first
    await new Promise((r) => setTimeout(r, 5))
    expect(settled).toBe(false) // the second write is still in flight
    gates[1]!.resolve()
    expect(await second).toBe('failed')
    await barrier
    expect(settled).toBe(true) // the third write (handed in after the call) is still open
    gates[2]!.resolve()
    expect(await later).toEqual([3])
    await expect(writer.settled()).resolves.toBeUndefined()
  })
})
