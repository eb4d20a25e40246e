// WORKERS > 1: this process becomes the node's supervisor and runs that many ReTrack processes
// (node:cluster) sharing its MQTT and HTTP ports; the supervisor hands each new connection to a
// worker in turn. Why: one Node process uses one core and may hold only as many sockets as its
// open-file limit allows; the workers of a node share state, sessions and subscriptions through
// PostgreSQL and Redis exactly as separate nodes do (the broker's cluster mode), so a command or a
// device's state does not care which worker its connection landed on.
// Workers start one after another (migrations and first-run set-up run once, in the first); a
// worker that dies is replaced; SIGINT/SIGTERM stop every worker gracefully, then the supervisor; a
// second signal kills them.
import cluster, { type Worker } from 'node:cluster'
import type { Config } from './config.js'
import type { Logger } from './logger.js'
import { nodeMetricsSupervisor } from './cluster-metrics.js'

/** What a worker tells the supervisor once it listens. */
export interface WorkerReady { type: 'retrack-ready', http: number, mqtt: number | null }

const isReady = (m: unknown): m is WorkerReady => typeof m === 'object' && m !== null && (m as WorkerReady).type === 'retrack-ready'

/** In a worker the supervisor started, its slot (0 … WORKERS-1, which a replacement takes over); else undefined. */
export function workerSlot(): string | undefined {
  return cluster.isWorker ? process.env['RETRACK_WORKER_SLOT'] : undefined
}

/** more restarts than this within RESTART_WINDOW_MS means something is wrong with every worker: stop */
const MAX_RESTARTS = 5
const RESTART_WINDOW_MS = 60_000
const RESTART_DELAY_MS = 1000

/** Why this configuration cannot run as several workers, or null when it can. */
export function workersProblem(config: Pick<Config, 'WORKERS' | 'DATABASE_URL' | 'REDIS_URL' | 'MQTT_CLUSTER'>): string | null {
  if (config.WORKERS <= 1) return null
  // the embedded PGlite belongs to one process, and in-process state or subscriptions would split
  if (!config.DATABASE_URL) return 'WORKERS > 1 needs DATABASE_URL (the embedded database belongs to one process)'
  if (!config.REDIS_URL) return 'WORKERS > 1 needs REDIS_URL (workers share asset state, sessions and subscriptions through Redis)'
  if (config.MQTT_CLUSTER === 'off') return 'WORKERS > 1 needs MQTT_CLUSTER auto or on (a command must reach a device on any worker)'
  return null
}

export function runSupervisor(config: Config, log: Logger): void {
  const started = Date.now()
  const workers = new Set<Worker>()
  /** the workers that said they were up */
  const upWorkers = new Set<Worker>()
  // a worker's /metrics answers for the whole node: it asks here, and this asks every worker
  const metrics = nodeMetricsSupervisor(() => upWorkers)
  const restarts: number[] = []
  let stopping = false
  let up = false

  // each worker has a slot (0 … WORKERS-1) that its replacement takes over: what a worker names after
  // itself outside this host (its session on an external broker) stays the same across restarts
  const fork = (slot: number): Promise<WorkerReady> => new Promise((resolve, reject) => {
    const worker = cluster.fork({ RETRACK_WORKER_SLOT: String(slot) })
    workers.add(worker)
    let ready = false
    worker.on('message', (m: unknown) => {
      if (metrics.message(worker, m)) return
      if (!isReady(m) || ready) return
      ready = true
      upWorkers.add(worker)
      // workerPid, not pid: pid is already the supervisor's own (pino's base fields)
      log.info({ worker: worker.id, slot, workerPid: worker.process.pid }, 'worker up')
      resolve(m)
    })
    worker.once('exit', (code, signal) => {
      workers.delete(worker)
      upWorkers.delete(worker)
      metrics.exited(worker)
      if (!ready) reject(new Error(`worker ${worker.id} exited with ${signal ?? code} before it was ready`))
      // a worker that fails to start while the node starts fails the start (the caller gives up);
      // any other death, a replacement that could not start included, is replaced
      if (stopping || (!ready && !up)) return
      log.error({ worker: worker.id, slot, workerPid: worker.process.pid, code, signal }, 'worker died; starting another')
      restarts.push(Date.now())
      while (restarts.length > 0 && restarts[0]! < Date.now() - RESTART_WINDOW_MS) restarts.shift()
      if (restarts.length > MAX_RESTARTS) { log.fatal({ restarts: restarts.length }, 'workers keep dying; stopping the node'); stop(1); return }
      setTimeout(() => { if (!stopping) fork(slot).catch((err: unknown) => log.error({ err }, 'a replacement worker failed to start')) }, RESTART_DELAY_MS)
    })
  })

  const stop = (exitCode: number) => {
    if (stopping) return
    stopping = true
    const timer = setTimeout(() => {
      log.error('workers did not stop in time')
      for (const w of workers) w.process.kill('SIGKILL')
      process.exit(1)
    }, config.SHUTDOWN_TIMEOUT_MS + 1000)
    timer.unref()
    const exits = [...workers].map((w) => new Promise<number>((resolve) => {
      w.once('exit', (code) => resolve(code ?? 1))
      w.process.kill('SIGTERM')
    }))
    void Promise.all(exits).then((codes) => {
      log.info({ workers: codes.length }, 'stopped')
      process.exit(codes.every((c) => c === 0) ? exitCode : 1)
    })
  }
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // a second signal: the operator will not wait for the drain
      log.warn({ signal }, 'second signal: killing the workers without finishing the shutdown')
      for (const w of workers) w.process.kill('SIGKILL')
      process.exit(1)
    }
    log.info({ signal }, 'shutting down')
    stop(0)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  void (async () => {
    let first: WorkerReady | null = null
    for (let i = 0; i < config.WORKERS && !stopping; i++) {
      const ready = await fork(i)
      first ??= ready
    }
    if (!first || stopping) return
    up = true
    log.info({ http: first.http, mqtt: first.mqtt, workers: config.WORKERS, ms: Date.now() - started },
      `ReTrack is up (${config.WORKERS} workers): API http://localhost:${first.http}/docs, MQTT mqtt://localhost:${first.mqtt ?? '-'}`)
  })().catch((err: unknown) => {
    log.fatal({ err }, up ? 'worker failed' : 'ReTrack failed to start')
    stop(1)
  })
}
