// The REST client the simulator needs, in one file: log in, create vehicles, devices and shipments.
// Contract: POST /api/v1/auth/login → {accessToken}; POST /api/v1/vehicles → {id};
// POST /api/v1/devices → {device:{id}, secret, mqtt:{…}}; POST /api/v1/shipments → {id}.
import type { DeviceCredential } from './credentials.js'
import type { PlannedStop } from './plan.js'

/** The API answered with an error status. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly url: string, readonly body: string) {
    super(`POST ${url}: HTTP ${status} ${body.slice(0, 300)}`)
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
  constructor(readonly url: string, cause: unknown) {
    super(`POST ${url} failed: ${reasonOf(cause)} (is ReTrack running there? see --api)`)
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

  private async post<T>(path: string, body: unknown, auth = true): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (auth) {
      if (!this.token) throw new Error('not logged in')
      headers['authorization'] = `Bearer ${this.token}`
    }
    const url = `${this.baseUrl}${path}`
    let res: Response
    let text: string
    try {
      res = await this.fetchImpl(url, { method: 'POST', headers, body: JSON.stringify(body) })
      text = await res.text()
    } catch (err) {
      throw new ApiUnreachableError(url, err)
    }
    if (!res.ok) throw new ApiError(res.status, url, text)
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
