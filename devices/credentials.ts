// The devices file: a JSON list of {deviceId, secret[, vehicleId, name]}. Written by --provision so a
// run can be repeated without provisioning again; read by --devices-file.
import { readFileSync, writeFileSync } from 'node:fs'

export interface DeviceCredential {
  deviceId: string
  secret: string
  vehicleId?: string
  name?: string
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/

export function parseDevicesFile(text: string, source = 'devices file'): DeviceCredential[] {
  let json: unknown
  try { json = JSON.parse(text) } catch (err) { throw new Error(`${source}: ${(err as Error).message}`) }
  // also accept {devices: [...]} so a file with a header still reads
  const list = Array.isArray(json) ? json : (json as { devices?: unknown })?.devices
  if (!Array.isArray(list)) throw new Error(`${source}: expected a JSON list of {deviceId, secret}`)
  return list.map((entry: unknown, i) => {
    const e = entry as Record<string, unknown>
    if (typeof e?.['deviceId'] !== 'string' || !ID.test(e['deviceId'])) throw new Error(`${source}[${i}]: deviceId missing or not a valid MQTT client id (no / + # or spaces)`)
    if (typeof e['secret'] !== 'string' || e['secret'] === '') throw new Error(`${source}[${i}]: secret missing`)
    return {
      deviceId: e['deviceId'], secret: e['secret'],
      ...(typeof e['vehicleId'] === 'string' ? { vehicleId: e['vehicleId'] } : {}),
      ...(typeof e['name'] === 'string' ? { name: e['name'] } : {}),
    }
  })
}

export function readDevicesFile(file: string): DeviceCredential[] {
  return parseDevicesFile(readFileSync(file, 'utf8'), file)
}

/** Secrets inside: written readable by the owner only. */
export function writeDevicesFile(file: string, devices: DeviceCredential[]) {
  writeFileSync(file, JSON.stringify(devices, null, 2) + '\n', { mode: 0o600 })
}
