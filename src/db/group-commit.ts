// Group commit: callers hand in rows and wait; rows that arrive while a write is in flight are
// gathered into the next one. At low load a row is written at once (no timer), under load
// batches grow to maxBatch by themselves, which is what lets one database keep up with tens of
// thousands of acknowledged readings per second.
export interface GroupCommitOptions {
  maxBatch: number
  /** extra wait for a batch to fill when nothing is in flight; 0 = write on the next tick */
  maxWaitMs: number
  /** writes in flight at once (each takes a pool connection) */
  maxConcurrent: number
  onBatch?: (rows: number, seconds: number) => void
  /**
   * True for an error one caller's rows may have caused rather than the database as a whole (a value
   * it refuses, a key another row no longer has). The failed batch is then written again one caller
   * at a time, so only that caller fails and the others' rows, other devices' readings, are kept.
   * Only for writes that are one statement (a failed one left nothing behind to write twice).
   */
  isolate?: (err: unknown) => boolean
}

/** PostgreSQL SQLSTATE classes of errors a row's own values cause: data exception, integrity violation, program limit. */
export const isRowError = (err: unknown): boolean => {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code)
}

interface Pending<Row, Result> {
  rows: Row[]
  resolve: (results: Result[]) => void
  reject: (err: unknown) => void
}

export class GroupCommitWriter<Row, Result> {
  private queue: Array<Pending<Row, Result>> = []
  private queuedRows = 0
  private inFlight = 0
  private timer: NodeJS.Timeout | null = null
  private scheduled = false
  private idleWaiters: Array<() => void> = []
  /** writes handed in and not yet settled, for `settled()` */
  private readonly outstanding = new Set<Promise<Result[]>>()

  constructor(private readonly flushRows: (rows: Row[]) => Promise<Result[]>, private readonly options: GroupCommitOptions) {}

  /** Resolves with one result per row once the batch holding them is committed. */
  write(rows: Row[]): Promise<Result[]> {
    if (rows.length === 0) return Promise.resolve([])
    const written = new Promise<Result[]>((resolve, reject) => {
      this.queue.push({ rows, resolve, reject })
      this.queuedRows += rows.length
      this.schedule()
    })
    this.outstanding.add(written)
    const forget = () => { this.outstanding.delete(written) }
    written.then(forget, forget)
    return written
  }

  /**
   * Resolves once every write handed in before this call has committed or failed (later ones are
   * not waited for). For a statement that must see those rows, e.g. marking a stored fix filtered.
   */
  settled(): Promise<void> {
    if (this.outstanding.size === 0) return Promise.resolve()
    return Promise.allSettled([...this.outstanding]).then(() => undefined)
  }

  /** Resolves when nothing is queued or in flight. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  get pendingRows(): number { return this.queuedRows }

  private schedule() {
    if (this.inFlight >= this.options.maxConcurrent || this.queue.length === 0) return
    if (this.queuedRows >= this.options.maxBatch) { this.clearTimer(); this.flush(); return }
    if (this.scheduled || this.timer) return
    if (this.options.maxWaitMs > 0) {
      this.timer = setTimeout(() => { this.timer = null; this.flush() }, this.options.maxWaitMs)
    } else {
      // the rest of this tick's packets (one socket read) join the batch
      this.scheduled = true
      setImmediate(() => { this.scheduled = false; this.flush() })
    }
  }

  private clearTimer() {
    if (this.timer) { clearTimeout(this.timer); this.timer = null }
  }

  private flush() {
    if (this.queue.length === 0 || this.inFlight >= this.options.maxConcurrent) return
    const batch: Array<Pending<Row, Result>> = []
    let count = 0
    while (this.queue.length > 0 && (count === 0 || count + this.queue[0]!.rows.length <= this.options.maxBatch)) {
      const next = this.queue.shift()!
      batch.push(next)
      count += next.rows.length
    }
    this.queuedRows -= count
    this.inFlight++
    const rows = batch.length === 1 ? batch[0]!.rows : batch.flatMap((p) => p.rows)
    const started = performance.now()
    this.flushRows(rows).then((results) => {
      this.options.onBatch?.(rows.length, (performance.now() - started) / 1000)
      let offset = 0
      for (const p of batch) {
        p.resolve(results.slice(offset, offset + p.rows.length))
        offset += p.rows.length
      }
    }, (err: unknown) => {
      if (batch.length > 1 && this.options.isolate?.(err)) return this.writeApart(batch)
      for (const p of batch) p.reject(err)
    }).finally(() => {
      this.inFlight--
      if (this.queue.length > 0) this.schedule()
      else if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((w) => w())
    })
    // more queued than one batch holds: start the next write now if a slot is free
    if (this.queue.length > 0) this.schedule()
  }

  /** After a batch failed on one caller's rows: each caller's rows on their own, one after another, in the same slot. */
  private async writeApart(batch: Array<Pending<Row, Result>>): Promise<void> {
    for (const p of batch) {
      await this.flushRows(p.rows).then(p.resolve, p.reject)
    }
  }
}
