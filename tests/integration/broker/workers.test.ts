// WORKERS=2: one node, two processes sharing its MQTT and HTTP ports. Connections land on both; a
// command sent through the API reaches each device whichever worker holds it; readings from every
// device reach the shared state; a killed worker is replaced; SIGTERM stops the whole node.
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { createPostgresDatabase, seedTenantWithDevices } from '../../helpers/databases.js'
import { spawnNode, type ChildNode } from '../../helpers/process.js'
import { connect, eventually, postgresAvailable } from '../../helpers/server.js'
import { TEST_JWT_SECRET } from '../../helpers/app.js'
import { socketCount } from '../../../bench/lib/proc.js'

const services = () => inject('services')
const DEVICES = 12
const PASSWORD = 'password-for-workers'

const alive = (pid: number) => { try { process.kill(pid, 0); return true } catch { return false } }

/** GET on a connection of its own: the supervisor hands each new connection to the next worker. */
const getFresh = (port: number, path: string) => new Promise<{ status: number, body: string }>((resolve, reject) => {
  http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
    let body = ''
    res.setEncoding('utf8').on('data', (c: string) => { body += c }).on('end', () => resolve({ status: res.statusCode ?? 0, body }))
  }).on('error', reject)
})

/** The sum of a metric's samples whose labels include every one of `labels` (e.g. 'route="/health"'). */
const sample = (text: string, name: string, ...labels: string[]) => text.split('\n')
  .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
  .filter((line) => labels.every((l) => line.includes(l)))
  .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)

