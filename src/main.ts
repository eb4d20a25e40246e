// The ReTrack process: start everything, stop gracefully on SIGINT/SIGTERM (stop accepting,
// drain, flush, close), and give up after SHUTDOWN_TIMEOUT_MS. With WORKERS > 1 this process only
// supervises that many of them (src/workers.ts).
import cluster from 'node:cluster'
import { loadConfig, loadDotEnv, ConfigError } from './config.js'
import { createLogger } from './logger.js'
import { runSupervisor, workersProblem, type WorkerReady } from './workers.js'

loadDotEnv()
let config
try {
  config = loadConfig()
  const problem = workersProblem(config)
  if (problem) throw new ConfigError(`invalid configuration: ${problem}`)
} catch (err) {
  if (err instanceof ConfigError) { console.error(err.message); process.exit(78) }
  throw err
}
const log = createLogger(config)
const started = Date.now()

if (config.WORKERS > 1 && cluster.isPrimary) {
  runSupervisor(config, log)
} else {
  try {
    // loaded here, not at the top: a supervisor never runs the server and need not hold its modules
    const { startServer } = await import('./server.js')
    const server = await startServer(config, log)
    if (cluster.isWorker) {
      const ready: WorkerReady = { type: 'retrack-ready', http: server.httpPort, mqtt: server.mqttPort ?? null }
      process.send?.(ready)
      log.info({ worker: cluster.worker?.id, ms: Date.now() - started }, 'worker listening')
    } else {
      log.info({ http: server.httpPort, mqtt: server.mqttPort, ms: Date.now() - started }, `ReTrack is up: API http://localhost:${server.httpPort}/docs, MQTT mqtt://localhost:${server.mqttPort ?? '-'}`)
    }

    let stopping = false
    const shutdown = (signal: string) => {
      if (stopping) return
      stopping = true
      log.info({ signal }, 'shutting down')
      const timer = setTimeout(() => { log.error('shutdown timed out'); process.exit(1) }, config.SHUTDOWN_TIMEOUT_MS)
      timer.unref()
      server.close().then(() => { log.info('stopped'); process.exit(0) }, (err: unknown) => { log.error({ err }, 'shutdown failed'); process.exit(1) })
    }
    process.on('SIGINT', () => shutdown('SIGINT'))
    process.on('SIGTERM', () => shutdown('SIGTERM'))
    // a worker whose supervisor is gone can take no new connections: it stops too
    if (cluster.isWorker) process.on('disconnect', () => shutdown('supervisor gone'))
  } catch (err) {
    log.fatal({ err }, 'ReTrack failed to start')
    process.exit(1)
  }
}
