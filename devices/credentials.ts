// The devices file: a JSON list of {deviceId, secret[, vehicleId, name, tenant, simulatedUntil,
// lastPosition]}. Written by
// --provision so a run can be repeated without provisioning again; read by --devices-file. Writing
// it (backups, mode 0600, the simulated end of a run) is devices-file.ts.
import { readFileSync } from 'node:fs'

export interface DeviceCredential {
  deviceId: string
  secret: string
  vehicleId?: string
  name?: string
  /**
   * Simulated time (epoch ms) a previous run of this device ended at. ReTrack drops readings at or
   * before a device's last fix as late, so the next run starts its simulated clock after it.
   */
  simulatedUntil?: number
  /** the tenant the device belongs to (written by --provision): --tenant is not needed with the file */
  tenant?: string
  /** where the vehicle was when that run ended (true position): the next run's truck starts there */
  lastPosition?: { lat: number, lon: number }
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/

/** The entries of a devices file's JSON: a list, or `{devices: [...]}` so a file with a header still reads. */
export function deviceEntries(json: unknown): unknown[] | undefined {
  const list = Array.isArray(json) ? json : (json as { devices?: unknown } | null)?.devices
  return Array.isArray(list) ? (list as unknown[]) : undefined
}

export function parseDevicesFile(text: string, source = 'devices file'): DeviceCredential[] {
  let json: unknown
  try { json = JSON.parse(text) } catch (err) { throw new Error(`${source}: ${(err as Error).message}`) }
  const list = deviceEntries(json)
  if (!list) throw new Error(`${source}: expected a JSON list of {deviceId, secret}`)
  return list.map((entry: unknown, i) => {
    const e = entry as Record<string, unknown>
    if (typeof e?.['deviceId'] !== 'string' || !ID.test(e['deviceId'])) throw new Error(`${source}[${i}]: deviceId missing or not a valid MQTT client id (no / + # or spaces)`)
    if (typeof e['secret'] !== 'string' || e['secret'] === '') throw new Error(`${source}[${i}]: secret missing`)
    const until = e['simulatedUntil']
    if (until !== undefined && (typeof until !== 'number' || !Number.isFinite(until) || until < 0)) {
      throw new Error(`${source}[${i}]: simulatedUntil must be epoch milliseconds, not ${JSON.stringify(until)}`)
    }
    const tenant = e['tenant']
    if (tenant !== undefined && (typeof tenant !== 'string' || !/^[^/+#\s]+$/.test(tenant))) throw new Error(`${source}[${i}]: tenant must be a tenant slug, not ${JSON.stringify(tenant)}`)
    const at = e['lastPosition'] as { lat?: unknown, lon?: unknown } | undefined
    const position = at !== undefined && typeof at?.lat === 'number' && typeof at.lon === 'number' && Math.abs(at.lat) <= 90 && Math.abs(at.lon) <= 180
      ? { lat: at.lat, lon: at.lon } : undefined
    if (at !== undefined && !position) throw new Error(`${source}[${i}]: lastPosition must be {lat, lon} in degrees, not ${JSON.stringify(at)}`)
    return {
      deviceId: e['deviceId'], secret: e['secret'],
      ...(typeof e['vehicleId'] === 'string' ? { vehicleId: e['vehicleId'] } : {}),
      ...(typeof e['name'] === 'string' ? { name: e['name'] } : {}),
      ...(typeof tenant === 'string' ? { tenant } : {}),
      ...(typeof until === 'number' ? { simulatedUntil: until } : {}),
      ...(position ? { lastPosition: position } : {}),
    }
  })
}

export function readDevicesFile(file: string): DeviceCredential[] {
  return parseDevicesFile(readFileSync(file, 'utf8'), file)
}
