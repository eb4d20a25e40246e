// The embedded MQTT broker: Aedes with ReTrack's hooks, listening on TCP, TLS (when a certificate
// is configured) and WebSocket (/mqtt on the API's HTTP server). With Redis it shares
// subscriptions and sessions with other nodes (mqemitter-redis, aedes-persistence-redis).
// Persistent sessions are bounded in size, lifetime and, for integrations, number per tenant
// (sessions.ts); integration connections in number per tenant and by their token's lifetime
// (integration-connections.ts).
import { readFileSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Aedes, type Client } from 'aedes'
import { WebSocketServer, createWebSocketStream } from 'ws'
import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { PresenceStore } from '../core/ports.js'
import type { DeviceDirectory } from '../db/device-directory.js'
import type { Ingestor } from '../ingest/ingestor.js'
import type { TokenService, UserClaims } from '../security/tokens.js'
import { revokedBecause, type UserStatusCache } from '../security/user-status.js'
import { authenticateHook } from './hooks/authenticate.js'
import { authorizePublishHook } from './hooks/authorize-publish.js'
import { authorizeSubscribeHook } from './hooks/authorize-subscribe.js'
import { authorizeForwardHook } from './hooks/authorize-forward.js'
import { limitPacketSize } from './packet-limit.js'
import { watchPresence } from './presence.js'
import { principalOf } from './principal.js'
import { clusterBackends } from './cluster.js'
import { IntegrationConnections } from './integration-connections.js'
import { MemorySessionPersistence, SessionKeeper, reportDrops, type SessionStore } from './sessions.js'

export interface BrokerDeps {
  config: Config
  log: Logger
  metrics: Metrics
  directory: DeviceDirectory
  tokens: TokenService
  ingestor: Ingestor
  presence: PresenceStore
  /** users' current role and state, for integrations connecting with an access token */
  users: Pick<UserStatusCache, 'get'>
}

/** Aedes' connected clients by client id (public in aedes 1.2, missing from its types). */
const clientsOf = (aedes: Aedes) => (aedes as Aedes & { clients: Record<string, Client | undefined> }).clients

export class MqttBroker {
  private servers: net.Server[] = []
  /** the TLS port actually bound, when TLS is configured */
  tlsPort: number | null = null
  private wss: WebSocketServer | null = null
  private closeBackends: () => Promise<void> = async () => {}
  private abandonBackends: () => void = () => {}
  private sessions: SessionKeeper | null = null
  /** sessions and subscriptions are shared with other nodes through Redis (MQTT_CLUSTER) */
  clustered = false

  private constructor(readonly aedes: Aedes, private readonly deps: BrokerDeps) {}

  static async create(deps: BrokerDeps): Promise<MqttBroker> {
    const { config, log, metrics } = deps
    const log_ = log.child({ component: 'broker' })
    let connections = 0
    // persistent sessions: at most MQTT_SESSION_MAX_QUEUED messages each, removed after
    // MQTT_SESSION_EXPIRY_S away (sessions.ts), in Redis (redis-persistence.ts) or in this process
    const limits = { maxQueued: config.MQTT_SESSION_MAX_QUEUED, dropped: reportDrops(metrics, log_) }
    const backends = clusterBackends(config, log_, { limits, expiryS: config.MQTT_SESSION_EXPIRY_S })
    const persistence: SessionStore = backends.sessions ?? new MemorySessionPersistence(limits)
    const aedes = await Aedes.createBroker({
      ...backends.options,
      persistence,
      connectTimeout: config.MQTT_CONNECT_TIMEOUT_MS,
      maxClientsIdLength: 64,
      maxTopicLevels: config.MQTT_MAX_TOPIC_LEVELS,
      heartbeatInterval: 30_000,
      authenticate: authenticateHook({
        ...deps, log: log_, nextConnection: (id) => `${aedes.id}:${id}:${++connections}`, available: backends.available,
        integrations: new IntegrationConnections(config.MQTT_INTEGRATIONS_PER_TENANT_MAX, log_),
        sessions: persistence, sessionsPerTenant: config.MQTT_SESSIONS_PER_TENANT_MAX,
      }),
      authorizePublish: authorizePublishHook({ ...deps, log: log_ }),
      authorizeSubscribe: authorizeSubscribeHook({ metrics, log: log_ }),
      authorizeForward: authorizeForwardHook({ metrics, log: log_ }),
    })
    const broker = new MqttBroker(aedes, deps)
    broker.closeBackends = backends.close
    broker.abandonBackends = backends.abandonUnavailable
    broker.clustered = backends.clustered
    broker.sessions = new SessionKeeper(aedes, persistence, config.MQTT_SESSION_EXPIRY_S * 1000, {
      metrics, log: log_, connected: () => Object.values(clientsOf(aedes)).filter((c): c is Client => c !== undefined),
    })
    broker.sessions.start()
    watchPresence(aedes, deps.presence, metrics, log_)
    aedes.on('clientError', (client: Client, err: Error) => log_.debug({ clientId: client.id, err: err.message }, 'mqtt client error'))
    aedes.on('connectionError', (client: Client, err: Error) => log_.debug({ clientId: client.id, err: err.message }, 'mqtt connection error'))
    return broker
  }

