// The credentials a run drives: the devices file's, or new devices created through the API
// (--provision). Provisioning saves every device's secret as soon as it exists, so neither an API
// error nor Ctrl-C half-way loses the secrets of the devices already created (they cannot be read
// back from the API).
import type { SimConfig } from './config.js'
import type { DeviceCredential } from './credentials.js'
import { ProvisionedDevicesFile } from './devices-file.js'
import { devicesFileOf, tenantOfFile } from './preflight.js'
import { ApiClient, provisionDevices } from './provision.js'

export interface RunIo { log: (line: string) => void }

/** The run was stopped (Ctrl-C, SIGTERM) before the fleet started; the message says what was kept. */
export class RunInterrupted extends Error {}

export interface RunCredentials { credentials: DeviceCredential[], tenant: string, api: ApiClient | undefined }

/** Logs in if there is a login, then reads (`fromFile`, checked by preflight) or provisions the devices. */
export async function acquireCredentials(c: SimConfig, fromFile: DeviceCredential[] | undefined, io: RunIo): Promise<RunCredentials> {
  let api: ApiClient | undefined
  if (c.email && c.password) {
    api = new ApiClient(c.api)
    await api.login(c.email, c.password, c.tenant)
  }
  const tenant = c.tenant ?? tenantOfFile(fromFile) ?? api?.tenantSlug
  if (!tenant) throw new Error('no tenant: give --tenant (the login did not say which tenant the user belongs to)')
  if (api?.tenantSlug !== undefined && api.tenantSlug !== tenant) {
    throw new Error(`the login is a user of tenant ${api.tenantSlug}, but the devices belong to tenant ${tenant}: log in as a user of ${tenant}`)
  }
  if (!c.provision) return { credentials: fromFile ?? [], tenant, api }
  const { devices: credentials, saved } = await provisionSaving(api!, c, tenant, io)
  const file = devicesFileOf(c)
  if (saved) io.log(`saved ${credentials.length} device credentials to ${file} (repeat the run with --devices-file ${file})`)
  else io.log(`the ${credentials.length} device credentials are NOT saved (see above): these devices run now, but their secrets are lost when the run ends`)
  return { credentials, tenant, api }
}

/** Provisions the devices, saving them as they are created; `saved`: every one of them is in the devices file. */
async function provisionSaving(api: ApiClient, c: SimConfig, tenant: string, io: RunIo): Promise<{ devices: DeviceCredential[], saved: boolean }> {
  const count = c.devices ?? 10
  const file = new ProvisionedDevicesFile(devicesFileOf(c))
  let interrupted = false
  const save = () => {
    try { file.save() } catch (err) { io.log(`could not save the device credentials to ${file.file}: ${(err as Error).message}`) }
  }
  // what the messages may claim: only what is on disk
  const kept = () => {
    if (file.size === 0) return ''
    return file.unsaved === 0 ? `; their credentials are saved in ${file.file}` : `; their credentials could NOT be saved in ${file.file}`
  }
  const onSignal = () => {
    interrupted = true
    save()
    io.log(`interrupted: waiting for the devices being created, then saving them to ${file.file} (Ctrl-C again stops at once)`)
  }
  // once: a second Ctrl-C gets Node's default and ends the process right away
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal)
  io.log(`provisioning ${count} vehicles and devices at ${c.api}`)
  let outcome: { devices: DeviceCredential[] } | { error: unknown }
  try {
    outcome = { devices: await provisionDevices(api, count, Date.now().toString(36), {
      log: io.log, created: (index, device) => file.add(index, { ...device, tenant }), stopped: () => interrupted,
    }) }
  } catch (error) {
    outcome = { error }
  }
  process.off('SIGINT', onSignal).off('SIGTERM', onSignal)
  save()
  if (file.backup) io.log(`${file.file} existed: kept it as ${file.backup}`)
  if ('error' in outcome) {
    if (file.size > 0) io.log(`created ${file.size} of ${count} devices before the error${kept()}`)
    throw outcome.error
  }
  if (interrupted) {
    throw new RunInterrupted(`interrupted while provisioning: created ${file.size} of ${count} devices (and their vehicles)${kept()}`)
  }
  return { devices: outcome.devices, saved: file.unsaved === 0 }
}
