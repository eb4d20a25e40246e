// No log line carries a secret sent in a URL: `?access_token=` (and any token, secret or password
// parameter) is redacted from the request log on every route, not only on the stream that accepts it.
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import { loggerOptions, redactUrlSecrets } from '../../../src/logger.js'

describe('redactUrlSecrets', () => {
  it.each([
    ['/api/v1/devices?access_token=abc.def.ghi', '/api/v1/devices?access_token=[redacted]'],
    ['/api/v1/devices?limit=5&token=t&refresh_token=r&secret=s&password=p&q=x', '/api/v1/devices?limit=5&token=[redacted]&refresh_token=[redacted]&secret=[redacted]&password=[redacted]&q=x'],
    ['/api/v1/devices?access%5Ftoken=abc&api_key=k&ACCESS_TOKEN=z', '/api/v1/devices?access%5Ftoken=[redacted]&api_key=[redacted]&ACCESS_TOKEN=[redacted]'],
    ['/api/v1/devices?q=token&limit=5', '/api/v1/devices?q=token&limit=5'],
    ['/api/v1/devices?access_token', '/api/v1/devices?access_token'],
    ['/api/v1/devices', '/api/v1/devices'],
  ])('%s → %s', (url, logged) => {
    expect(redactUrlSecrets(url)).toBe(logged)
  })
})

describe('the request log', () => {
  const pglite = databaseBackends().find((b) => b.name === 'pglite')!
  const lines: string[] = []
  const log = pino(loggerOptions({ LOG_LEVEL: 'info', LOG_PRETTY: 'false', NODE_ENV: 'test' }),
    new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } }))
  let db: Database
  let app: App
  let acme: TestTenant

  beforeAll(async () => {
    db = await pglite.open()
    ;({ app } = await testApp(db, { log }))
    acme = await seedTenant(app, db, 'acme')
  })
  afterAll(async () => { await app?.close(); await db?.close() })

  /** the `incoming request` lines logged since `lines` was emptied */
  const incoming = () => lines.map((l) => JSON.parse(l) as { msg: string, req?: { method: string, url: string } })
    .filter((l) => l.msg === 'incoming request')

  it('redacts ?access_token= on a route that is not the stream, answered or refused', async () => {
    for (const authorization of [undefined, `Bearer ${acme.tokens.viewer}`]) {
      lines.length = 0
      const res = await app.inject({ method: 'GET', url: '/api/v1/devices?access_token=abc.def.ghi&limit=5', headers: authorization ? { authorization } : {} })
      expect(res.statusCode).toBe(authorization ? 200 : 401)
      expect(incoming().map((l) => l.req)).toMatchObject([{ method: 'GET', url: '/api/v1/devices?access_token=[redacted]&limit=5' }])
      expect(lines.join('')).not.toContain('abc.def.ghi')
    }
  })

  it('redacts token, refresh_token, secret and password parameters as well', async () => {
    lines.length = 0
    const res = await app.inject({ method: 'GET', url: '/api/v1/devices?token=t1&refresh_token=r1&secret=s1&password=p1' })
    expect(res.statusCode).toBe(401)
    expect(incoming().map((l) => l.req?.url)).toEqual(['/api/v1/devices?token=[redacted]&refresh_token=[redacted]&secret=[redacted]&password=[redacted]'])
    for (const value of ['t1', 'r1', 's1', 'p1']) expect(lines.join('')).not.toContain(`=${value}`)
  })
})
