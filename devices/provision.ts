// The REST client the simulator needs, in one file: log in, create vehicles, devices and shipments,
// find and cancel open shipments, read a device's state. Contract (docs/api.md):
// POST /api/v1/auth/login → {accessToken}; POST /api/v1/vehicles → {id};
// POST /api/v1/devices → {device:{id}, secret, mqtt:{…}}; POST /api/v1/shipments → {id};
// GET /api/v1/shipments?status=…&deviceId=… | vehicleId=… → {items, total}; POST /api/v1/shipments/{id}/cancel {reason};
// GET /api/v1/devices/{id}/state → {lastFix: {ts, lat, lon, …} | null, lastDrop}.
import type { DeviceCredential } from './credentials.js'
import type { PlannedStop } from './plan.js'

/** The API answered with an error status. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly url: string, readonly body: string, method = 'POST') {
    super(`${method} ${url}: HTTP ${status} ${body.slice(0, 300)}`)
  }
}

/** fetch says only "fetch failed"; the reason (e.g. "connect ECONNREFUSED 127.0.0.1:8080") is its cause. */
function reasonOf(err: unknown): string {
  const inner = err instanceof Error ? err.cause : undefined
  if (inner instanceof Error) return inner.message
  return err instanceof Error ? err.message : String(err)
}

/** The API could not be reached at all (nothing listening, unknown host, connection reset…). */
export class ApiUnreachableError extends Error {
  constructor(readonly url: string, cause: unknown, method = 'POST') {
    super(`${method} ${url} failed: ${reasonOf(cause)} (is ReTrack running there? see --api)`)
  }
}

export interface ShipmentRequest {
  reference: string
  vehicleId: string
  deviceId: string
  route: { type: 'LineString', coordinates: [number, number][] }
  stops: { type: string, name: string, lat: number, lon: number, radiusM?: number, windowStart?: string, windowEnd?: string, plannedDwellS?: number }[]
  /** allowed cargo temperature, °C (reefer loads) */
  tempMinC?: number
  tempMaxC?: number
}

/** Shipment statuses ReTrack still routes a device's readings to (src/db/asset-context.ts: ACTIVE). */
export const OPEN_STATUSES = ['assigned', 'in_transit', 'at_stop', 'exception'] as const

export interface ShipmentSummary { id: string, reference: string, status: string, deviceId: string | null, vehicleId: string | null }

/** A device's last accepted fix as GET /devices/{id}/state shows it (null before the first). */
export interface LastFix { ts: number, lat: number, lon: number }
export interface DeviceServerState { lastFix: LastFix | null, lastDrop: { reason: string, ts: string } | null }

export class ApiClient {
  private token: string | undefined
  tenantSlug: string | undefined

  constructor(private readonly baseUrl: string, private readonly fetchImpl: typeof fetch = fetch) {}

  async login(email: string, password: string, tenant?: string): Promise<void> {
    const res = await this.post<{ accessToken: string, user?: { tenant?: { slug?: string } } }>('/api/v1/auth/login', { email, password, ...(tenant ? { tenant } : {}) }, false)
    if (typeof res.accessToken !== 'string') throw new Error('login answered without an accessToken')
    this.token = res.accessToken
    this.tenantSlug = tenant ?? res.user?.tenant?.slug
  }

  async createVehicle(name: string, plate?: string): Promise<string> {
    return (await this.post<{ id: string }>('/api/v1/vehicles', { name, kind: 'truck', ...(plate ? { plate } : {}) })).id
  }

  async createDevice(name: string, vehicleId: string): Promise<{ deviceId: string, secret: string }> {
    const res = await this.post<{ device: { id: string }, secret: string }>('/api/v1/devices', { name, vehicleId })
    return { deviceId: res.device.id, secret: res.secret }
  }

  async createShipment(body: ShipmentRequest): Promise<string> {
    return (await this.post<{ id: string }>('/api/v1/shipments', body)).id
  }

  /** Every open shipment naming this device or this vehicle (all pages). */
  async openShipments(filter: { deviceId: string } | { vehicleId: string }): Promise<ShipmentSummary[]> {
    const [key, value] = Object.entries(filter)[0] as [string, string]
    const out: ShipmentSummary[] = []
    for (let offset = 0; ; ) {
      const query = new URLSearchParams([...OPEN_STATUSES.map((s): [string, string] => ['status', s]), [key, value], ['limit', '500'], ['offset', String(offset)]])
      const page = await this.get<{ items: ShipmentSummary[], total: number }>(`/api/v1/shipments?${query.toString()}`)
      out.push(...page.items)
      offset += page.items.length
      if (page.items.length === 0 || offset >= page.total) return out
    }
  }

