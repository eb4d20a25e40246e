// Wiring: config → logger → database (migrated) → state → ingestion → broker → API. Shutdown runs
// the other way in four steps: stop accepting (HTTP, MQTT listeners and connections), drain (queued
// fixes through the pipeline), flush (batches, presence), close (stores, bus, database).
import type { AddressInfo } from 'node:net'
import type { Redis } from 'ioredis'
import type { Config } from './config.js'
import type { Logger } from './logger.js'
import { openDatabase, type Database } from './db/database.js'
import { migrate } from './db/migrate.js'
import { bootstrapDemo, bootstrapIfEmpty } from './db/accounts.js'
import path from 'node:path'
import { lockDataDir, secureDataDir } from './db/embedded-lock.js'
import { DeviceDirectory } from './db/device-directory.js'
import { UserStatusCache } from './security/user-status.js'
import { reportOutages } from './redis/outages.js'
import { Metrics } from './metrics.js'
import { TokenService } from './security/tokens.js'
import { jwtSecret } from './secrets.js'
import { buildApp, type App } from './api/app.js'
import type { Change } from './api/context.js'
import { LocalBus, RedisBus, type Bus } from './bus/bus.js'
import { MemoryPresenceStore, MemoryStateStore } from './state/memory.js'
import { SNAPSHOT_FILE, StateSnapshots } from './state/snapshot.js'
import { firstConnection, hostOf, lastErrorSuffix } from './first-connection.js'
import { RedisPresenceStore, RedisStateStore, createRedis } from './state/redis.js'
import type { AssetStateStore, PresenceStore } from './core/ports.js'
import { assembleIngestion, type IngestionParts } from './ingest/assemble.js'
import { DbAssetContextLoader } from './db/asset-context.js'
import { OfflineSweep } from './core/offline-sweep.js'
import { RetentionSweeper } from './db/retention.js'
import { MqttBroker } from './broker/broker.js'
import { ExternalConsumer } from './ingest/external.js'
import { deviceTopic } from './contracts/topics.js'
import { LiveHub } from './live/hub.js'
import { MqttEventRelay } from './live/mqtt-relay.js'
import { TenantSlugs } from './live/tenant-slugs.js'
import { WebhookDispatcher, webhookSettings } from './webhooks/dispatcher.js'

export interface RunningServer {
  config: Config
  db: Database
  app: App
  metrics: Metrics
  state: AssetStateStore
  presence: PresenceStore
  ingestion: IngestionParts
  sweep: OfflineSweep
  /** not started (enabled false) when every RETENTION_*_DAYS is 0 */
  retention: RetentionSweeper
  /** outbound webhooks; not started when WEBHOOK_CONCURRENCY is 0 */
  webhooks: WebhookDispatcher
  broker: MqttBroker | null
  bus: Bus
  live: LiveHub
  /** actual ports (useful when configured as 0) */
  httpPort: number
  mqttPort: number | null
  close(): Promise<void>
}

type Step = () => Promise<void> | void

/** how long start-up waits for Redis before it gives up (the orchestrator restarts the node) */
export const REDIS_START_TIMEOUT_MS = 5000

/** Resolves once `redis` is connected; rejects with a message naming REDIS_URL (never its value) after `ms`. */
function redisConnected(redis: Redis, url: string, ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  return firstConnection(redis, 'ready', ms, (last) =>
    new Error(`REDIS_URL: Redis at ${hostOf(url, 6379)} did not answer within ${ms / 1000} s${lastErrorSuffix(last)}`))
}

/**
 * Commands go out on every broker a device may be connected to: the embedded one and the external
 * one (a device subscribes on the one it uses; the other has no subscriber for its topic).
 */
function commandSender(broker: MqttBroker | null, external: ExternalConsumer | null) {
  return async (tenant: string, deviceId: string, command: object): Promise<void> => {
    const topic = deviceTopic(tenant, deviceId, 'commands')
    const payload = JSON.stringify(command)
    await Promise.all([broker?.publish(topic, payload, 1), external?.publish(topic, payload, 1)])
  }
}

