// Per-device counters of what the tracker produced: the "fix stream summary" of the truth file.
import type { Reading } from '../src/contracts/payloads.js'
import type { MalformedKind } from './faults/malformed.js'

export class FixSummary {
  fixes = 0
  published = 0
  batches = 0
  batchedFixes = 0
  duplicates = 0
  malformedTotal = 0
  malformedKinds: Partial<Record<MalformedKind, number>> = {}
  jumps = 0
  gaps = 0
  drops = 0
  reconnects = 0
  requeued = 0
  events = 0
  firstTs: number | null = null
  lastTs: number | null = null
  firstSeq: number | null = null
  lastSeq: number | null = null
  distanceM = 0

  generated(reading: Reading, jumped: boolean, distanceM: number) {
    this.fixes++
    if (jumped) this.jumps++
    this.firstTs ??= Number(reading.ts)
    this.lastTs = Number(reading.ts)
    this.firstSeq ??= reading.seq ?? null
    this.lastSeq = reading.seq ?? null
    this.distanceM = Math.round(distanceM)
  }

  malformed(kind: MalformedKind) {
    this.malformedTotal++
    this.malformedKinds[kind] = (this.malformedKinds[kind] ?? 0) + 1
  }

  batch(size: number) {
    this.batches++
    this.batchedFixes += size
  }
}
