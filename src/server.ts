// Wiring: config → logger → database (migrated) → API, each part started in order and stopped in
// reverse. main.ts runs it as a process; integration tests start it in-process on port 0.
import type { AddressInfo } from 'node:net'
import type { Config } from './config.js'
import type { Logger } from './logger.js'
import { openDatabase, type Database } from './db/database.js'
import { migrate } from './db/migrate.js'
import { bootstrapIfEmpty } from './db/accounts.js'
import { lockDataDir } from './db/embedded-lock.js'
import { Metrics } from './metrics.js'
import { TokenService } from './security/tokens.js'
import { jwtSecret } from './secrets.js'
import { buildApp, type App } from './api/app.js'

export interface RunningServer {
  config: Config
  db: Database
  app: App
  metrics: Metrics
  /** actual ports (useful when configured as 0) */
  httpPort: number
  close(): Promise<void>
}

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const stops: Array<() => Promise<void> | void> = []
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try { await stop() } catch (err) { log.error({ err }, 'error while stopping') }
    }
  }
  try {
    if (!config.DATABASE_URL && !config.DATA_DIR.startsWith('memory://')) stops.push(lockDataDir(config.DATA_DIR))
    const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolMax: config.DB_POOL_MAX, log })
    stops.push(() => db.close())
    const applied = await migrate(db.pool, log)
    log.info({ database: db.location, kind: db.kind, applied: applied.length }, 'database ready')
    const seeded = await bootstrapIfEmpty(db.prisma, { tenant: config.BOOTSTRAP_TENANT, email: config.BOOTSTRAP_EMAIL, password: config.BOOTSTRAP_PASSWORD })
    if (seeded) log.info({ tenant: seeded.tenant.slug, email: seeded.admin.email }, 'first run: created tenant and platform admin')

    const metrics = new Metrics()
    const secret = jwtSecret(config)
    const tokens = new TokenService(secret, config.ACCESS_TOKEN_TTL_S, config.DEVICE_TOKEN_TTL_S)
    const app = await buildApp({ config, log, db, metrics, tokens }, { jwtSecret: secret })
    await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT })
    stops.push(() => app.close())
    const httpPort = (app.server.address() as AddressInfo).port

    return { config, db, app, metrics, httpPort, close: stopAll }
  } catch (err) {
    await stopAll()
    throw err
  }
}
