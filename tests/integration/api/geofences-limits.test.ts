// Geofence geometry that must stay cheap to check. A polygon above the vertex cap is refused by the
// request schema, before any geometry work; the ring checks stop at the first crossing. The 8,000-vertex
// zig-zag below once ran the old all-pairs check (turf kinks) for 55 s and then out of heap, taking
// the whole node down; now it is a 400 from validation (timings: docs/geofences.md, not asserted).
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import { square as squareRing } from './fixtures.js'

type P = [number, number]
interface Refusal { statusCode: number, code: string, message: string }

const closed = (ps: P[]): P[] => [...ps, ps[0]!]
const square = (lon: number, lat: number, size: number) => squareRing(lon, lat, size) as P[]
const fence = (coordinates: P[][]) => ({ name: 'big', kind: 'polygon', geometry: { type: 'Polygon', coordinates } })

/** a regular polygon of n positions (closing one included) around Paris */
const roundRing = (n: number, radius = 0.05): P[] =>
  closed(Array.from({ length: n - 1 }, (_, i): P => [2.35 + radius * Math.cos((2 * Math.PI * i) / (n - 1)), 48.85 + radius * Math.sin((2 * Math.PI * i) / (n - 1))]))

/** n positions (closing one included) zig-zagging between two meridians; the last edges cut back through it */
function zigzag(n: number): P[] {
  const ps: P[] = Array.from({ length: n - 3 }, (_, i): P => [i % 2, i * 0.001])
  ps.push([-0.5, (n - 3) * 0.001], [2, -0.1])
  return closed(ps)
}

/** a 10-turn spiral band, out along one arm and back along the other: a simple ring of n positions (closing one included) */
function spiral(n: number): P[] {
  const arm = (count: number, offset: number) => Array.from({ length: count }, (_, i): P => {
    const t = (i / count) * 20 * Math.PI, r = 0.001 + 0.0001 * t + offset
    return [2.35 + r * Math.cos(t), 48.85 + r * Math.sin(t)]
  })
  const out = Math.ceil((n - 1) / 2)
  return closed([...arm(out, 0), ...arm(n - 1 - out, 0.0003).reverse()])
}

const backend = databaseBackends().find((b) => b.available)!
describe(`geofence size limits and ring checks on ${backend.name}`, () => {
  let db: Database
  let app: App
  let acme: TestTenant
  const op = () => as(app, acme.tokens.operator)
  const post = (payload: InjectOptions['payload']) => op()({ method: 'POST', url: '/api/v1/geofences', payload })

  beforeAll(async () => {
    db = await backend.open()
    ;({ app } = await testApp(db))
    acme = await seedTenant(app, db, 'acme')
  })
  afterAll(async () => { await app?.close(); await db?.close() })

  it('answers the 8,000-vertex zig-zag with a 400 from the schema, and goes on serving', async () => {
    const res = await post(fence([zigzag(8000)]))
    expect(res.statusCode).toBe(400)
    expect(res.json<Refusal>()).toMatchObject({ code: 'VALIDATION', message: 'body/geometry/coordinates/0 must NOT have more than 5000 items' })
    expect((await op()({ method: 'GET', url: '/api/v1/geofences' })).statusCode).toBe(200)
  })

  it('refuses a ring of 5,001 positions from the schema, on POST and on PATCH', async () => {
    const res = await post(fence([roundRing(5001)]))
    expect(res.statusCode).toBe(400)
    expect(res.json<Refusal>()).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('coordinates/0 must NOT have more than 5000 items') })

    const small = await post(fence([square(2, 48, 0.1)]))
    expect(small.statusCode).toBe(201)
    const patch = await op()({ method: 'PATCH', url: `/api/v1/geofences/${small.json<{ id: string }>().id}`, payload: { geometry: fence([roundRing(5001)]).geometry } })
    expect(patch.statusCode).toBe(400)
    expect(patch.json<Refusal>().code).toBe('VALIDATION')
  })

  it('refuses rings that pass 5,000 positions together (the sum is checked before any position is read)', async () => {
    const res = await post(fence([roundRing(3000, 0.1), roundRing(2001, 0.01)]))
    expect(res.statusCode).toBe(400)
    expect(res.json<Refusal>()).toMatchObject({ code: 'INVALID_GEOMETRY', message: 'geometry.coordinates: a Polygon has at most 5000 positions in all its rings, not 5001' })
  })

  it('accepts 5,000 positions: a spiral band, and an outer ring with a hole', async () => {
    const band = spiral(5000)
    expect(band).toHaveLength(5000)
    expect((await post(fence([band]))).statusCode).toBe(201)
    const res = await post(fence([roundRing(3000, 0.1), roundRing(2000, 0.01)]))
    expect(res.statusCode, res.body).toBe(201)
  })

  it('refuses a zig-zag within the cap whose last edge crosses it, naming both edges', async () => {
    const res = await post(fence([zigzag(5000)]))
    expect(res.statusCode).toBe(400)
    expect(res.json<Refusal>()).toMatchObject({ code: 'INVALID_GEOMETRY', message: expect.stringMatching(/^geometry\.coordinates: rings must not cross or touch themselves or each other: edge \[0\]\[\d+\]–\[0\]\[\d+\] meets edge \[0\]\[\d+\]–\[0\]\[\d+\] near \[/) })
  })

  it('refuses a hole touching the outer ring or lying outside it, and accepts one inside', async () => {
    const outer = square(2, 48, 0.1)
    const touching = closed([[2, 48.05], [2.05, 48.04], [2.05, 48.06]])
    expect((await post(fence([outer, touching]))).json<Refusal>()).toMatchObject({ code: 'INVALID_GEOMETRY', message: expect.stringContaining('near [2, 48.05]') })
    expect((await post(fence([outer, square(3, 48, 0.01)]))).json<Refusal>()).toMatchObject({ code: 'INVALID_GEOMETRY', message: 'geometry.coordinates[1]: a hole must lie inside the outer ring' })
    expect((await post(fence([outer, square(2.02, 48.02, 0.02)]))).statusCode).toBe(201)
  })

  it('refuses a corridor of more than 20,000 positions from the schema', async () => {
    const line = Array.from({ length: 20_001 }, (_, i): P => [2 + i * 1e-5, 48])
    const res = await post({ name: 'long', kind: 'corridor', geometry: { type: 'LineString', coordinates: line }, widthM: 100 })
    expect(res.statusCode).toBe(400)
    expect(res.json<Refusal>()).toMatchObject({ code: 'VALIDATION', message: 'body/geometry/coordinates must NOT have more than 20000 items' })
  })

  it('documents the limits in the OpenAPI description (from the request schema)', async () => {
    type Schema = { properties: Record<string, Schema>, items?: { maxItems?: number }, maxItems?: number }
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: Schema }> } }>> }>()
    const body = doc.paths['/api/v1/geofences']!['post']!.requestBody.content['application/json']!.schema
    const coordinates = body.properties['geometry']!.properties['coordinates']!
    expect(coordinates).toMatchObject({ maxItems: 20_000, items: { maxItems: 5000 } })
  })
})
