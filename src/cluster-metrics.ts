// /metrics for a whole node under WORKERS > 1. Each worker has its own registry, and the supervisor
// hands each HTTP connection to some worker: answered from that worker's registry alone, /metrics
// would alternate between the workers' counts, which Prometheus reads as counter resets. So the
// worker that serves /metrics asks the supervisor, which asks every worker for its registry (as
// JSON), merges them with prom-client's AggregatorRegistry.aggregate and answers with the text.
//   worker ──node-metrics──▶ supervisor ──worker-metrics──▶ every worker (the asker included)
//   worker ◀──reply (text)── supervisor ◀──reply (JSON)──── every worker
// What the node does (requests, readings, connected devices, batches…) is summed over the workers
// (a metric may name another `aggregator` in src/metrics.ts). What a process is (memory, CPU, event
// loop, GC, start time) cannot be summed meaningfully: each worker's carries a `worker` label, its
// slot (0 … WORKERS-1, which a replacement takes over), so one stuck or bloated worker stays visible.
// A scrape fails (503) rather than answer without a live worker's share, which would look like a
// reset; a worker that exits while asked simply has no share any more.
import type { Worker } from 'node:cluster'
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client'
import type { Metrics } from './metrics.js'

type MetricJson = MetricObjectWithValues<MetricValue<string>>

/** worker → supervisor: the node's metrics, please */
interface NodeMetricsRequest { type: 'retrack-node-metrics', id: number }
/** supervisor → worker: the node's metrics (Prometheus text), or why there are none */
interface NodeMetricsReply { type: 'retrack-node-metrics-reply', id: number, text?: string, error?: string }
/** supervisor → worker: this worker's own metrics, please */
interface WorkerMetricsRequest { type: 'retrack-worker-metrics', id: number }
/** worker → supervisor: its own metrics (prom-client JSON) */
interface WorkerMetricsReply { type: 'retrack-worker-metrics-reply', id: number, metrics?: MetricJson[], error?: string }

const is = <T extends { type: string }>(type: T['type']) => (m: unknown): m is T =>
  typeof m === 'object' && m !== null && (m as T).type === type && typeof (m as { id?: unknown }).id === 'number'
const isNodeMetricsRequest = is<NodeMetricsRequest>('retrack-node-metrics')
const isNodeMetricsReply = is<NodeMetricsReply>('retrack-node-metrics-reply')
const isWorkerMetricsRequest = is<WorkerMetricsRequest>('retrack-worker-metrics')
const isWorkerMetricsReply = is<WorkerMetricsReply>('retrack-worker-metrics-reply')

/** How long the supervisor waits for every worker's metrics (below Prometheus' default 10 s scrape timeout). */
export const GATHER_TIMEOUT_MS = 4000
/** How long a worker waits for the supervisor's answer (longer: the supervisor's own timeout answers first). */
const ASK_TIMEOUT_MS = GATHER_TIMEOUT_MS + 1000

const errorMessage = (err: unknown) => err instanceof Error ? err.message : String(err)

// ---- in the supervisor ----

interface Gathering { waiting: Set<Worker>, got: MetricJson[][], done: (err: Error | null) => void }

/**
 * The supervisor's side: answers a worker's request for the node's metrics by gathering every
 * worker's. `workers()` lists the workers that are up (the asker is asked too, up yet or not).
 * Call `message` with every message a worker sends and `exited` when one exits.
 */
