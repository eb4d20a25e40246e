// The ReTrack process: start everything, stop gracefully on SIGINT/SIGTERM (stop accepting,
// drain, flush, close), and give up after SHUTDOWN_TIMEOUT_MS.
import { loadConfig, loadDotEnv, ConfigError } from './config.js'
import { createLogger } from './logger.js'
import { startServer } from './server.js'

loadDotEnv()
let config
try {
  config = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) { console.error(err.message); process.exit(78) }
  throw err
}
const log = createLogger(config)
const started = Date.now()

try {
  const server = await startServer(config, log)
  log.info({ http: server.httpPort, mqtt: server.mqttPort, ms: Date.now() - started }, `ReTrack is up: API http://localhost:${server.httpPort}/docs, MQTT mqtt://localhost:${server.mqttPort ?? '-'}`)

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
} catch (err) {
  log.fatal({ err }, 'ReTrack failed to start')
  process.exit(1)
}
