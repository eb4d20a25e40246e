// The console's pure pieces, in Node: the mosquitto_pub example (a secret must survive the shell),
// how a device's status is read from its fix, and the checks on stream frames. No browser needed.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { mosquittoPub, telemetryTopic } from '../../console/src/views/devices/mosquitto.js'
import { deviceStatus } from '../../console/src/views/map/status.js'
import { toLivePositions, toTrackingEvent, toTrackingEvents } from '../../console/src/api/guards.js'
import { ApiError, describeError } from '../../console/src/api/errors.js'
import { Http } from '../../console/src/api/http.js'
import { Session, type SessionStore } from '../../console/src/api/session.js'
import { safeNext } from '../../console/src/app/next.js'

describe('the mosquitto_pub example', () => {
  const example = { host: '127.0.0.1', port: 1884, deviceId: 'dev_abc', tenant: 'acme', secret: 's3cr3t', now: 1_700_000_000_000 }

  it('connects as the device (client id, tenant as username, secret as password) and publishes one reading on its telemetry topic', () => {
    const command = mosquittoPub(example)
    expect(command).toContain("-h '127.0.0.1'")
    expect(command).toContain('-p 1884')
    expect(command).toContain("-i 'dev_abc'")
    expect(command).toContain("-u 'acme'")
    expect(command).toContain("-P 's3cr3t'")
    expect(command).toContain("-t 'tenants/acme/devices/dev_abc/telemetry'")
    const reading = /-m '(.*)'$/s.exec(command)?.[1]
    expect(JSON.parse(reading ?? 'null')).toMatchObject({ ts: 1_700_000_000_000, lat: expect.any(Number), lon: expect.any(Number) })
    expect(telemetryTopic('acme', 'dev_abc')).toBe('tenants/acme/devices/dev_abc/telemetry')
  })

  it('quotes for the shell, so a quote or a $ in a value stays literal', () => {
    expect(mosquittoPub({ ...example, secret: "a'b$c" })).toContain(`-P 'a'\\''b$c'`)
  })

  it('leaves a placeholder when the node does not know its MQTT port', () => {
    expect(mosquittoPub({ ...example, port: null })).toContain('-p <mqtt-port>')
  })
})

describe('device status on the map', () => {
  it.each([
    [false, 20, 'offline'], [true, null, 'stopped'], [true, 0.4, 'stopped'], [true, 1, 'moving'], [true, 25, 'moving'],
  ] as const)('online=%s speed=%s → %s', (online, speed, status) => {
    expect(deviceStatus(online, speed)).toBe(status)
  })
})

describe('stream frames and timeline items', () => {
  const event = { id: 7, type: 'arrived', ts: '2026-01-01T00:00:00.000Z', source: 'rule', shipmentId: 's', stopId: null, vehicleId: null, deviceId: 'd', payload: { a: 1 } }

  it('keeps well-formed events and drops anything else', () => {
    expect(toTrackingEvent(event)).toEqual(event)
    expect(toTrackingEvent({ ...event, id: '7' })).toBeNull()
    expect(toTrackingEvent(null)).toBeNull()
    expect(toTrackingEvents({ items: [event, { nonsense: true }] })).toEqual([event])
  })

  it('reads positions frames, with null speed and heading when the device did not say', () => {
    expect(toLivePositions([{ deviceId: 'd', ts: '2026-01-01T00:00:00Z', lat: 45, lon: 4, speed: null, heading: null }, { deviceId: 'x' }]))
      .toEqual([{ deviceId: 'd', ts: '2026-01-01T00:00:00Z', lat: 45, lon: 4, speed: null, heading: null }])
    expect(toLivePositions({ not: 'an array' })).toEqual([])
  })
})

/** sessionStorage, in memory */
function memoryStorage(initial: Record<string, string> = {}): SessionStore {
  const data = new Map(Object.entries(initial))
  return {
    getItem: (k: string) => data.get(k) ?? null,
    removeItem: (k: string) => { data.delete(k) },
    setItem: (k: string, v: string) => { data.set(k, v) },
  }
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
const sessionUser = (role: string) => ({ id: 'u1', email: 'o@x.test', name: 'O', role, platformAdmin: false, tenant: { id: 't', slug: 'x', name: 'X' } })
const signedIn = (role: string) => memoryStorage({
  'retrack.session': JSON.stringify({ accessToken: 'old', refreshToken: 'r1', expiresAt: Date.now() + 600_000, user: sessionUser(role) }),
})

describe('API errors and the session', () => {
  afterEach(() => { vi.unstubAllGlobals() })

  it('a network failure reads as words, not "Failed to fetch"', async () => {
    vi.stubGlobal('fetch', vi.fn(() => Promise.reject(new TypeError('Failed to fetch'))))
    const session = new Session(signedIn('operator'))
    const err = await new Http(session).get('/api/v1/shipments').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(describeError(err)).toMatch(/could not be reached/)
    const login = await session.login('o@x.test', 'pw').catch((e: unknown) => e)
    expect(describeError(login)).toMatch(/could not be reached/)
    session.end()
  })

  it('a 401 refreshes once and retries; a refused refresh signs out', async () => {
    const fetch = vi.fn((path: string) => Promise.resolve(
      path === '/api/v1/auth/refresh' ? json(200, { accessToken: 'new', expiresIn: 900, refreshToken: 'r2', user: sessionUser('operator') })
        : json(401, { statusCode: 401, code: 'UNAUTHORIZED', message: 'session revoked' })))
    vi.stubGlobal('fetch', fetch)
    const session = new Session(signedIn('operator'))
    const signedOut = vi.fn()
    session.onChange((u) => { if (!u) signedOut() })
    await expect(new Http(session).get('/api/v1/shipments')).rejects.toMatchObject({ status: 401, message: 'session revoked' })
    expect(fetch.mock.calls.map(([p]) => p)).toEqual(['/api/v1/shipments', '/api/v1/auth/refresh', '/api/v1/shipments'])

    fetch.mockImplementation(() => Promise.resolve(json(401, { statusCode: 401, code: 'UNAUTHORIZED', message: 'refresh token refused' })))
    await expect(new Http(session).get('/api/v1/shipments')).rejects.toMatchObject({ status: 401 })
    expect(signedOut).toHaveBeenCalledTimes(1)
    expect(session.user).toBeNull()
  })

  it('a refresh that brings another role is announced, so the page can drop actions the role may no longer take', async () => {
    vi.stubGlobal('fetch', vi.fn(() => Promise.resolve(json(200, { accessToken: 'new', expiresIn: 900, refreshToken: 'r2', user: sessionUser('viewer') }))))
    const session = new Session(signedIn('operator'))
    const heard: Array<string | null> = []
    session.onChange((u) => heard.push(u?.role ?? null))
    await session.refresh()
    expect(heard).toEqual(['viewer'])
    expect(session.canAct).toBe(false)
    await session.refresh() // same role again: a silent refresh
    expect(heard).toEqual(['viewer'])
    session.end()
  })
})

describe('where sign-in goes next', () => {
  it.each([
    ['/shipments?status=open', '/shipments?status=open'], [null, '/map'], ['https://evil.example/', '/map'],
    ['//evil.example/x', '/map'], ['/\\evil.example/x', '/map'], ['/\\/evil.example', '/map'], ['map', '/map'],
  ])('%s → %s', (next, path) => {
    expect(safeNext(next)).toBe(path)
  })
})
