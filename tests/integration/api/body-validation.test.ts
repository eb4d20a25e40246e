// JSON bodies are validated as sent (no type coercion), and an unknown field is named.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'

const backend = databaseBackends().find((b) => b.available)!

describe(`body validation on ${backend.name}`, () => {
  let db: Database
  let app: App
  let acme: TestTenant
  beforeAll(async () => {
    db = await backend.open()
    ;({ app } = await testApp(db))
    acme = await seedTenant(app, db, 'bodies')
  })
  afterAll(async () => { await app?.close(); await db?.close() })

  it('names an unknown field', async () => {
    const res = await as(app, acme.tokens.operator)({ method: 'POST', url: '/api/v1/carriers', payload: { name: 'X', nmae: 'typo' } })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'VALIDATION', message: "body has an unknown property 'nmae'" })
  })

  it('refuses "" for a nullable id instead of reading it as null', async () => {
    const res = await as(app, acme.tokens.operator)({ method: 'POST', url: '/api/v1/drivers', payload: { name: 'D', carrierId: '' } })
    expect(res.statusCode).toBe(400)
  })

  it('refuses a number sent as a string in a body, but coerces query strings', async () => {
    const body = await as(app, acme.tokens.operator)({ method: 'POST', url: '/api/v1/geofences', payload: { name: 'c', kind: 'circle', geometry: { type: 'Point', coordinates: [2, 48] }, radiusM: '100' } })
    expect(body.statusCode).toBe(400)
    const query = await as(app, acme.tokens.viewer)({ method: 'GET', url: '/api/v1/carriers?limit=5&offset=0' })
    expect(query.json()).toMatchObject({ limit: 5, offset: 0 })
  })
})
