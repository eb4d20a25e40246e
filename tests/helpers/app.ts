// Builds the API on a test database, with tenants and users of every role ready to log in.
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll } from 'vitest'
import { buildApp, type App } from '../../src/api/app.js'
import type { ApiContext } from '../../src/api/context.js'
import { loadConfig, type Config } from '../../src/config.js'
import { createTenantWithAdmin } from '../../src/db/accounts.js'
import type { Database } from '../../src/db/database.js'
import { Metrics } from '../../src/metrics.js'
import { hashPassword } from '../../src/security/passwords.js'
import { TokenService, type UserRole } from '../../src/security/tokens.js'
import { silentLog, type Backend } from './databases.js'

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789'
export const PASSWORD = 'correct horse battery staple'

export function testConfig(overrides: Partial<Config> = {}): Config {
  return loadConfig({}, { DATA_DIR: 'memory://', LOG_LEVEL: 'silent', JWT_SECRET: TEST_JWT_SECRET, ...overrides })
}

export async function testApp(db: Database, extra: Partial<ApiContext> = {}, config = testConfig()) {
  const metrics = new Metrics({ defaultMetrics: false })
  const tokens = new TokenService(TEST_JWT_SECRET, config.ACCESS_TOKEN_TTL_S, config.DEVICE_TOKEN_TTL_S)
  const ctx: ApiContext = { config, log: silentLog, db, metrics, tokens, ...extra }
  const app = await buildApp(ctx, { jwtSecret: TEST_JWT_SECRET })
  await app.ready()
  return { app, ctx, tokens, metrics }
}

export interface TestTenant {
  id: string
  slug: string
  /** access tokens by role */
  tokens: Record<UserRole, string>
  userIds: Record<UserRole, string>
}

/** A tenant with one user per role, all logged in through the real login route. */
export async function seedTenant(app: App, db: Database, slug: string, platformAdmin = false): Promise<TestTenant> {
  const { tenant, admin } = await createTenantWithAdmin(db.prisma, { slug, admin: { email: `admin@${slug}.test`, password: PASSWORD, platformAdmin } })
  const userIds = { admin: admin.id } as Record<UserRole, string>
  for (const role of ['operator', 'viewer'] as const) {
    const user = await db.prisma.user.create({ data: { tenantId: tenant.id, email: `${role}@${slug}.test`, passwordHash: await hashPassword(PASSWORD), role } })
    userIds[role] = user.id
  }
  const tokens = {} as Record<UserRole, string>
  for (const role of ['admin', 'operator', 'viewer'] as const) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: `${role}@${slug}.test`, password: PASSWORD } })
    if (res.statusCode !== 200) throw new Error(`login as ${role}@${slug} failed: ${res.body}`)
    tokens[role] = res.json<{ accessToken: string }>().accessToken
  }
  return { id: tenant.id, slug, tokens, userIds }
}

/** app.inject with a bearer token. */
export function as(app: App, token: string | undefined) {
  return (options: InjectOptions): Promise<LightMyRequestResponse> =>
    app.inject({ ...options, headers: { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } })
}

/**
 * For one describe block: a fresh database of `backend`, the API on it and a seeded tenant `slug`,
 * opened before its tests and closed after them. Read the fields inside tests (they are set in beforeAll).
 */
export function appWithTenant(backend: Backend, slug = 'acme'): { db: Database, app: App, tenant: TestTenant } {
  const suite = {} as { db: Database, app: App, tenant: TestTenant }
  beforeAll(async () => {
    suite.db = await backend.open()
    ;({ app: suite.app } = await testApp(suite.db))
    suite.tenant = await seedTenant(suite.app, suite.db, slug)
  })
  afterAll(async () => { await suite.app?.close(); await suite.db?.close() })
  return suite
}
