import { createServer, type AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import type { DeviceCredential } from '../../../devices/credentials.js'
import { ApiClient, ApiError, ApiUnreachableError, mapLimited, provisionDevices, shipmentStops } from '../../../devices/provision.js'

interface Call { url: string, method: string, headers: Record<string, string>, body: unknown }

/** A fetch that answers like the ReTrack API contract and records what it was asked. */
function fakeApi() {
  const calls: Call[] = []
  let n = 0
  const fetchImpl = (async (url: string, init: RequestInit) => {
    const body = JSON.parse(init.body as string) as Record<string, unknown>
    calls.push({ url, method: init.method ?? 'GET', headers: init.headers as Record<string, string>, body })
    const json = (status: number, value: unknown) => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } })
    if (url.endsWith('/auth/login')) return body['password'] === 'pw' ? json(200, { accessToken: 'tok', user: { tenant: { slug: 'acme' } } }) : json(401, { code: 'BAD_CREDENTIALS' })
    if (url.endsWith('/vehicles')) return json(201, { id: `veh-${++n}` })
    if (url.endsWith('/devices')) return json(201, { device: { id: `dev-${n}` }, secret: `secret-${n}`, mqtt: { clientId: `dev-${n}`, username: 'acme' } })
    if (url.endsWith('/shipments')) return json(201, { id: 'shp-1' })
    return json(404, {})
  }) as typeof fetch
  return { calls, fetchImpl }
}

describe('provisioning client', () => {
  it('logs in, then creates vehicles and devices with the bearer token', async () => {
    const { calls, fetchImpl } = fakeApi()
    const api = new ApiClient('http://api', fetchImpl)
    await api.login('admin@acme.test', 'pw')
    expect(api.tenantSlug).toBe('acme')
    const creds = await provisionDevices(api, 3, 'run1', { log: () => undefined })
    expect(creds).toHaveLength(3)
    expect(creds[0]).toMatchObject({ deviceId: expect.stringMatching(/^dev-/), secret: expect.stringMatching(/^secret-/), vehicleId: expect.stringMatching(/^veh-/) })
    const vehicle = calls.find((c) => c.url === 'http://api/api/v1/vehicles')!
    expect(vehicle.headers['authorization']).toBe('Bearer tok')
    expect(vehicle.body).toMatchObject({ kind: 'truck', name: expect.any(String) })
    const device = calls.find((c) => c.url === 'http://api/api/v1/devices')!
    expect(device.body).toMatchObject({ name: expect.any(String), vehicleId: expect.stringMatching(/^veh-/) })
    expect(calls[0]!.headers['authorization']).toBeUndefined()
  })

  it('reports an API refusal with its URL, status and body', async () => {
    const api = new ApiClient('http://api', fakeApi().fetchImpl)
    await expect(api.login('admin@acme.test', 'wrong')).rejects.toBeInstanceOf(ApiError)
    await expect(api.login('admin@acme.test', 'wrong')).rejects.toThrow(/^POST http:\/\/api\/api\/v1\/auth\/login: HTTP 401 .*BAD_CREDENTIALS/)
  })

  it('names the URL and the reason when the API cannot be reached (fetch alone says "fetch failed")', async () => {
    // a port that was just free: nothing listens there
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise((resolve) => probe.close(resolve))
    const api = new ApiClient(`http://127.0.0.1:${port}`)
    const failure = api.login('admin@acme.test', 'pw')
    await expect(failure).rejects.toBeInstanceOf(ApiUnreachableError)
    await expect(failure).rejects.toThrow(`POST http://127.0.0.1:${port}/api/v1/auth/login failed: connect ECONNREFUSED 127.0.0.1:${port} (is ReTrack running there? see --api)`)
  })

  it('stops creating devices once asked to, finishing the ones under way and handing over each one as it exists', async () => {
    const { calls, fetchImpl } = fakeApi()
    const api = new ApiClient('http://api', fetchImpl)
    await api.login('admin@acme.test', 'pw')
    const created: [number, DeviceCredential][] = []
    let stop = false
    const devices = await provisionDevices(api, 100, 'run1', {
      log: () => undefined,
      created: (index, d) => { created.push([index, d]); if (created.length === 3) stop = true },
      stopped: () => stop,
    })
    // 8 in flight when the third finished at most: none started after the stop
    expect(devices.length).toBeGreaterThanOrEqual(3)
    expect(devices.length).toBeLessThanOrEqual(3 + 8)
    expect(created.map(([, d]) => d).sort((a, b) => a.name!.localeCompare(b.name!))).toEqual(devices)
    expect(calls.filter((c) => c.url.endsWith('/devices'))).toHaveLength(devices.length)
  })

  it('after an API error, waits for the devices under way (and hands them over) before failing', async () => {
    const { fetchImpl } = fakeApi()
    let vehicles = 0
    const failing = (async (url: string, init: RequestInit) => {
      if (url.endsWith('/vehicles') && ++vehicles === 5) return new Response('{"code":"INTERNAL"}', { status: 500 })
      // the devices under way answer after the failure
      if (url.endsWith('/devices')) await new Promise((r) => setTimeout(r, 20))
      return fetchImpl(url, init)
    }) as typeof fetch
    const api = new ApiClient('http://api', failing)
    await api.login('admin@acme.test', 'pw')
    const created: DeviceCredential[] = []
    await expect(provisionDevices(api, 50, 'run1', { log: () => undefined, created: (_, d) => created.push(d) })).rejects.toThrow(/HTTP 500/)
    const settled = created.length
    await new Promise((r) => setTimeout(r, 100))
    // every device whose vehicle had been created before the failure was handed over before the error came out
    expect(settled).toBe(created.length)
    expect(created.length).toBeGreaterThanOrEqual(4)
  })

  it('puts appointment windows around the planned arrival, in simulated time', () => {
    const arrival = Date.UTC(2025, 0, 1, 10, 0, 0)
    const [stop] = shipmentStops([{ name: 'DC', type: 'delivery', lat: 1, lon: 2, plannedDwellS: 900, plannedArrival: arrival, plannedDeparture: arrival + 900_000 }], 30)
    expect(stop).toEqual({ type: 'delivery', name: 'DC', lat: 1, lon: 2, plannedDwellS: 900, windowStart: '2025-01-01T09:30:00.000Z', windowEnd: '2025-01-01T10:30:00.000Z' })
  })

  it('runs work with bounded concurrency and keeps the order', async () => {
    let inFlight = 0, peak = 0
    const out = await mapLimited([1, 2, 3, 4, 5, 6, 7], 3, async (x) => {
      peak = Math.max(peak, ++inFlight)
      await new Promise((r) => setTimeout(r, 5 * (8 - x)))
      inFlight--
      return x * 10
    })
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70])
    expect(peak).toBe(3)
  })
})
