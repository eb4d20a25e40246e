// Starts a whole ReTrack node in-process on ephemeral ports, on a fresh database (PostgreSQL when
// available and asked for, else in-memory PGlite), and provisions tenants and devices through its API.
import { randomBytes } from 'node:crypto'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { inject } from 'vitest'
import { loadConfig, type Config } from '../../src/config.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { createTenantWithAdmin } from '../../src/db/accounts.js'
import { createPostgresDatabase, silentLog } from './databases.js'
import { PASSWORD, TEST_JWT_SECRET } from './app.js'

export interface TestNode {
  server: RunningServer
  http: string
  mqttUrl: string
  close(): Promise<void>
}

export async function startNode(overrides: Partial<Config> = {}, options: { postgres?: boolean, databaseUrl?: string } = {}): Promise<TestNode> {
  let drop: (() => Promise<void>) | null = null
  let url = options.databaseUrl
  if (!url && options.postgres) {
    const created = await createPostgresDatabase()
    url = created.url
    drop = created.drop
  }
  const config = loadConfig({}, {
    DATA_DIR: 'memory://', JWT_SECRET: TEST_JWT_SECRET, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0, MQTT_HOST: '127.0.0.1', MQTT_PORT: 0,
    LOG_LEVEL: 'silent', INGEST_BATCH_WAIT_MS: 0, ...(url ? { DATABASE_URL: url } : {}), ...overrides,
  })
  const server = await startServer(config, silentLog)
  return {
    server,
    http: `http://127.0.0.1:${server.httpPort}`,
    mqttUrl: `mqtt://127.0.0.1:${server.mqttPort}`,
    close: async () => { await server.close(); await drop?.() },
  }
}

export const postgresAvailable = () => inject('services').postgres

/** Two nodes of one deployment: one fresh PostgreSQL database, the machine's Redis under a fresh key prefix. */
export async function startTwoNodes(): Promise<{ a: TestNode, b: TestNode, close: () => Promise<void> }> {
  const database = await createPostgresDatabase()
  const shared = { REDIS_URL: inject('services').redisUrl, REDIS_KEY_PREFIX: `retrack-test:${randomBytes(4).toString('hex')}:` }
  const a = await startNode(shared, { databaseUrl: database.url })
  const b = await startNode(shared, { databaseUrl: database.url })
  return { a, b, close: async () => { await a.close(); await b.close(); await database.drop() } }
}

export interface Provisioned {
  tenant: { id: string, slug: string }
  adminToken: string
  operatorToken: string
  devices: Array<{ id: string, secret: string }>
}

async function api<T>(node: TestNode, method: string, path: string, token: string | null, body?: unknown): Promise<T> {
  const res = await node.server.app.inject({
    method: method as 'GET', url: path,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(body !== undefined ? { payload: body as object } : {}),
  })
  if (res.statusCode >= 300) throw new Error(`${method} ${path} → ${res.statusCode} ${res.body}`)
  return res.json<T>()
}

/** A tenant with an admin and an operator and `deviceCount` devices, created through the API. */
export async function provision(node: TestNode, slug: string, deviceCount: number): Promise<Provisioned> {
  const { tenant } = await createTenantWithAdmin(node.server.db.prisma, { slug, admin: { email: `admin@${slug}.test`, password: PASSWORD } })
  const login = (email: string) => api<{ accessToken: string }>(node, 'POST', '/api/v1/auth/login', null, { email, password: PASSWORD })
  const adminToken = (await login(`admin@${slug}.test`)).accessToken
  await api(node, 'POST', '/api/v1/users', adminToken, { email: `operator@${slug}.test`, password: PASSWORD, role: 'operator' })
  const operatorToken = (await login(`operator@${slug}.test`)).accessToken
  const devices = []
  for (let i = 0; i < deviceCount; i++) {
    const created = await api<{ device: { id: string }, secret: string }>(node, 'POST', '/api/v1/devices', adminToken, { name: `tracker-${i}` })
    devices.push({ id: created.device.id, secret: created.secret })
  }
  return { tenant: { id: tenant.id, slug }, adminToken, operatorToken, devices }
}

export function nodeApi(node: TestNode) {
  return <T>(method: string, path: string, token: string | null, body?: unknown) => api<T>(node, method, path, token, body)
}

/** Connects with mqtt.js; resolves with the client or rejects with the CONNACK error. */
export function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...options })
    client.once('connect', () => resolve(client))
    client.once('error', (err) => { client.end(true); reject(err) })
    client.once('close', () => reject(new Error('connection closed before CONNACK')))
  })
}

export function deviceOptions(slug: string, device: { id: string, secret: string }, extra: IClientOptions = {}): IClientOptions {
  return { clientId: device.id, username: slug, password: device.secret, ...extra }
}

/** Polls until `check` returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: Error | null = null
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (err) { last = err instanceof Error ? err : new Error(String(err)) }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
