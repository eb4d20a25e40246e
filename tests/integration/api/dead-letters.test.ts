// GET /dead-letters and /dead-letters/{id}: what ingestion refused, readable by the tenant that owns
// the device and by nobody else. Letters come through the real HTTP ingestion path (ingestor, group
// commit writer) where the point is "a refused reading shows up", and through the writer directly
// (src/db/dead-letters.ts) where a test needs exact bytes and received times.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { as, seedTenant, testApp, testConfig, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import { DEAD_LETTER_PAYLOAD_LIMIT, insertDeadLetters } from '../../../src/db/dead-letters.js'
import { DeviceDirectory } from '../../../src/db/device-directory.js'
import { assembleIngestion, type IngestionParts } from '../../../src/ingest/assemble.js'
import { Metrics } from '../../../src/metrics.js'
import { MemoryPresenceStore, MemoryStateStore } from '../../../src/state/memory.js'
import { silentLog } from '../../helpers/databases.js'
import { seeder } from './fixtures.js'

interface Letter {
  id: number, deviceId: string | null, topic: string, code: string, reason: string, receivedAt: string,
  payload: string, payloadEncoding: 'utf8' | 'base64', payloadBytes: number, payloadTruncated: boolean
}
interface LetterPage { items: Letter[], nextCursor: string | null }

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`dead letters on ${backend.name}`, () => {
    let db: Database
    let app: App
    let ingestion: IngestionParts
    let acme: TestTenant
    let globex: TestTenant
    const basic = (d: { id: string, secret: string }) => `Basic ${Buffer.from(`${d.id}:${d.secret}`).toString('base64')}`

    beforeAll(async () => {
      db = await backend.open()
      const config = testConfig()
      const metrics = new Metrics({ defaultMetrics: false })
      ingestion = assembleIngestion({ config, log: silentLog, metrics, pool: db.pool, state: new MemoryStateStore(), presence: new MemoryPresenceStore() })
      ;({ app } = await testApp(db, { ingest: { ingestor: ingestion.ingestor, directory: new DeviceDirectory(db.pool) } }, config))
      acme = await seedTenant(app, db, 'acme')
      globex = await seedTenant(app, db, 'globex')
    })
    afterAll(async () => { await app?.close(); await ingestion?.drain(); await db?.close() })

    /** Letters of `deviceId` written with the writer, then given the received times asked for. */
    async function letters(tenantId: string | null, deviceId: string | null, rows: Array<{ code: string, payload: Buffer | string, at?: string }>) {
      await insertDeadLetters(db.pool, rows.map((r) => ({
        tenantId, deviceId, topic: `tenants/x/devices/${deviceId ?? 'unknown'}/telemetry`, code: r.code, reason: `reason ${r.code}`,
        payload: typeof r.payload === 'string' ? Buffer.from(r.payload) : r.payload,
      })))
      const { rows: stored } = await db.pool.query<{ id: number }>(
        'SELECT id FROM dead_letters WHERE device_id IS NOT DISTINCT FROM $1 ORDER BY id DESC LIMIT $2', [deviceId, rows.length])
      const ids = stored.map((s) => s.id).reverse()
      for (const [i, r] of rows.entries()) if (r.at) await db.pool.query('UPDATE dead_letters SET received_at = $1 WHERE id = $2', [r.at, ids[i]])
      return ids
    }

    const list = async (token: string, query = '') => {
      const res = await as(app, token)({ method: 'GET', url: `/api/v1/dead-letters${query}` })
      expect(res.statusCode, res.body).toBe(200)
      return res.json<LetterPage>()
    }

    it('shows a reading refused by HTTP ingestion, with its code, reason, topic and bytes', async () => {
      const device = await seeder(db, acme.id).device()
      const post = (payload: string) => app.inject({
        method: 'POST', url: '/api/v1/ingest/telemetry', payload, headers: { authorization: basic(device), 'content-type': 'application/json' },
      })
      expect((await post('{"ts": 1, "lat": ')).json()).toMatchObject({ code: 'MALFORMED_JSON' })
      expect((await post('[{"lat":48.85,"lon":2.35}]')).json()).toMatchObject({ code: 'SCHEMA' })

      const page = await list(acme.tokens.viewer, `?deviceId=${device.id}`)
      expect(page.nextCursor).toBeNull()
      expect(page.items.map((l) => l.code)).toEqual(['SCHEMA', 'MALFORMED_JSON'])
      const [schema, malformed] = page.items as [Letter, Letter]
      expect(malformed).toMatchObject({
        deviceId: device.id, topic: `tenants/acme/devices/${device.id}/telemetry`,
        payload: '{"ts": 1, "lat": ', payloadEncoding: 'utf8', payloadBytes: 17, payloadTruncated: false,
      })
      expect(malformed.reason).not.toBe('')
      expect(schema.reason).toMatch(/ts/)
      expect(schema.payload).toBe('[{"lat":48.85,"lon":2.35}]')
      expect(Date.parse(schema.receivedAt)).toBeGreaterThan(Date.now() - 60_000)
      expect(schema.id).toBeGreaterThan(malformed.id)

      // the single letter, by id
      const one = await as(app, acme.tokens.viewer)({ method: 'GET', url: `/api/v1/dead-letters/${malformed.id}` })
      expect(one.statusCode).toBe(200)
      expect(one.json()).toEqual(malformed)
    })

    it('lists newest first (received time, then id), filters by device, code and time, and pages without repeats or gaps', async () => {
      const device = (await seeder(db, acme.id).device()).id
      const other = (await seeder(db, acme.id).device()).id
      const ids = await letters(acme.id, device, [
        { code: 'SCHEMA', payload: 'a', at: '2026-01-01T00:00:00.000Z' },
        { code: 'MALFORMED_JSON', payload: 'b', at: '2026-01-02T00:00:00.000Z' },
        // one write batch shares its received time: the id breaks the tie
        { code: 'SCHEMA', payload: 'c', at: '2026-01-03T00:00:00.000Z' },
        { code: 'BAD_TIME', payload: 'd', at: '2026-01-03T00:00:00.000Z' },
        { code: 'SCHEMA', payload: 'e', at: '2026-01-03T00:00:00.000Z' },
        { code: 'EMPTY_BATCH', payload: 'f', at: '2026-01-04T00:00:00.000Z' },
      ])
      await letters(acme.id, other, [{ code: 'SCHEMA', payload: 'other', at: '2026-01-03T12:00:00.000Z' }])
      const newestFirst = ['f', 'e', 'd', 'c', 'b', 'a']

      const all = await list(acme.tokens.viewer, `?deviceId=${device}`)
      expect(all.items.map((l) => l.payload)).toEqual(newestFirst)
      expect(all.items.map((l) => l.id)).toEqual([ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]])

      // pages of 2: the tie at 2026-01-03 straddles a page boundary
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const page: LetterPage = await list(acme.tokens.viewer, `?deviceId=${device}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
        seen.push(...page.items.map((l) => l.payload))
        cursor = page.nextCursor
        pages++
      } while (cursor && pages < 10)
      expect(seen).toEqual(newestFirst)
      expect(pages).toBe(3)

      // a letter stored after the first page was read does not shift the next page
      const first = await list(acme.tokens.viewer, `?deviceId=${device}&limit=3`)
      await letters(acme.id, device, [{ code: 'SCHEMA', payload: 'g' }])
      const second = await list(acme.tokens.viewer, `?deviceId=${device}&limit=3&cursor=${encodeURIComponent(first.nextCursor!)}`)
      expect([...first.items, ...second.items].map((l) => l.payload)).toEqual(newestFirst)
      expect(second.nextCursor).toBeNull()
      await db.pool.query(`DELETE FROM dead_letters WHERE device_id = $1 AND payload = 'g'`, [device])

      expect((await list(acme.tokens.viewer, `?deviceId=${device}&code=SCHEMA`)).items.map((l) => l.payload)).toEqual(['e', 'c', 'a'])
      expect((await list(acme.tokens.viewer, `?deviceId=${device}&code=BAD_TIME,EMPTY_BATCH`)).items.map((l) => l.payload)).toEqual(['f', 'd'])
      expect((await list(acme.tokens.viewer, `?deviceId=${device}&code=NO_SUCH_CODE`)).items).toEqual([])
      // from and to are inclusive
      expect((await list(acme.tokens.viewer, `?deviceId=${device}&from=2026-01-02T00:00:00Z&to=2026-01-03T00:00:00Z`)).items.map((l) => l.payload))
        .toEqual(['e', 'd', 'c', 'b'])
      expect((await list(acme.tokens.viewer, `?deviceId=${device}&from=2026-01-03T00:00:00.001Z`)).items.map((l) => l.payload)).toEqual(['f'])
      // the tenant-wide list mixes devices by time
      const window = await list(acme.tokens.viewer, '?from=2026-01-03T00:00:00Z&to=2026-01-03T23:59:59Z')
      expect(window.items.map((l) => l.payload)).toEqual(['other', 'e', 'd', 'c'])
      // an unknown device is a filter that matches nothing, like /events?deviceId=
      expect((await list(acme.tokens.viewer, '?deviceId=dev_nosuchdevice')).items).toEqual([])
    })

    it('shows UTF-8 text as text and anything else as base64, and bounds what one payload costs a page', async () => {
      const device = (await seeder(db, acme.id).device()).id
      const binary = Buffer.from([0xff, 0x00, 0x01, 0xfe, 0x80])
      const text = '{"note":"température 4 °C ✓ 🚚"}'
      const withNul = Buffer.from('{"a":"\u0000"}')
      // 10 KiB of text whose 4 KiB cut falls inside a 3-byte character (€ = e2 82 ac)
      const long = `${'x'.repeat(4095)}${'€'.repeat(2000)}`
      // more than the writer keeps
      const huge = Buffer.alloc(DEAD_LETTER_PAYLOAD_LIMIT + 1000, 'y')
      const [binId, textId, nulId, longId, hugeId] = await letters(acme.id, device, [
        { code: 'MALFORMED_JSON', payload: binary, at: '2026-02-01T00:00:05Z' },
        { code: 'SCHEMA', payload: text, at: '2026-02-01T00:00:04Z' },
        { code: 'SCHEMA', payload: withNul, at: '2026-02-01T00:00:03Z' },
        { code: 'SCHEMA', payload: long, at: '2026-02-01T00:00:02Z' },
        { code: 'BATCH_TOO_LARGE', payload: huge, at: '2026-02-01T00:00:01Z' },
      ])
      const byId = new Map((await list(acme.tokens.viewer, `?deviceId=${device}`)).items.map((l) => [l.id, l]))

      expect(byId.get(binId!)).toMatchObject({ payload: binary.toString('base64'), payloadEncoding: 'base64', payloadBytes: 5, payloadTruncated: false })
      expect(byId.get(textId!)).toMatchObject({ payload: text, payloadEncoding: 'utf8', payloadBytes: Buffer.byteLength(text), payloadTruncated: false })
      expect(byId.get(nulId!)).toMatchObject({ payload: withNul.toString('base64'), payloadEncoding: 'base64', payloadTruncated: false })

      // the list: the first 4 KiB, cut before the character the limit splits
      const longInList = byId.get(longId!)!
      expect(longInList).toMatchObject({ payloadEncoding: 'utf8', payloadBytes: Buffer.byteLength(long), payloadTruncated: true })
      expect(longInList.payload).toBe(`${'x'.repeat(4095)}`)
      expect(longInList.payload).not.toContain('\ufffd')
      // the single letter: all of it
      const longAlone = (await as(app, acme.tokens.viewer)({ method: 'GET', url: `/api/v1/dead-letters/${longId}` })).json<Letter>()
      expect(longAlone).toMatchObject({ payload: long, payloadEncoding: 'utf8', payloadTruncated: false })

      // cut when stored: 64 KiB kept, truncated even where the whole stored copy is shown
      const hugeInList = byId.get(hugeId!)!
      expect(hugeInList).toMatchObject({ payloadEncoding: 'utf8', payloadBytes: DEAD_LETTER_PAYLOAD_LIMIT, payloadTruncated: true })
      expect(hugeInList.payload).toHaveLength(4096)
      const hugeAlone = (await as(app, acme.tokens.viewer)({ method: 'GET', url: `/api/v1/dead-letters/${hugeId}` })).json<Letter>()
      expect(hugeAlone).toMatchObject({ payloadEncoding: 'utf8', payloadBytes: DEAD_LETTER_PAYLOAD_LIMIT, payloadTruncated: true })
      expect(hugeAlone.payload).toHaveLength(DEAD_LETTER_PAYLOAD_LIMIT)

      // a binary payload cut in the list stays base64 of exactly the first 4 KiB
      const [bigBinId] = await letters(acme.id, device, [{ code: 'MALFORMED_JSON', payload: Buffer.alloc(5000, 0xff), at: '2026-02-01T00:00:00Z' }])
      const bigBin = (await list(acme.tokens.viewer, `?deviceId=${device}&to=2026-02-01T00:00:00Z`)).items[0]!
      expect(bigBin).toMatchObject({ id: bigBinId, payloadEncoding: 'base64', payloadBytes: 5000, payloadTruncated: true })
      expect(Buffer.from(bigBin.payload, 'base64')).toEqual(Buffer.alloc(4096, 0xff))
    })

    it('never shows another tenant\'s dead letters, nor those of no tenant', async () => {
      const device = (await seeder(db, acme.id).device()).id
      const [acmeId] = await letters(acme.id, device, [{ code: 'SCHEMA', payload: '{"secret":"acme"}' }])
      await letters(null, null, [{ code: 'UNKNOWN_DEVICE', payload: '{"nobody":true}' }])
      const [globexId] = await letters(globex.id, (await seeder(db, globex.id).device()).id, [{ code: 'SCHEMA', payload: '{"mine":"globex"}' }])

      for (const token of [globex.tokens.admin, globex.tokens.viewer]) {
        const page = await list(token, '?limit=500')
        expect(page.items.map((l) => l.id)).toEqual([globexId])
        expect((await list(token, `?deviceId=${device}`)).items).toEqual([])
        const res = await as(app, token)({ method: 'GET', url: `/api/v1/dead-letters/${acmeId}` })
        expect(res.statusCode).toBe(404)
        expect(res.json()).toMatchObject({ code: 'NOT_FOUND' })
        expect(res.body).not.toContain('acme')
      }
      const acmeAll = await list(acme.tokens.admin, '?limit=500')
      expect(acmeAll.items.map((l) => l.id)).toContain(acmeId)
      expect(acmeAll.items.map((l) => l.id)).not.toContain(globexId)
      expect(acmeAll.items.some((l) => l.code === 'UNKNOWN_DEVICE')).toBe(false)
      // a cursor from one tenant's page is only a position in time: it opens nothing in another
      const acmePage = await list(acme.tokens.admin, '?limit=1')
      expect(acmePage.nextCursor).not.toBeNull()
      const crossed = await list(globex.tokens.admin, `?cursor=${encodeURIComponent(acmePage.nextCursor!)}`)
      expect(crossed.items.every((l) => l.id === globexId)).toBe(true)
    })

    it('is open to every role of the tenant, not to device tokens or anonymous callers', async () => {
      const device = await seeder(db, acme.id).device()
      const token = await app.inject({ method: 'POST', url: '/api/v1/auth/device-token', payload: { tenant: 'acme', deviceId: device.id, secret: device.secret } })
      const deviceToken = token.json<{ token: string }>().token
      for (const role of ['admin', 'operator', 'viewer'] as const) {
        expect((await as(app, acme.tokens[role])({ method: 'GET', url: '/api/v1/dead-letters' })).statusCode).toBe(200)
      }
      for (const url of ['/api/v1/dead-letters', '/api/v1/dead-letters/1']) {
        const asDevice = await as(app, deviceToken)({ method: 'GET', url })
        expect(asDevice.statusCode).toBe(403)
        expect(asDevice.json()).toMatchObject({ code: 'FORBIDDEN' })
        expect((await app.inject({ method: 'GET', url })).statusCode).toBe(401)
      }
    })

    it('answers 400 to parameters it cannot use', async () => {
      const viewer = as(app, acme.tokens.viewer)
      const eventsCursor = (await viewer({ method: 'GET', url: '/api/v1/events?limit=1' })).json<{ nextCursor: string | null }>().nextCursor
      const cases: Array<[string, string]> = [
        ['?limit=0', 'VALIDATION'], ['?limit=501', 'VALIDATION'], ['?limit=ten', 'VALIDATION'],
        ['?deviceId=not%20a%20device', 'VALIDATION'], ['?deviceId=', 'VALIDATION'],
        ['?code=bad-code', 'VALIDATION'], ['?code=SCHEMA,', 'VALIDATION'], ['?code=', 'VALIDATION'],
        ['?from=yesterday', 'VALIDATION'], ['?to=2026-01-01', 'VALIDATION'],
        ['?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'INVALID_RANGE'],
        ['?cursor=garbage', 'INVALID_CURSOR'],
        [`?cursor=${Buffer.from('l:99999999999999999:1').toString('base64url')}`, 'INVALID_CURSOR'],
        [`?cursor=${Buffer.from('e:1767225600000:1').toString('base64url')}`, 'INVALID_CURSOR'],
        ...(eventsCursor ? [[`?cursor=${eventsCursor}`, 'INVALID_CURSOR'] as [string, string]] : []),
        ['/abc', 'VALIDATION'], ['/0', 'VALIDATION'], ['/1.5', 'VALIDATION'], ['/99999999999999999999', 'VALIDATION'],
      ]
      for (const [suffix, code] of cases) {
        const res = await viewer({ method: 'GET', url: `/api/v1/dead-letters${suffix}` })
        expect([suffix, res.statusCode, res.json<{ code: string }>().code]).toEqual([suffix, 400, code])
      }
      expect((await viewer({ method: 'GET', url: '/api/v1/dead-letters/9007199254740991' })).statusCode).toBe(404)
    })
  })
}