describe.runIf(services().redis && postgresAvailable())('WORKERS=2: one node, two processes', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>
  let node: ChildNode
  let token: string
  const devices = Array.from({ length: DEVICES }, (_, i) => ({ id: `dev_workers${String(i).padStart(4, '0')}`, secret: `workers-secret-${i}-0123456789abcdef` }))
  const clients: MqttClient[] = []
  /** pids of the workers that said they were up, in order */
  const workerPids = () => node.output.join('').split('\n').flatMap((line) => {
    try { const l = JSON.parse(line) as { msg?: string, workerPid?: number }; return l.msg === 'worker up' && l.workerPid ? [l.workerPid] : [] } catch { return [] }
  })
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
    })
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`)
    return res.json() as Promise<Record<string, unknown>>
  }
  const open = (i: number) => connect(`mqtt://127.0.0.1:${node.mqttPort}`, { clientId: devices[i]!.id, username: 'workers', password: devices[i]!.secret })

  beforeAll(async () => {
    database = await createPostgresDatabase()
    await seedTenantWithDevices(database.url, { slug: 'workers', adminEmail: 'admin@workers.test', password: PASSWORD }, devices)
    node = await spawnNode({
      WORKERS: '2', DATABASE_URL: database.url, REDIS_URL: services().redisUrl, REDIS_KEY_PREFIX: `retrack-test:${randomBytes(4).toString('hex')}:`,
      JWT_SECRET: TEST_JWT_SECRET, INGEST_BATCH_WAIT_MS: '0',
    }, 90_000)
    const login = await fetch(`http://127.0.0.1:${node.httpPort}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@workers.test', password: PASSWORD }),
    })
    token = (await login.json() as { accessToken: string }).accessToken
  }, 120_000)
  afterAll(async () => {
    for (const c of clients) c.end(true)
    if (node && node.process.exitCode === null) await node.kill('SIGKILL')
    await database?.drop()
  })

  it('spreads device connections over both workers', async () => {
    const pids = workerPids()
    expect(pids).toHaveLength(2)
    const before = pids.map(socketCount)
    for (let i = 0; i < DEVICES; i++) clients.push(await open(i))
    const gained = pids.map((pid, i) => socketCount(pid) - before[i]!)
    expect(gained.every((n) => n >= 3), `sockets gained per worker: ${gained.join(', ')}`).toBe(true)
  })

  it('delivers a command sent through the API to every device, whichever worker holds it', async () => {
    const received = clients.map((c) => new Promise<string>((resolve) => {
      c.on('message', (_topic, payload) => resolve((JSON.parse(payload.toString()) as { type: string }).type))
    }))
    await Promise.all(clients.map((c, i) => c.subscribeAsync(`tenants/workers/devices/${devices[i]!.id}/commands`, { qos: 1 })))
    for (const d of devices) await api('POST', `/api/v1/devices/${d.id}/commands`, { type: 'set_interval', data: { seconds: 30 } })
    expect(await Promise.all(received)).toEqual(devices.map(() => 'set_interval'))
  })

  it('keeps one state for every device, read through any worker', async () => {
    const ts = Date.now() - 10_000
    await Promise.all(clients.map((c, i) => c.publishAsync(`tenants/workers/devices/${devices[i]!.id}/telemetry`, JSON.stringify({ ts, lat: 45 + i / 100, lon: 5 }), { qos: 1 })))
    for (const [i, d] of devices.entries()) {
      const state = await eventually(async () => { const s = await api('GET', `/api/v1/devices/${d.id}/state`); return s['fixCount'] === 1 ? s : undefined }, 5000, `state of ${d.id}`)
      expect(state).toMatchObject({ lastFix: { lat: 45 + i / 100, lon: 5 } })
    }
  })

  it('logs each worker\'s pid once, as workerPid beside the supervisor\'s pid', () => {
    const lines = node.output.join('').split('\n').filter((line) => line.includes('"msg":"worker up"'))
    expect(lines).toHaveLength(2)
    for (const line of lines) {
      // JSON.parse keeps the last of two equal keys: count them in the text
      expect(line.match(/"pid":/g)).toHaveLength(1)
      const l = JSON.parse(line) as { pid: number, workerPid: number }
      expect(l.pid).toBe(node.process.pid)
      expect(l.workerPid).not.toBe(l.pid)
    }
  })

  it('answers /metrics for the whole node: every worker\'s requests, never going back between scrapes', async () => {
    const REQUESTS = 10
    for (let i = 0; i < REQUESTS; i++) expect((await getFresh(node.httpPort, '/health')).status).toBe(200)
    // a request is counted once its response is sent: the last one may be counted just after
    await eventually(async () => sample((await getFresh(node.httpPort, '/metrics')).body, 'retrack_http_requests_total', 'route="/health"') === REQUESTS,
      5000, `${REQUESTS} /health requests in /metrics`)
    let previous = 0
    for (let scrape = 0; scrape < 6; scrape++) {
      // fresh connections: the scrapes land on both workers in turn
      const { status, body } = await getFresh(node.httpPort, '/metrics')
      expect(status).toBe(200)
      expect(sample(body, 'retrack_http_requests_total', 'route="/health"')).toBe(REQUESTS)
      const total = sample(body, 'retrack_http_requests_total')
      expect(total, `scrape ${scrape}`).toBeGreaterThanOrEqual(previous)
      previous = total
      // what a process is stays per worker; devices connected to the node are summed
      for (const worker of ['0', '1']) expect(sample(body, 'retrack_process_resident_memory_bytes', `worker="${worker}"`)).toBeGreaterThan(0)
      expect(body).toMatch(/^retrack_process_start_time_seconds\{worker="0"\} /m)
      expect(sample(body, 'retrack_mqtt_devices_connected')).toBe(DEVICES)
    }
  })

  it('replaces a worker that dies, and its devices connect again', async () => {
    const [victim] = workerPids()
    process.kill(victim!, 'SIGKILL')
    await eventually(() => workerPids().length === 3, 30_000, 'a replacement worker')
    expect(alive(node.process.pid!)).toBe(true)
    const again = await Promise.all(devices.map((_, i) => open(i)))
    clients.push(...again)
    await Promise.all(again.map((c, i) => c.publishAsync(`tenants/workers/devices/${devices[i]!.id}/telemetry`, JSON.stringify({ ts: Date.now() - 5000, lat: 46, lon: 5 }), { qos: 1 })))
    // the replacement took over the slot: /metrics still answers for two workers
    for (let scrape = 0; scrape < 2; scrape++) {
      const { status, body } = await getFresh(node.httpPort, '/metrics')
      expect(status).toBe(200)
      expect(body.match(/^retrack_process_start_time_seconds\{worker="[01]"\} /gm)).toHaveLength(2)
    }
  })

  it('stops every worker and then itself on SIGTERM', async () => {
    const pids = workerPids().filter(alive)
    expect(pids).toHaveLength(2)
    expect(await node.kill('SIGTERM')).toBe(0)
    expect(pids.filter(alive)).toEqual([])
  })
})

describe('WORKERS > 1 without the shared services', () => {
  it('refuses to start without REDIS_URL, saying why', async () => {
    await expect(spawnNode({ WORKERS: '2', DATABASE_URL: 'postgres://127.0.0.1:1/none', REDIS_URL: '' }, 20_000))
      .rejects.toThrow(/exited with 78[\s\S]*WORKERS > 1 needs REDIS_URL/)
  })
})
