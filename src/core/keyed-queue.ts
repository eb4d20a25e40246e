// One lane per asset: work runs one item at a time per lane (an asset's fixes in order) and
// concurrently across lanes. Fixes that queue up behind a busy lane are merged into one batch, so
// under load an asset's backlog costs one state read and one write per batch instead of per fix.
interface Waiter { resolve(): void, reject(err: unknown): void }
type Item<T> = { kind: 'batch', values: T[], waiters: Waiter[] } | { kind: 'task', run: () => Promise<void>, waiters: Waiter[] }

export class KeyedQueue<T> {
  private readonly lanes = new Map<string, Array<Item<T>>>()
  private idleWaiters: Array<() => void> = []

  constructor(private readonly processBatch: (key: string, values: T[]) => Promise<void>) {}

  /** Queues values for `key`; merged with values queued behind the running item. */
  push(key: string, values: T[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const lane = this.lane(key)
      const last = lane.at(-1)
      if (last?.kind === 'batch' && lane.length > 1) {
        last.values.push(...values)
        last.waiters.push({ resolve, reject })
      } else {
        lane.push({ kind: 'batch', values: [...values], waiters: [{ resolve, reject }] })
        if (lane.length === 1) void this.drain(key, lane)
      }
    })
  }

  /** Runs `run` in `key`'s lane, after what is queued before it. */
  run(key: string, run: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      const lane = this.lane(key)
      lane.push({ kind: 'task', run, waiters: [{ resolve, reject }] })
      if (lane.length === 1) void this.drain(key, lane)
    })
  }

  get size(): number { return this.lanes.size }

  /** Resolves when every lane is empty. */
  idle(): Promise<void> {
    if (this.lanes.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private lane(key: string): Array<Item<T>> {
    let lane = this.lanes.get(key)
    if (!lane) { lane = []; this.lanes.set(key, lane) }
    return lane
  }

  // the item at the head of a lane is the running one; it leaves the lane when done
  private async drain(key: string, lane: Array<Item<T>>): Promise<void> {
    while (lane.length > 0) {
      const item = lane[0]!
      try {
        await (item.kind === 'batch' ? this.processBatch(key, item.values) : item.run())
        item.waiters.forEach((w) => w.resolve())
      } catch (err) {
        item.waiters.forEach((w) => w.reject(err))
      }
      lane.shift()
    }
    this.lanes.delete(key)
    if (this.lanes.size === 0) this.idleWaiters.splice(0).forEach((w) => w())
  }
}
