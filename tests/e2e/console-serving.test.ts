// How the node serves the console: index.html for console paths, files from the build with the
// right caching, nothing outside it, a plain hint when there is no build, and the server's own
// paths (/api, /docs, /metrics…) untouched. No browser needed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import consolePlugin, { NOT_BUILT } from '../../src/api/plugins/console.js'
import errors from '../../src/api/plugins/errors.js'
import { testConfig } from '../helpers/app.js'
import { silentLog } from '../helpers/databases.js'
import { postgresAvailable, startNode, type TestNode } from '../helpers/server.js'

const INDEX = '<!doctype html><div id="app"></div><script type="module" src="/assets/app-1234.js"></script>'

async function appServing(distDir: string): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(errors)
  await app.register(consolePlugin, { ctx: { config: testConfig(), log: silentLog }, distDir })
  app.get('/api/v1/ping', async () => ({ pong: true }))
  await app.ready()
  return app
}

describe('the console plugin', () => {
  let dist: string
  let app: FastifyInstance
  let bare: FastifyInstance
  beforeAll(async () => {
    dist = mkdtempSync(path.join(tmpdir(), 'retrack-console-dist-'))
    mkdirSync(path.join(dist, 'assets'))
    writeFileSync(path.join(dist, 'index.html'), INDEX)
    writeFileSync(path.join(dist, 'assets', 'app-1234.js'), 'console.log(1)')
    writeFileSync(path.join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
    app = await appServing(dist)
    bare = await appServing(path.join(dist, 'missing'))
  })
  afterAll(async () => { await app?.close(); await bare?.close(); rmSync(dist, { recursive: true, force: true }) })

  it('answers / and every console path with index.html, uncached, under a same-origin-only policy', async () => {
    for (const url of ['/', '/map', '/shipments/7b5d1c1e-0000-4000-8000-000000000000', '/devices?x=1']) {
      const res = await app.inject({ url })
      expect(res.statusCode, url).toBe(200)
      expect(res.body).toBe(INDEX)
      expect(res.headers['content-type']).toMatch(/^text\/html/)
      expect(res.headers['cache-control']).toBe('no-cache')
      expect(res.headers['content-security-policy']).toContain("connect-src 'self'")
    }
  })

  it('serves built files, hashed assets as immutable, and 404s a missing file instead of the page', async () => {
    const asset = await app.inject({ url: '/assets/app-1234.js' })
    expect(asset.statusCode).toBe(200)
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect((await app.inject({ url: '/favicon.svg' })).headers['cache-control']).toBe('public, max-age=3600')
    const missing = await app.inject({ url: '/assets/gone-9999.js' })
    expect(missing.statusCode).toBe(404)
    expect(missing.json<{ code: string }>().code).toBe('ROUTE_NOT_FOUND')
  })

  it('serves nothing outside the build', async () => {
    for (const url of ['/../package.json', '/..%2F..%2Fpackage.json', '/assets/..%2F..%2Fpackage.json', '/%E0%A4%A']) {
      const res = await app.inject({ url })
      expect(res.body, url).not.toContain('"name"')
      expect([200, 400, 403, 404], url).toContain(res.statusCode) // 200: index.html for a path that is not a file
    }
  })

  it('leaves the server\'s paths to the server: JSON 404s, never the console page', async () => {
    expect((await app.inject({ url: '/api/v1/ping' })).json()).toEqual({ pong: true })
    for (const url of ['/api/v1/nope', '/api', '/docs/nope', '/metrics/x', '/mqtt']) {
      const res = await app.inject({ url })
      expect(res.statusCode, url).toBe(404)
      expect(res.json<{ code: string }>().code, url).toBe('ROUTE_NOT_FOUND')
    }
  })

  it('without a build, / says how to make one', async () => {
    const res = await bare.inject({ url: '/' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.body).toBe(NOT_BUILT)
    expect(res.body).toContain('npm run build')
    expect((await bare.inject({ url: '/api/v1/nope' })).statusCode).toBe(404)
  })
})

describe('a whole node with the console', () => {
  let node: TestNode
  beforeAll(async () => { node = await startNode({}, { postgres: postgresAvailable() }) })
  afterAll(async () => { await node?.close() })
  const get = (url: string) => node.server.app.inject({ url })

  it('keeps /api, /docs, /openapi.json, /metrics, /health and /ready answering as before', async () => {
    expect((await get('/api/v1/shipments')).statusCode).toBe(401)
    expect((await get('/health')).json<{ status: string }>().status).toBe('ok')
    expect((await get('/ready')).statusCode).toBe(200)
    expect((await get('/openapi.json')).json<{ paths: object }>().paths).toHaveProperty(['/api/v1/shipments'])
    expect((await get('/metrics')).body).toContain('# HELP')
    const docs = await get('/docs')
    expect([200, 302]).toContain(docs.statusCode)
    expect(docs.headers['content-type'] ?? docs.headers.location).toBeDefined()
    expect((await get('/docs/json')).statusCode).toBe(200)
  })

  it('answers / with the console (or, before a build, the hint) and publishes no MQTT port it does not know', async () => {
    const home = await get('/')
    expect(home.statusCode).toBe(200)
    expect(home.body.includes('<div id="app">') || home.body === NOT_BUILT).toBe(true)
    // started on port 0: the port is picked at start-up, and the plugin does not guess it
    expect((await get('/console-config.json')).json()).toEqual({ mqtt: { port: null, tlsPort: null } })
  })
})
