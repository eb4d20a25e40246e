// What the API needs from the rest of the process. main.ts builds it; tests build it the same way.
import type { Config } from '../config.js'
import type { Database } from '../db/database.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { TokenService } from '../security/tokens.js'
import type { Ingestor } from '../ingest/ingestor.js'
import type { DeviceDirectory } from '../db/device-directory.js'
import type { Command } from '../contracts/payloads.js'
import type { LivePort } from '../live/hub.js'
import type { AssetStateStore } from '../core/ports.js'
import type { UserStatusCache } from '../security/user-status.js'

/** Notified when a device's credentials change, so live connections using the old ones are closed. */
export interface DeviceRevocations {
  revoked(tenantId: string, deviceId: string): void
}

/** What changed in the tenant's configuration, so caches (geofence index, shipment plans) refresh on every node. */
export type Change =
  | { kind: 'geofence', tenantId: string, id: string }
  | { kind: 'shipment', tenantId: string, id: string }
  | { kind: 'device', tenantId: string, id: string }
  /** a user's role or state changed, or the user was deleted: every node re-reads it before trusting a token */
  | { kind: 'user', tenantId: string, id: string }

export interface ChangeNotifier {
  changed(change: Change): void
}

export interface DevicePresence {
  online: boolean
  lastSeenAt: Date | null
  lastFixAt: Date | null
}

/** Live device state the API shows beside the stored device. */
export interface PresenceReader {
  presenceOf(tenantId: string, deviceIds: string[]): Promise<Map<string, DevicePresence>>
}

export interface ApiContext {
  config: Config
  log: Logger
  db: Database
  metrics: Metrics
  tokens: TokenService
  revocations?: DeviceRevocations
  presence?: PresenceReader
  changes?: ChangeNotifier
  /** users' current role and state, checked on every user request (shared with the broker's integrations) */
  users?: UserStatusCache
  /** HTTP ingestion for devices that cannot speak MQTT */
  ingest?: { ingestor: Ingestor, directory: DeviceDirectory }
  /** delivers a command to a device over MQTT (whichever node it is connected to) */
  commands?: { send(tenantSlug: string, deviceId: string, command: Command): Promise<void> }
  /** live events and positions (GET /stream); events the API stores itself are published through it */
  live?: LivePort
  /** per-asset state of the processing core (GET /devices/:id/state) */
  state?: AssetStateStore
  /** readiness of parts the API does not own (broker, Redis), by name; /ready bounds each check in time */
  readiness?: () => Record<string, boolean | Promise<boolean>>
}
