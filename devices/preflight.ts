// Everything about a run that can be checked without the network, checked before the run touches
// ReTrack: a mistake found after --provision would leave vehicles, devices and shipments behind for
// nothing. Failures are ConfigErrors naming the flag (exit 2), like bad flags.
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { ConfigError, type SimConfig } from './config.js'
import { readDevicesFile, type DeviceCredential } from './credentials.js'

/** Where --provision saves the new credentials when no --devices-file is given. */
export const DEFAULT_DEVICES_FILE = 'sim-devices.json'

/** The devices file a run reads (without --provision) or writes (with it). */
export function devicesFileOf(c: SimConfig): string {
  return c.devicesFile ?? DEFAULT_DEVICES_FILE
}

function checkWritable(flag: string, file: string) {
  const dir = path.dirname(path.resolve(file))
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`--${flag} ${file}: directory ${dir} does not exist`)
  if (existsSync(file) && statSync(file).isDirectory()) throw new ConfigError(`--${flag} ${file}: is a directory`)
}

/** Checks the files of a run; returns the credentials of the devices file the run will use (not with --provision). */
export function preflight(c: SimConfig): DeviceCredential[] | undefined {
  if (c.truthOut !== undefined) checkWritable('truth-out', c.truthOut)
  if (c.provision) { checkWritable('devices-file', devicesFileOf(c)); return undefined }
  let all: DeviceCredential[]
  try { all = readDevicesFile(c.devicesFile!) } catch (err) {
    throw new ConfigError(`--devices-file: ${(err as Error).message}`)
  }
  if (all.length === 0) throw new ConfigError(`--devices-file ${c.devicesFile}: no devices in it`)
  return c.devices !== undefined ? all.slice(0, c.devices) : all
}
