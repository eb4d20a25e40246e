// The REST client the simulator needs, in one file: log in, create vehicles, devices and shipments.
// Contract: POST /api/v1/auth/login → {accessToken}; POST /api/v1/vehicles → {id};
// POST /api/v1/devices → {device:{id}, secret, mqtt:{…}}; POST /api/v1/shipments → {id}.
import type { DeviceCredential } from './credentials.js'
import type { PlannedStop } from './plan.js'

export class ApiError extends Error {
  constructor(readonly status: number, readonly path: string, readonly body: string) {
    super(`${path}: HTTP ${status} ${body.slice(0, 300)}`)
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
    const res = await this.fetchImpl(`${this.baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
    const text = await res.text()
    if (!res.ok) throw new ApiError(res.status, path, text)
    return JSON.parse(text) as T
  }
}

/** Runs `task` over items with at most `limit` in flight, keeping order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await task(items[i]!, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/** A vehicle and a device for each of `count` simulated trucks. */
export async function provisionDevices(api: ApiClient, count: number, runTag: string, log: (line: string) => void): Promise<DeviceCredential[]> {
  let done = 0
  return mapLimited(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
    const name = `sim-${runTag}-${String(i + 1).padStart(5, '0')}`
    const vehicleId = await api.createVehicle(`Truck ${name}`, `SIM${String(i + 1).padStart(5, '0')}`)
    const { deviceId, secret } = await api.createDevice(name, vehicleId)
    if (++done % 500 === 0) log(`provisioned ${done}/${count} devices`)
    return { deviceId, secret, vehicleId, name }
  })
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
