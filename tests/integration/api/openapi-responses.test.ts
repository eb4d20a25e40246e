// The OpenAPI description documents the answers every route can give: a success, 400 when it takes
// input, 401 and 403 when it needs a token (the auth hook answers those before the handler), 413
// where a body has its own size limit, and no bearer requirement on public routes; a body is
// required unless the route takes none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { testApp } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import type { DeviceDirectory } from '../../../src/db/device-directory.js'
import type { Ingestor } from '../../../src/ingest/ingestor.js'

interface Parameter { name: string, in: string, required?: boolean, schema?: { default?: unknown } }
interface Operation {
  parameters?: Parameter[], requestBody?: { required?: boolean }, security?: unknown[], responses: Record<string, unknown>,
  description?: string, 'x-roles'?: string[]
}

const backend = databaseBackends().find((b) => b.available)!
describe('OpenAPI response codes', () => {
  let db: Database
  let app: App
  let operations: Array<[string, Operation]>

  beforeAll(async () => {
    db = await backend.open()
    // the ingestion routes exist only on a node that ingests; never called here, so stand-ins do
    ;({ app } = await testApp(db, { ingest: { ingestor: {} as Ingestor, directory: {} as DeviceDirectory } }))
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, Operation>> }>()
    operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]): [string, Operation] => [`${m.toUpperCase()} ${path}`, op]))
  })
  afterAll(async () => { await app?.close(); await db?.close() })

  it('documents a success answer on every route', () => {
    expect(operations.filter(([, op]) => !Object.keys(op.responses).some((c) => c.startsWith('2'))).map(([r]) => r)).toEqual([])
  })

  it('documents 400 on every route that takes parameters or a body', () => {
    const missing = operations.filter(([, op]) => ((op.parameters?.length ?? 0) > 0 || op.requestBody) && !op.responses['400']).map(([r]) => r)
    expect(missing).toEqual([])
  })

  it('documents 401 and 403 on every route that needs a token, and no token on the public ones', () => {
    const missing = operations.filter(([, op]) => op.security?.length !== 0 && (!op.responses['401'] || !op.responses['403'])).map(([r]) => r)
    expect(missing).toEqual([])
    const open = operations.filter(([, op]) => op.security?.length === 0).map(([r]) => r).sort()
    expect(open).toEqual([
      'GET /health', 'GET /ready',
      'POST /api/v1/auth/device-token', 'POST /api/v1/auth/login', 'POST /api/v1/auth/logout', 'POST /api/v1/auth/refresh',
    ])
  })

  it('documents 413 on the ingestion routes, whose body limit is MQTT_MAX_PAYLOAD_BYTES', () => {
    const ingestion = operations.filter(([r]) => r.startsWith('POST /api/v1/ingest/'))
    expect(ingestion.map(([r]) => r).sort()).toEqual(['POST /api/v1/ingest/events', 'POST /api/v1/ingest/telemetry'])
    expect(ingestion.filter(([, op]) => !op.responses['413']).map(([r]) => r)).toEqual([])
  })

  it('names paths without a trailing slash, as the docs do', () => {
    expect(operations.filter(([r]) => r.endsWith('/')).map(([r]) => r)).toEqual([])
    expect(operations.map(([r]) => r)).toContain('GET /api/v1/shipments')
  })

  it('requires no query parameter that has a default', () => {
    const defaulted = operations.flatMap(([r, op]) => (op.parameters ?? []).filter((p) => p.in === 'query' && p.schema?.default !== undefined).map((p) => [r, p] as const))
    expect(defaulted.map(([r, p]) => `${r} ${p.name}`)).toEqual(expect.arrayContaining(['GET /api/v1/shipments limit', 'GET /api/v1/shipments offset', 'GET /api/v1/stream positions']))
    expect(defaulted.filter(([, p]) => p.required).map(([r, p]) => `${r} ${p.name}`)).toEqual([])
  })

  it('says who may call each route: x-roles and a Roles: line in the description', () => {
    const op = (route: string) => operations.find(([r]) => r === route)?.[1]
    expect(op('POST /api/v1/devices')).toMatchObject({ 'x-roles': ['admin'], description: expect.stringMatching(/^Roles: admin$/m) as unknown })
    expect(op('GET /api/v1/shipments')?.['x-roles']).toEqual(['admin', 'operator', 'viewer'])
    expect(op('GET /api/v1/shipments')?.description).toMatch(/^Roles: admin, operator, viewer$/m)
    expect(op('POST /api/v1/tenants')?.['x-roles']).toEqual(['platform-admin'])
    expect(op('POST /api/v1/auth/login')?.['x-roles']).toEqual([])
    // the ingestion routes check device credentials themselves
    expect(op('POST /api/v1/ingest/telemetry')?.['x-roles']).toEqual(['device'])
    expect(operations.filter(([, o]) => !Array.isArray(o['x-roles']) || !/(^|\n)Roles: /.test(o.description ?? '')).map(([r]) => r)).toEqual([])
  })

  it('marks a request body optional only where the route takes none', () => {
    const optional = operations.filter(([, op]) => op.requestBody && op.requestBody.required !== true).map(([r]) => r)
    expect(optional).toEqual(['POST /api/v1/shipments/{id}/cancel'])
  })
})