  /** Aedes' connection handler with the packet size limit applied to every connection. */
  private readonly handle = (stream: net.Socket | ReturnType<typeof createWebSocketStream>, request?: IncomingMessage) => {
    const client = this.aedes.handle(stream, request)
    limitPacketSize(client, this.deps.config.MQTT_MAX_PAYLOAD_BYTES, (size) => {
      this.deps.metrics.deadLetters.inc({ code: 'PACKET_TOO_LARGE' })
      this.deps.log.warn({ clientId: client.id, size }, 'mqtt packet too large; connection closed')
    })
    return client
  }

  async listen(): Promise<{ tcpPort: number, tlsPort: number | null }> {
    const { config } = this.deps
    const tcp = net.createServer((socket) => { this.handle(socket) })
    await new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen(config.MQTT_PORT, config.MQTT_HOST, resolve) })
    this.servers.push(tcp)
    let tlsPort: number | null = null
    if (config.MQTT_TLS_CERT && config.MQTT_TLS_KEY) {
      const secure = tls.createServer({ cert: readFileSync(config.MQTT_TLS_CERT), key: readFileSync(config.MQTT_TLS_KEY) }, (socket) => { this.handle(socket) })
      await new Promise<void>((resolve, reject) => { secure.once('error', reject); secure.listen(config.MQTT_TLS_PORT, config.MQTT_HOST, resolve) })
      this.servers.push(secure)
      tlsPort = (secure.address() as AddressInfo).port
      this.tlsPort = tlsPort
    }
    return { tcpPort: (tcp.address() as AddressInfo).port, tlsPort }
  }

  /** MQTT over WebSocket on the API's server, at `path`. */
  attachWebSocket(server: HttpServer, path = '/mqtt'): void {
    const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => protocols.has('mqtt') ? 'mqtt' : false })
    this.wss = wss
    server.on('upgrade', (request, socket, head) => {
      // nothing else on this server upgrades: an unanswered upgrade would hang the client until its timeout
      if (new URL(request.url ?? '/', 'http://x').pathname !== path) {
        socket.end(`HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nMQTT over WebSocket is at ${path}\n`)
        return
      }
      wss.handleUpgrade(request, socket, head, (ws) => { this.handle(createWebSocketStream(ws), request) })
    })
  }

  /** Closes the live connection of a device whose credentials were revoked (no-op if not here). */
  disconnect(deviceId: string): boolean {
    const client = clientsOf(this.aedes)[deviceId]
    if (!client) return false
    client.close()
    return true
  }

  /**
   * Closes this node's integration connections of a user whose token no longer speaks for them, by
   * the rule of the REST API (revokedBecause): disabled or deleted, another role or platform right,
   * or sessions ended since the token was issued (password change, disable, refresh token reuse).
   * Called on every node for every change of a user (the `changes` bus, server.ts). Returns how many.
   */
  async disconnectRevokedUser(tenantId: string, userId: string): Promise<number> {
    const mine: Array<{ client: Client, claims: UserClaims }> = []
    for (const client of Object.values(clientsOf(this.aedes))) {
      const p = principalOf(client ?? null)
      if (client && p?.kind === 'integration' && p.tenantId === tenantId && p.userId === userId) mine.push({ client, claims: p.claims })
    }
    if (mine.length === 0) return 0
    const status = await this.deps.users.get(tenantId, userId)
    let closed = 0
    for (const { client, claims } of mine) {
      if (!revokedBecause(claims, status)) continue
      client.close()
      closed++
    }
    return closed
  }

  publish(topic: string, payload: Buffer | string, qos: 0 | 1 = 1): Promise<void> {
    return new Promise((resolve, reject) => {
      this.aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false }, (err?: Error | null) => err ? reject(err) : resolve())
    })
  }

  async close(): Promise<void> {
    for (const server of this.servers) server.close()
    this.wss?.clients.forEach((ws) => ws.terminate())
    this.wss?.close()
    // during a Redis outage: a sweep of sessions under way, and closing the clients (their
    // unsubscriptions), would each wait ~10 s on Redis
    this.abandonBackends()
    await this.sessions?.stop()
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()))
    await this.closeBackends()
  }
}