  async cancelShipment(id: string, reason: string): Promise<void> {
    await this.post(`/api/v1/shipments/${encodeURIComponent(id)}/cancel`, { reason })
  }

  /** The processing core's state of a device: its last accepted fix (epoch ms) and why it last dropped one. */
  async deviceState(deviceId: string): Promise<DeviceServerState> {
    const res = await this.get<{ lastFix: { ts: string, lat: number, lon: number } | null, lastDrop: { reason: string, ts: string } | null }>(
      `/api/v1/devices/${encodeURIComponent(deviceId)}/state`)
    const fix = res.lastFix
    return { lastFix: fix ? { ts: Date.parse(fix.ts), lat: fix.lat, lon: fix.lon } : null, lastDrop: res.lastDrop ?? null }
  }

  private post<T>(path: string, body: unknown, auth = true): Promise<T> {
    return this.request<T>('POST', path, body, auth)
  }

  private get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path, undefined, true)
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body: unknown, auth: boolean): Promise<T> {
    const headers: Record<string, string> = {}
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (auth) {
      if (!this.token) throw new Error('not logged in')
      headers['authorization'] = `Bearer ${this.token}`
    }
    const url = `${this.baseUrl}${path}`
    let res: Response
    let text: string
    try {
      res = await this.fetchImpl(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
      text = await res.text()
    } catch (err) {
      throw new ApiUnreachableError(url, err, method)
    }
    if (!res.ok) throw new ApiError(res.status, url, text, method)
    return JSON.parse(text) as T
  }
}

/**
 * Runs `task` over items with at most `limit` in flight, keeping order. Once `stopped()` says so, or
 * a task failed, no new item is started; the ones in flight finish before this returns (or throws
 * the first failure), so nothing they create goes unnoticed. Results of items never started are missing.
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>, stopped: () => boolean = () => false): Promise<R[]> {
  const out: R[] = new Array<R>(items.length)
  let next = 0
  let failure: { error: unknown } | undefined
  const worker = async () => {
    while (next < items.length && !stopped() && !failure) {
      const i = next++
      try { out[i] = await task(items[i]!, i) } catch (error) { failure ??= { error } }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failure) throw failure.error
  return out
}

export interface ProvisionHooks {
  log: (line: string) => void
  /** called as soon as a device exists, with its secret: the caller saves it before anything else can fail */
  created?: (index: number, device: DeviceCredential) => void
  /** true once no further device should be created (e.g. Ctrl-C); the ones being created finish */
  stopped?: () => boolean
}

/** A vehicle and a device for each of `count` simulated trucks (fewer if stopped), in order. */
export async function provisionDevices(api: ApiClient, count: number, runTag: string, hooks: ProvisionHooks): Promise<DeviceCredential[]> {
  let done = 0
  const all = await mapLimited(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
    const name = `sim-${runTag}-${String(i + 1).padStart(5, '0')}`
    const vehicleId = await api.createVehicle(`Truck ${name}`, `SIM${String(i + 1).padStart(5, '0')}`)
    const { deviceId, secret } = await api.createDevice(name, vehicleId)
    const device: DeviceCredential = { deviceId, secret, vehicleId, name }
    hooks.created?.(i, device)
    if (++done % 500 === 0) hooks.log(`provisioned ${done}/${count} devices`)
    return device
  }, hooks.stopped)
  return all.filter((d): d is DeviceCredential => d !== undefined)
}

/** Appointment window around the planned arrival, ISO strings as the API takes them. */
export function shipmentStops(stops: PlannedStop[], windowMin: number): ShipmentRequest['stops'] {
  return stops.map((s) => ({
    type: s.type, name: s.name, lat: s.lat, lon: s.lon, plannedDwellS: s.plannedDwellS,
    ...(s.radiusM !== undefined ? { radiusM: s.radiusM } : {}),
    windowStart: new Date(s.plannedArrival - windowMin * 60_000).toISOString(),
    windowEnd: new Date(s.plannedArrival + windowMin * 60_000).toISOString(),
  }))
}
