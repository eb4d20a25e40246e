// Everything about a run that can be checked without the network, checked before the run touches
// ReTrack: a mistake found after --provision would leave vehicles, devices and shipments behind for
// nothing. Failures are ConfigErrors naming the flag (exit 2), like bad flags.
import { accessSync, constants, existsSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ConfigError, type SimConfig } from './config.js'
import { readDevicesFile, type DeviceCredential } from './credentials.js'

/** Where --provision saves the new credentials when no --devices-file is given. */
export const DEFAULT_DEVICES_FILE = 'sim-devices.json'

/** The devices file a run reads (without --provision) or writes (with it). */
export function devicesFileOf(c: SimConfig): string {
  return c.devicesFile ?? DEFAULT_DEVICES_FILE
}

const reason = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message

/**
 * Refuses a file the run could not write. `replace`: written as a temporary file beside it, then
 * renamed over it (the devices file), so the folder must take new files whatever the file's own
 * mode; `in-place`: written over (a new file needs the folder, an existing one its own permission).
 * The folder is tried for real (a file created and removed): permissions, ACLs, a read-only mount.
 */
function checkWritable(flag: string, file: string, how: 'replace' | 'in-place') {
  const dir = path.dirname(path.resolve(file))
  if (!existsSync(dir)) throw new ConfigError(`--${flag} ${file}: directory ${dir} does not exist`)
  if (!statSync(dir).isDirectory()) throw new ConfigError(`--${flag} ${file}: ${dir} is not a directory`)
  const exists = existsSync(file)
  if (exists && statSync(file).isDirectory()) throw new ConfigError(`--${flag} ${file}: is a directory`)
  if (how === 'in-place' && exists) {
    try { accessSync(file, constants.W_OK) } catch (err) { throw new ConfigError(`--${flag} ${file}: cannot be written (${reason(err)})`) }
    return
  }
  const probe = path.join(dir, `.${path.basename(file)}.write-check-${process.pid}`)
  try {
    writeFileSync(probe, '', { flag: 'wx' })
    rmSync(probe)
  } catch (err) {
    throw new ConfigError(`--${flag} ${file}: cannot create files in ${dir} (${reason(err)}); give a --${flag} in a writable folder`)
  }
}

/** Checks the files of a run; returns the credentials of the devices file the run will use (not with --provision). */
export function preflight(c: SimConfig): DeviceCredential[] | undefined {
  if (c.truthOut !== undefined) checkWritable('truth-out', c.truthOut, 'in-place')
  // before anything is provisioned: devices whose secrets cannot be saved are lost
  if (c.provision) { checkWritable('devices-file', devicesFileOf(c), 'replace'); return undefined }
  let all: DeviceCredential[]
  try { all = readDevicesFile(c.devicesFile!) } catch (err) {
    throw new ConfigError(`--devices-file: ${(err as Error).message}`)
  }
  if (all.length === 0) throw new ConfigError(`--devices-file ${c.devicesFile}: no devices in it`)
  const credentials = c.devices !== undefined ? all.slice(0, c.devices) : all
  checkTenant(c, credentials)
  return credentials
}

/** The tenant the devices file says its devices belong to (written by --provision), if it says one. */
export function tenantOfFile(credentials: readonly DeviceCredential[] | undefined): string | undefined {
  return credentials?.find((d) => d.tenant !== undefined)?.tenant
}

/** One tenant per run (it is every device's MQTT username): from --tenant, the file, or the login. */
function checkTenant(c: SimConfig, credentials: readonly DeviceCredential[]) {
  const tenants = [...new Set(credentials.flatMap((d) => d.tenant !== undefined ? [d.tenant] : []))]
  if (c.tenant !== undefined) {
    const other = tenants.find((t) => t !== c.tenant)
    if (other !== undefined) throw new ConfigError(`--tenant ${c.tenant}: the devices file ${c.devicesFile} says its devices belong to tenant ${other}`)
    return
  }
  if (tenants.length > 1) throw new ConfigError(`--devices-file ${c.devicesFile}: its devices belong to several tenants (${tenants.join(', ')}); one run drives one tenant: give --tenant and --devices`)
  if (tenants.length === 0 && !c.email) {
    throw new ConfigError(`--tenant is required with --devices-file ${c.devicesFile}: the file does not say which tenant its devices belong to (files written by --provision do)`)
  }
}