/** A listen error as an operator reads it: the setting, the address, what is wrong. */
function listenError(err: unknown, setting: string, hostSetting: string, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'EADDRINUSE') return new Error(`${setting}: ${host}:${port} is already in use (another ReTrack or another server listens there)`)
  if (code === 'EACCES') return new Error(`${setting}: not allowed to listen on ${host}:${port} (ports below 1024 need privileges)`)
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new Error(`${hostSetting}: ${host} is not an address of this machine`)
  return err instanceof Error ? err : new Error(String(err))
}

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  // shutdown steps by phase, each phase run in reverse order of registration
  const phases: Record<'accept' | 'drain' | 'flush' | 'close', Step[]> = { accept: [], drain: [], flush: [], close: [] }
  const stopAll = async () => {
    for (const phase of ['accept', 'drain', 'flush', 'close'] as const) {
      for (const step of phases[phase].reverse()) {
        try { await step() } catch (err) { log.error({ err, phase }, 'error while stopping') }
      }
      phases[phase] = []
    }
  }
  try {
    if (!config.DATA_DIR.startsWith('memory://')) {
      // owner only (0700) before anything is written into it; created only when this node writes
      // there: the embedded database, a generated JWT secret, the state snapshot (no Redis)
      secureDataDir(config.DATA_DIR, log, { create: !config.DATABASE_URL || !config.JWT_SECRET || !config.REDIS_URL })
      if (!config.DATABASE_URL) phases.close.push(lockDataDir(config.DATA_DIR))
    }
    const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolMax: config.DB_POOL_MAX, queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS, log })
    phases.close.push(() => db.close())
    const applied = await db.withoutQueryTimeout((pool) => migrate(pool, log))
    log.info({ database: db.location, kind: db.kind, applied: applied.length }, 'database ready')
    const seeded = await bootstrapIfEmpty(db.prisma, { tenant: config.BOOTSTRAP_TENANT, email: config.BOOTSTRAP_EMAIL, password: config.BOOTSTRAP_PASSWORD })
    if (seeded) log.info({ tenant: seeded.tenant.slug, email: seeded.admin.email }, 'first run: created tenant and platform admin')
    else if (db.kind === 'embedded' && !config.DATA_DIR.startsWith('memory://') && !config.BOOTSTRAP_TENANT) {
      const passwordFile = path.resolve(config.DATA_DIR, 'initial-admin-password')
      const demo = await bootstrapDemo(db.prisma, passwordFile)
      if (demo) log.info({ tenant: demo.tenant.slug, email: demo.admin.email, passwordFile }, 'first run: created the demo tenant; its admin password is in passwordFile')
    }

    const metrics = new Metrics()
    const secret = jwtSecret(config)
    const tokens = new TokenService(secret, config.ACCESS_TOKEN_TTL_S, config.DEVICE_TOKEN_TTL_S)

    let state: AssetStateStore
    let presence: PresenceStore
    let bus: Bus
    let redis: ReturnType<typeof createRedis> | null = null
    if (config.REDIS_URL) {
      redis = createRedis(config.REDIS_URL)
      const client = redis
      phases.close.push(() => { client.disconnect() })
      // Redis must answer before anything else uses it (the broker's cluster mode cannot start
      // without it); later outages are logged once each (ioredis reconnects by itself)
      await redisConnected(client, config.REDIS_URL, REDIS_START_TIMEOUT_MS)
      reportOutages(client, log, 'state')
      state = new RedisStateStore(redis, config.REDIS_KEY_PREFIX)
      presence = new RedisPresenceStore(redis, config.REDIS_KEY_PREFIX)
      bus = new RedisBus(config.REDIS_URL, `${config.REDIS_KEY_PREFIX}bus:`, log)
    } else {
      const memory = { state: new MemoryStateStore(), presence: new MemoryPresenceStore() }
      state = memory.state
      presence = memory.presence
      bus = new LocalBus(log)
      // kept across restarts in a real data folder (the pipeline has drained by the flush phase)
      if (!config.DATA_DIR.startsWith('memory://')) {
        const snapshots = new StateSnapshots(path.resolve(config.DATA_DIR, SNAPSHOT_FILE), memory, log)
        await snapshots.load()
        snapshots.start()
        phases.flush.push(() => snapshots.stop())
      }
    }
    phases.close.push(() => bus.close(), () => state.close())
    phases.flush.push(() => presence.close())
    log.info({ state: config.REDIS_URL ? 'redis' : 'memory' }, 'asset state store ready')

    const directory = new DeviceDirectory(db.pool)
    // one per node: the API and the broker check user tokens against it, and a change to a user
    // (on any node, through the bus) drops its entry at once
    const users = new UserStatusCache(db.pool)
    const contexts = new DbAssetContextLoader(db.pool, directory, log)
    // live events and positions for SSE on every node (through the bus); stopped after the drain
    // so the last events and positions still go out
    const live = new LiveHub({
      bus, log,
      vehicleOf: async (tenantId, deviceId) => {
        const device = await directory.find(deviceId)
        return device?.tenantId === tenantId ? device.vehicleId : null
      },
    })
    live.start()
    phases.flush.push(() => live.stop())
    const ingestion = assembleIngestion({
      config, log, metrics, pool: db.pool, state, presence, contexts,
      onShipmentChanged: (tenantId, id) => bus.publish('changes', { kind: 'shipment', tenantId, id } satisfies Change),
      onEvents: (events) => live.publishEvents(events),
      onFixes: (fixes) => live.publishPositions(fixes),
    })
    phases.drain.push(() => ingestion.drain())
    const sweep = new OfflineSweep(presence, ingestion.pipeline, {
      afterS: config.OFFLINE_AFTER_S, everyS: config.OFFLINE_SWEEP_S, eta: { atRiskS: config.ETA_AT_RISK_S, thresholdS: config.ETA_THRESHOLD_S },
    }, log)
    sweep.start()
    phases.accept.push(() => sweep.stop())
    // old positions and dead letters (one node of the deployment at a time: an advisory lock);
    // stopped with the listeners, so it holds no database connection while the pipeline drains
    const retentionSettings = {
      positionsDays: config.RETENTION_POSITIONS_DAYS, deadLettersDays: config.RETENTION_DEAD_LETTERS_DAYS,
      webhookDeliveriesDays: config.RETENTION_WEBHOOK_DELIVERIES_DAYS, everyS: config.RETENTION_SWEEP_INTERVAL_S,
    }
    const retention = new RetentionSweeper(db, retentionSettings, log, metrics)
    if (retention.enabled) {
      retention.start()
      phases.accept.push(() => retention.stop())
      log.info(retentionSettings, 'retention sweep scheduled')
    }
    // webhook deliveries (written with their events) go out from here; this node's stored events
    // nudge it, the poll finds the rest. Stopped with the listeners: attempts in flight get a short
    // grace, the others are due again at the next start or on another node
    const webhooks = new WebhookDispatcher({ pool: db.pool, log: log.child({ component: 'webhooks' }), metrics, settings: webhookSettings(config) })
    if (webhooks.enabled) {
      live.addRelay({ relay: () => webhooks.nudge() })
      webhooks.start()
      phases.accept.push(() => webhooks.stop())
    }

    let broker: MqttBroker | null = null
    let mqttPort: number | null = null
    if (config.EMBEDDED_BROKER) {
      broker = await MqttBroker.create({ config, log, metrics, directory, tokens, ingestor: ingestion.ingestor, presence, users })
      phases.accept.push(() => broker?.close()) // before listen: a listener that did bind is closed if another fails
      const ports = await broker.listen().catch((err: unknown) => {
        const tls = (err as { port?: number }).port === config.MQTT_TLS_PORT && config.MQTT_TLS_PORT !== config.MQTT_PORT
        throw listenError(err, tls ? 'MQTT_TLS_PORT' : 'MQTT_PORT', 'MQTT_HOST', config.MQTT_HOST, tls ? config.MQTT_TLS_PORT : config.MQTT_PORT)
      })
      mqttPort = ports.tcpPort
      log.info({ port: ports.tcpPort, tls: ports.tlsPort, cluster: broker.clustered }, 'MQTT broker listening')
      // stored events on tenants/{slug}/events/{type} for integrations, from the node that stored them
      const mqtt = broker
      const slugs = new TenantSlugs(db.pool)
      live.addRelay(new MqttEventRelay({
        publish: (topic, payload) => mqtt.publish(topic, payload, 1),
        get open() { return !mqtt.aedes.closed },
      }, (tenantId) => slugs.of(tenantId), log))
    }

    let external: ExternalConsumer | null = null
    if (config.EXTERNAL_BROKER_URL) {
      const consumer = external = new ExternalConsumer({
        url: config.EXTERNAL_BROKER_URL, username: config.EXTERNAL_BROKER_USERNAME, password: config.EXTERNAL_BROKER_PASSWORD,
        clientId: config.EXTERNAL_BROKER_CLIENT_ID, shareGroup: config.EXTERNAL_BROKER_SHARE_GROUP,
      }, { ingestor: ingestion.ingestor, directory, deadLetters: ingestion.writers.deadLetters, metrics, log })
      await consumer.start()
      phases.accept.push(() => consumer.stop())
    }

    // every node hears revocations and changes, wherever the API call landed
    bus.subscribe<{ deviceId: string }>('revocations', ({ deviceId }) => {
      directory.invalidate(deviceId)
      if (broker?.disconnect(deviceId)) log.info({ device: deviceId }, 'closed the connection of a revoked device')
    })
    bus.subscribe<Change>('changes', (change) => {
      if (change.kind === 'user') {
        users.forget(change.tenantId, change.id)
        broker?.disconnectRevokedUser(change.tenantId, change.id).then(
          (closed) => { if (closed > 0) log.info({ user: change.id, closed }, 'closed the integration connections of a revoked user') },
          (err: unknown) => { log.warn({ err, user: change.id }, 'checking a changed user\'s integration connections failed') })
      } else if (change.kind === 'device') {
        directory.invalidate(change.id)
        contexts.invalidate(change.tenantId, 'plans') // the device may now carry another vehicle's shipment
      } else contexts.invalidate(change.tenantId, change.kind === 'geofence' ? 'fences' : 'plans')
    })

    const app = await buildApp({
      config, log, db, metrics, tokens, users,
      revocations: { revoked: (tenantId, deviceId) => bus.publish('revocations', { tenantId, deviceId }) },
      changes: { changed: (change) => bus.publish('changes', change) },
      presence: { presenceOf: async (tenantId, ids) => {
        const found = await presence.get(ids.map((deviceId) => ({ tenantId, deviceId })))
        return new Map([...found].map(([id, p]) => [id, {
          online: p.online, lastSeenAt: p.lastSeenAt ? new Date(p.lastSeenAt) : null, lastFixAt: p.lastFixAt ? new Date(p.lastFixAt) : null,
        }]))
      } },
      ingest: { ingestor: ingestion.ingestor, directory },
      live, state,
      ...(broker || external ? { commands: { send: commandSender(broker, external) } } : {}),
      readiness: () => ({
        broker: broker ? !broker.aedes.closed : true,
        ...(external ? { externalBroker: external.isConnected } : {}),
        ...(redis ? { redis: redis.status === 'ready' && redis.ping().then(() => true) } : {}),
      }),
    }, { jwtSecret: secret })
    if (broker) broker.attachWebSocket(app.server)
    // in-flight requests get a grace, then their connections are cut: one slow or stuck client must
    // not hold the drain, the flush and the database close until SHUTDOWN_TIMEOUT_MS gives up on them
    const graceMs = Math.min(5000, Math.floor(config.SHUTDOWN_TIMEOUT_MS / 3))
    phases.accept.push(async () => {
      const cut = setTimeout(() => { log.warn({ graceMs }, 'closing the HTTP connections still open'); app.server.closeAllConnections() }, graceMs)
      try { await app.close() } finally { clearTimeout(cut) }
    })
    await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT })
      .catch((err: unknown) => { throw listenError(err, 'HTTP_PORT', 'HTTP_HOST', config.HTTP_HOST, config.HTTP_PORT) })
    const httpPort = (app.server.address() as AddressInfo).port

    return { config, db, app, metrics, state, presence, ingestion, sweep, retention, webhooks, broker, bus, live, httpPort, mqttPort, close: stopAll }
  } catch (err) {
    await stopAll()
    throw err
  }
}
