// The ReTrack process: start everything, stop gracefully on SIGINT/SIGTERM (stop accepting,
// drain, flush, close), and give up after SHUTDOWN_TIMEOUT_MS; a second signal exits at once.
// With WORKERS > 1 this process only supervises that many of them (src/workers.ts).
// Exit codes: 0 stopped cleanly, 78 invalid configuration (nothing was started), 1 anything else.
import cluster from 'node:cluster'
import { loadConfig, loadDotEnv, ConfigError, EX_CONFIG, type Config } from './config.js'
import { createLogger } from './logger.js'
import { jwtSecretProblem } from './secrets.js'
import { runSupervisor, workersProblem, type WorkerReady } from './workers.js'
import type { RunningServer } from './server.js'

let config: Config
try {
  loadDotEnv()
  config = loadConfig()
  // settings that are each valid but cannot run together: refused before anything starts
  const problems = [jwtSecretProblem(config), workersProblem(config)].filter((p): p is string => p !== null)
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)
} catch (err) {
  if (err instanceof ConfigError) { console.error(err.message); process.exit(EX_CONFIG) }
  throw err
}
const log = createLogger(config)
const started = Date.now()

if (config.WORKERS > 1 && cluster.isPrimary) {
  runSupervisor(config, log)
} else {
  let server: RunningServer | null = null
  let stopping = false
  const close = (running: RunningServer) => {
    running.close().then(() => { log.info('stopped'); process.exit(0) }, (err: unknown) => { log.error({ err }, 'shutdown failed'); process.exit(1) })
  }
  // Installed before the start so that a signal during it (migrations, the first PGlite start) stops
  // what was started, the data folder's lock included, instead of killing the process mid-way.
  const shutdown = (reason: string) => {
    if (stopping) {
      log.warn({ signal: reason }, 'second signal: exiting without finishing the shutdown')
      process.exit(1)
    }
    stopping = true
    log.info({ signal: reason }, server ? 'shutting down' : 'shutting down once the start-up is over')
    const timer = setTimeout(() => { log.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out'); process.exit(1) }, config.SHUTDOWN_TIMEOUT_MS)
    timer.unref()
    if (server) close(server)
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  if (cluster.isWorker) {
    // Ctrl-C reaches every process of the terminal's group: the supervisor turns it into one SIGTERM
    // per worker, so a worker leaves SIGINT to it (or that SIGTERM would count as a second signal)
    process.on('SIGINT', () => log.debug('SIGINT left to the supervisor'))
    // a worker whose supervisor is gone can take no new connections: it stops too
    process.on('disconnect', () => { if (!stopping) shutdown('supervisor gone') })
  } else {
    process.on('SIGINT', () => shutdown('SIGINT'))
  }

  try {
    // loaded here, not at the top: a supervisor never runs the server and need not hold its modules
    const { startServer } = await import('./server.js')
    server = await startServer(config, log)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    log.fatal({ err }, `ReTrack failed to start: ${message}`)
    process.exit(err instanceof ConfigError ? EX_CONFIG : 1)
  }
  if (stopping) {
    close(server)
  } else if (cluster.isWorker) {
    const ready: WorkerReady = { type: 'retrack-ready', http: server.httpPort, mqtt: server.mqttPort ?? null }
    process.send?.(ready)
    log.info({ worker: cluster.worker?.id, ms: Date.now() - started }, 'worker listening')
  } else {
    log.info({ http: server.httpPort, mqtt: server.mqttPort, ms: Date.now() - started }, `ReTrack is up: API http://localhost:${server.httpPort}/docs, MQTT mqtt://localhost:${server.mqttPort ?? '-'}`)
  }
}
