// What a tracker keeps while it cannot publish: readings (and events) in a bounded store, sent as
// JSON array batches in event-time order when the connection is back. Bounded because real devices are: the
// oldest entries go first when it is full, and the loss is counted.
import type { EventTime } from '../../src/contracts/payloads.js'

export class OfflineBuffer<T extends { ts: EventTime }> {
  private items: T[] = []
  overflowed = 0

  constructor(private readonly capacity: number) {}

  get size() { return this.items.length }

  push(item: T) {
    this.items.push(item)
    if (this.items.length > this.capacity) { this.items.shift(); this.overflowed++ }
  }

  /** Puts back entries whose publish failed (their connection closed before the PUBACK). */
  requeue(items: readonly T[]) {
    for (const item of items) this.push(item)
  }

  /** Empties the buffer: everything, oldest event time first (requeued entries may be out of order). */
  drain(): T[] {
    return this.take(this.items.length)
  }

  /** Removes and returns the `max` oldest entries by event time, oldest first. */
  take(max: number): T[] {
    // stable sort: entries with the same time keep the order they were produced in
    this.items.sort((a, b) => Number(a.ts) - Number(b.ts))
    return this.items.splice(0, Math.max(0, max))
  }
}