export function nodeMetricsSupervisor(workers: () => Iterable<Worker>) {
  const gatherings = new Map<number, Gathering>()
  let nextId = 0

  const send = (worker: Worker, message: NodeMetricsReply | WorkerMetricsRequest) => {
    // a worker gone since cannot be answered; its error event must not reach (and crash) the supervisor
    if (worker.isConnected()) worker.send(message, undefined, () => undefined)
  }

  const gather = (asker: Worker): Promise<string> => new Promise((resolve, reject) => {
    const id = nextId++
    const asked = new Set([...workers(), asker].filter((w) => w.isConnected()))
    const timer = setTimeout(() => {
      gathering.done(new Error(`no metrics from worker ${[...gathering.waiting].map((w) => w.id).join(', ')} within ${GATHER_TIMEOUT_MS} ms`))
    }, GATHER_TIMEOUT_MS)
    const gathering: Gathering = {
      waiting: new Set(asked), got: [],
      done: (err) => {
        clearTimeout(timer)
        gatherings.delete(id)
        if (err) { reject(err); return }
        Promise.resolve(AggregatorRegistry.aggregate(gathering.got).metrics()).then(resolve, reject)
      },
    }
    gatherings.set(id, gathering)
    if (asked.size === 0) { gathering.done(null); return }
    for (const w of asked) send(w, { type: 'retrack-worker-metrics', id })
  })

  const settle = (id: number, from: Worker, metrics: MetricJson[] | undefined, error: string | undefined) => {
    const gathering = gatherings.get(id)
    if (!gathering || !gathering.waiting.delete(from)) return
    if (error !== undefined) { gathering.done(new Error(`worker ${from.id}: ${error}`)); return }
    if (metrics) gathering.got.push(metrics)
    if (gathering.waiting.size === 0) gathering.done(null)
  }

  return {
    /** Handles the message if it is about metrics; false if it is not. */
    message(worker: Worker, m: unknown): boolean {
      if (isWorkerMetricsReply(m)) { settle(m.id, worker, m.metrics, m.error); return true }
      if (!isNodeMetricsRequest(m)) return false
      gather(worker).then(
        (text) => send(worker, { type: 'retrack-node-metrics-reply', id: m.id, text }),
        (err: unknown) => send(worker, { type: 'retrack-node-metrics-reply', id: m.id, error: errorMessage(err) }),
      )
      return true
    },
    /** A worker that exited has no share in the gatherings that still wait for it. */
    exited(worker: Worker) {
      for (const [id, gathering] of gatherings) if (gathering.waiting.has(worker)) settle(id, worker, undefined, undefined)
    },
  }
}

// ---- in a worker ----

/** This worker's metrics as the supervisor merges them: process metrics labelled with the worker's slot. */
async function ownMetrics(metrics: Metrics, slot: string): Promise<MetricJson[]> {
  const all = await metrics.registry.getMetricsAsJSON()
  return all.map((m) => !metrics.processMetrics.has(m.name) ? m : {
    // copies: prom-client hands out its live values
    ...m, aggregator: 'first' as const,
    values: m.values.map((v) => ({ ...v, labels: { ...v.labels, worker: slot } })),
  })
}

/**
 * A worker's side: answers the supervisor's requests for this worker's metrics until `close()`, and
 * `ask()`s the supervisor for the node's (Prometheus text; rejects after ASK_TIMEOUT_MS or with the
 * supervisor's reason).
 */
export function nodeMetricsWorker(metrics: Metrics, slot: string): { ask: () => Promise<string>, close: () => void } {
  const asking = new Map<number, { resolve: (text: string) => void, reject: (err: Error) => void }>()
  let nextId = 0
  const send = (message: NodeMetricsRequest | WorkerMetricsReply, onError: (err: Error) => void) => {
    if (!process.send || !process.connected) { onError(new Error('no supervisor')); return }
    process.send(message, undefined, {}, (err: Error | null) => { if (err) onError(err) })
  }
  const onMessage = (m: unknown) => {
    if (isWorkerMetricsRequest(m)) {
      ownMetrics(metrics, slot).then(
        (own) => send({ type: 'retrack-worker-metrics-reply', id: m.id, metrics: own }, () => undefined),
        (err: unknown) => send({ type: 'retrack-worker-metrics-reply', id: m.id, error: errorMessage(err) }, () => undefined),
      )
    } else if (isNodeMetricsReply(m)) {
      const pending = asking.get(m.id)
      asking.delete(m.id)
      if (m.text !== undefined) pending?.resolve(m.text)
      else pending?.reject(new Error(m.error ?? 'no answer'))
    }
  }
  process.on('message', onMessage)
  const ask = () => new Promise<string>((resolve, reject) => {
    const id = nextId++
    const timer = setTimeout(() => { asking.delete(id); reject(new Error(`the supervisor did not answer within ${ASK_TIMEOUT_MS} ms`)) }, ASK_TIMEOUT_MS)
    const settle = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => { clearTimeout(timer); asking.delete(id); fn(...a) }
    asking.set(id, { resolve: settle(resolve), reject: settle(reject) })
    send({ type: 'retrack-node-metrics', id }, settle(reject))
  })
  return { ask, close: () => { process.off('message', onMessage) } }
}
