// Writing the devices file. It holds device secrets, so it is always owner-only (0600), also when it
// replaces a file that had another mode, and it is written atomically (temp file + rename): an
// interrupted write never leaves half a list behind. --provision never overwrites an existing file:
// the old one is kept as <file>.bak (.bak.2, .bak.3 … when those exist), because its devices still
// exist in ReTrack and their secrets cannot be read back from the API.
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { deviceEntries, type DeviceCredential } from './credentials.js'
import { round7 } from './geo.js'

const OWNER_ONLY = 0o600

/** Writes `json` to `file` atomically, readable by the owner only. */
export function writeSecretJson(file: string, json: unknown) {
  const temp = `${file}.tmp-${process.pid}`
  try {
    writeFileSync(temp, JSON.stringify(json, null, 2) + '\n', { mode: OWNER_ONLY })
    // the mode given to writeFileSync is reduced by the umask; the file must be exactly 0600
    chmodSync(temp, OWNER_ONLY)
    renameSync(temp, file)
  } catch (err) {
    rmSync(temp, { force: true })
    throw err
  }
}

/** Moves an existing `file` to the first free `<file>.bak`, `<file>.bak.2` …; returns where, if it existed. */
export function keepExisting(file: string): string | undefined {
  if (!existsSync(file)) return undefined
  let backup = `${file}.bak`
  for (let n = 2; existsSync(backup); n++) backup = `${file}.bak.${n}`
  renameSync(file, backup)
  // the old secrets deserve the same protection as the new ones (best effort: it may not be ours)
  try { chmodSync(backup, OWNER_ONLY) } catch { /* keep the backup as it is */ }
  return backup
}

/**
 * The devices file of a --provision run, saved while devices are being created (at most every
 * `minIntervalMs`, and on every save() call), so an interrupted run leaves every created device's
 * secret on disk. Entries keep their provisioning order. The existing file is moved aside by the
 * first save, i.e. only once a device was actually created (a refused login leaves it alone).
 */
export class ProvisionedDevicesFile {
  /** where the file that was there before went, once saved */
  backup: string | undefined
  private readonly slots: (DeviceCredential | undefined)[] = []
  private count = 0
  private saved = 0
  private lastSaveAt = Number.NEGATIVE_INFINITY

  constructor(readonly file: string, private readonly minIntervalMs = 250, private readonly now: () => number = Date.now) {}

  /** How many devices were created so far. */
  get size() { return this.count }

  /** How many of them are not on disk (yet, or because saving failed). */
  get unsaved() { return this.count - this.saved }

  /** The created devices, in provisioning order. */
  get devices(): DeviceCredential[] {
    return this.slots.filter((d): d is DeviceCredential => d !== undefined)
  }

  add(index: number, device: DeviceCredential) {
    if (this.slots[index] === undefined) this.count++
    this.slots[index] = device
    if (this.now() - this.lastSaveAt >= this.minIntervalMs) this.save()
  }

  /** Writes every device created so far (nothing if none was, or nothing changed since the last save). */
  save() {
    if (this.count === 0 || this.count === this.saved) return
    if (this.saved === 0) this.backup = keepExisting(this.file)
    writeSecretJson(this.file, this.devices)
    this.saved = this.count
    this.lastSaveAt = this.now()
  }
}

/** Where one device's run ended: simulated time, and the vehicle's true position then. */
export interface RunEnd { until: number, position?: { lat: number, lon: number } | undefined }

/**
 * Records in the devices file where each device's run ended: `simulatedUntil` (the later of the one
 * already there and the new one), `lastPosition` (with the later end), and `tenant` for entries
 * that have none. Everything else in the file is kept, `{devices: [...]}` wrapper included. Returns
 * how many of the given devices were found in the file (0: the file now holds other devices, e.g.
 * replaced by another run: nothing was recorded).
 */
export function recordRunEnd(file: string, ends: ReadonlyMap<string, RunEnd>, tenant?: string): number {
  const json: unknown = JSON.parse(readFileSync(file, 'utf8'))
  const entries = deviceEntries(json)
  if (!entries) throw new Error(`${file}: expected a JSON list of {deviceId, secret}`)
  let found = 0
  for (const entry of entries) {
    const e = entry as Record<string, unknown>
    const end = typeof e['deviceId'] === 'string' ? ends.get(e['deviceId']) : undefined
    if (end === undefined) continue
    found++
    const before = typeof e['simulatedUntil'] === 'number' ? e['simulatedUntil'] : Number.NEGATIVE_INFINITY
    const until = Math.round(end.until)
    if (until >= before && end.position) e['lastPosition'] = { lat: round7(end.position.lat), lon: round7(end.position.lon) }
    e['simulatedUntil'] = Math.max(before, until)
    if (tenant !== undefined && e['tenant'] === undefined) e['tenant'] = tenant
  }
  if (found > 0) writeSecretJson(file, json)
  return found
}
