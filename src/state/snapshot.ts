// The in-memory asset state and presence (the embedded default, no Redis) survive a restart: they
// are written to a file in DATA_DIR every SNAPSHOT_EVERY_MS when they changed and once more at
// shutdown, and read back at start-up. Without it a restarted node would know no asset: every
// device's position and last-seen time gone from the API, the late-fix stage blind to what was
// already applied, every fence entered again, and a device that never came back never reported
// offline. A crash loses at most the last interval's changes, which each asset's next fixes rebuild.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Logger } from '../logger.js'
import type { MemoryPresenceStore, MemoryStateStore, StoredDoc, StoredPresence } from './memory.js'

export const SNAPSHOT_FILE = 'asset-state.json'
const SNAPSHOT_EVERY_MS = 30_000
const FORMAT = 1

interface SnapshotFile { format: number, savedAt: number, states: Array<[string, StoredDoc]>, presence?: StoredPresence[] }

export interface SnapshotStores { state: MemoryStateStore, presence: MemoryPresenceStore }

const isStoredPresence = (v: unknown): v is StoredPresence => {
  const p = v as StoredPresence
  return typeof v === 'object' && v !== null && typeof p.key?.tenantId === 'string' && typeof p.key.deviceId === 'string' && typeof p.watched === 'boolean'
}
const isStoredDoc = (v: unknown): v is StoredDoc =>
  typeof v === 'object' && v !== null && typeof (v as StoredDoc).version === 'number' && typeof (v as StoredDoc).ts === 'number' && typeof (v as StoredDoc).doc === 'string'

export class StateSnapshots {
  private timer: NodeJS.Timeout | null = null
  private saved = { state: 0, presence: 0 }
  private writing: Promise<void> = Promise.resolve()

  constructor(private readonly file: string, private readonly stores: SnapshotStores, private readonly log: Logger, private readonly everyMs = SNAPSHOT_EVERY_MS) {}

  /** Reads the last snapshot into the store; a missing file is a first start, a broken one is set aside (never a failed start). */
  async load(): Promise<number> {
    let text: string
    try { text = await readFile(this.file, 'utf8') } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
      throw err
    }
    try {
      const parsed = JSON.parse(text) as Partial<SnapshotFile>
      if (parsed.format !== FORMAT || !Array.isArray(parsed.states)) throw new Error(`unknown snapshot format ${String(parsed.format)}`)
      const states = parsed.states.filter((e): e is [string, StoredDoc] => Array.isArray(e) && typeof e[0] === 'string' && isStoredDoc(e[1]))
      const restored = this.stores.state.restore(states)
      const devices = this.stores.presence.restore((parsed.presence ?? []).filter(isStoredPresence))
      this.log.info({ file: this.file, assets: restored, devices, savedAt: parsed.savedAt }, 'asset state restored from the last snapshot')
      return restored
    } catch (err) {
      const aside = `${this.file}.unreadable-${Date.now()}`
      await rename(this.file, aside).catch(() => undefined)
      this.log.error({ err, file: this.file, movedTo: aside }, 'the asset state snapshot could not be read: starting without it')
      return 0
    }
  }

  start(): void {
    this.timer = setInterval(() => { void this.save() }, this.everyMs)
    this.timer.unref()
  }

  /** Writes the store if it changed since the last write (to a temporary file, then renamed: never half a snapshot). */
  save(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const changes = { state: this.stores.state.changes, presence: this.stores.presence.changes }
      if (changes.state === this.saved.state && changes.presence === this.saved.presence) return
      const snapshot: SnapshotFile = { format: FORMAT, savedAt: Date.now(), states: [...this.stores.state.entries()], presence: this.stores.presence.stored() }
      const temporary = `${this.file}.tmp`
      await mkdir(path.dirname(this.file), { recursive: true })
      await writeFile(temporary, JSON.stringify(snapshot), { mode: 0o600 })
      await rename(temporary, this.file)
      this.saved = changes
    }).catch((err: unknown) => { this.log.error({ err, file: this.file }, 'writing the asset state snapshot failed') })
    return this.writing
  }

  /** Stops the timer and writes what changed since: called after the pipeline has drained. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.save()
  }
}
