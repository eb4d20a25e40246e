// Failed logins are throttled per account (its email, in any tenant) and per client address, through
// the real login route: 429 TOO_MANY_ATTEMPTS with Retry-After, the right password included while
// it lasts, and logins work again once it is over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { PASSWORD, as, seedTenant, testApp, testConfig, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import { unique } from './fixtures.js'

const backend = databaseBackends().find((b) => b.available)!

describe('login throttling', () => {
  let db: Database
  let app: App
  let acme: TestTenant
  let ip = 0
  /** a client address no other test uses */
  const address = () => `198.51.100.${++ip}`

  beforeAll(async () => {
    db = await backend.open()
    ;({ app } = await testApp(db, {}, testConfig({ LOGIN_MAX_FAILURES: 5, LOGIN_IP_MAX_FAILURES: 8, LOGIN_LOCKOUT_S: 1 })))
    acme = await seedTenant(app, db, 'acme')
  })
  afterAll(async () => { await app?.close(); await db?.close() })

  const login = (email: string, password: string, remoteAddress: string) =>
    app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, remoteAddress })

  async function newUser(): Promise<string> {
    const email = `${unique('u')}@acme.test`
    const res = await as(app, acme.tokens.admin)({ method: 'POST', url: '/api/v1/users', payload: { email, password: PASSWORD, role: 'viewer' } })
    expect(res.statusCode).toBe(201)
    return email
  }

  it('answers the 6th wrong password with 429 and Retry-After, the right one too, and lets the user in once the wait is over', async () => {
    const email = await newUser()
    const from = address()
    for (let i = 0; i < 5; i++) expect((await login(email, 'wrong password', from)).statusCode).toBe(401)
    const sixth = await login(email, 'wrong password', from)
    expect(sixth.statusCode).toBe(429)
    expect(sixth.headers['retry-after']).toBe('1')
    expect(sixth.json()).toMatchObject({ code: 'TOO_MANY_ATTEMPTS', details: { retryAfterS: 1 } })
    // no oracle: the right password is refused the same way while the lock lasts, from anywhere
    const right = await login(email, PASSWORD, address())
    expect(right.statusCode).toBe(429)
    expect(right.json()).toMatchObject({ code: 'TOO_MANY_ATTEMPTS' })

    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect((await login(email, PASSWORD, from)).statusCode).toBe(200)
    // the success started the account afresh: a wrong password is a plain 401 again
    expect((await login(email, 'wrong password', from)).statusCode).toBe(401)
  })

  it('doubles the wait after a failure that follows a lock', async () => {
    const email = await newUser()
    for (let i = 0; i < 5; i++) await login(email, 'wrong password', address())
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect((await login(email, 'wrong password', address())).statusCode).toBe(401)
    const next = await login(email, PASSWORD, address())
    expect(next.statusCode).toBe(429)
    expect(next.headers['retry-after']).toBe('2')
  })

  it('lets through no more wrong passwords sent at once than the limit', async () => {
    const email = await newUser()
    const answers = await Promise.all(Array.from({ length: 30 }, () => login(email, 'wrong password', address())))
    const codes = answers.map((a) => a.statusCode)
    expect(codes.filter((c) => c === 401)).toHaveLength(5)
    expect(codes.filter((c) => c === 429)).toHaveLength(25)
    expect((await login(email, PASSWORD, address())).statusCode).toBe(429)
  })

  it('counts an unknown email like a known one, so a lock does not tell them apart', async () => {
    const from = address()
    const nobody = `${unique('nobody')}@acme.test`
    for (let i = 0; i < 5; i++) expect((await login(nobody, PASSWORD, from)).statusCode).toBe(401)
    expect((await login(nobody, PASSWORD, from)).statusCode).toBe(429)
  })

  it('throttles an address only past its own threshold, whichever accounts it tries, and not other addresses', async () => {
    const from = address()
    const [locked, other, bystander] = [await newUser(), await newUser(), await newUser()]
    for (let i = 0; i < 5; i++) expect((await login(locked, 'wrong password', from)).statusCode).toBe(401)
    expect((await login(locked, 'wrong password', from)).statusCode).toBe(429)
    // another account from the same address is not caught by the first one's lock...
    for (let i = 0; i < 3; i++) expect((await login(other, 'wrong password', from)).statusCode).toBe(401)
    // ...until the address has had its 8 failures: then every account is refused from there
    const byAddress = await login(bystander, PASSWORD, from)
    expect(byAddress.statusCode).toBe(429)
    expect(byAddress.headers['retry-after']).toBe('1')
    // the same accounts from another address are fine
    expect((await login(bystander, PASSWORD, address())).statusCode).toBe(200)
    expect((await login(other, PASSWORD, address())).statusCode).toBe(200)
  })

  it('documents 429 on the login route', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, { post: { responses: Record<string, unknown> } }> }>()
    expect(Object.keys(doc.paths['/api/v1/auth/login']!.post.responses)).toContain('429')
  })
})

describe('login throttling behind a reverse proxy (TRUST_PROXY)', () => {
  let db: Database
  const failFrom = (app: App, client: string) => app.inject({
    method: 'POST', url: '/api/v1/auth/login', payload: { email: `${unique('x')}@acme.test`, password: 'wrong password' },
    remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': client },
  })

  beforeAll(async () => { db = await backend.open() })
  afterAll(async () => { await db?.close() })

  it('counts each client behind a trusted proxy apart, and a client\'s own header for nothing when no proxy is trusted', async () => {
    const limits = { LOGIN_MAX_FAILURES: 100, LOGIN_IP_MAX_FAILURES: 3, LOGIN_LOCKOUT_S: 60 }
    const behind = (await testApp(db, {}, testConfig({ ...limits, TRUST_PROXY: '10.0.0.0/8' }))).app
    const direct = (await testApp(db, {}, testConfig(limits))).app
    try {
      for (let i = 0; i < 3; i++) expect((await failFrom(behind, '203.0.113.7')).statusCode).toBe(401)
      expect((await failFrom(behind, '203.0.113.7')).statusCode).toBe(429)
      // another client through the same proxy is not held back by the first one's failures
      expect((await failFrom(behind, '203.0.113.8')).statusCode).toBe(401)

      // without TRUST_PROXY the peer is the client: a forged X-Forwarded-For does not escape the count
      for (let i = 0; i < 3; i++) expect((await failFrom(direct, `203.0.113.${20 + i}`)).statusCode).toBe(401)
      expect((await failFrom(direct, '203.0.113.99')).statusCode).toBe(429)
      // a hop count: the nearest proxy is trusted whatever its address
      const oneHop = (await testApp(db, {}, testConfig({ ...limits, TRUST_PROXY: '1' }))).app
      try {
        for (let i = 0; i < 3; i++) expect((await failFrom(oneHop, '203.0.113.40')).statusCode).toBe(401)
        expect((await failFrom(oneHop, '203.0.113.40')).statusCode).toBe(429)
        expect((await failFrom(oneHop, '203.0.113.41')).statusCode).toBe(401)
      } finally { await oneHop.close() }
    } finally {
      await behind.close()
      await direct.close()
    }
  })
})
