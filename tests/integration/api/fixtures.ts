// Test data for the API suites: rows written straight to the database (fast, and independent of
// the routes under test), a recorder for change notifications, and a snapshot of a tenant's rows.
import { randomUUID } from 'node:crypto'
import type { Change, ChangeNotifier } from '../../../src/api/context.js'
import type { Database } from '../../../src/db/database.js'
import { hashDeviceSecret, newDeviceId, newDeviceSecret } from '../../../src/security/device-secrets.js'
import { hashPassword } from '../../../src/security/passwords.js'

export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`

export class ChangeRecorder implements ChangeNotifier {
  readonly changes: Change[] = []
  changed(change: Change): void { this.changes.push(change) }
  clear(): void { this.changes.length = 0 }
  of(kind: Change['kind']): string[] { return this.changes.filter((c) => c.kind === kind).map((c) => c.id) }
}

export const stop = (name: string, lat: number, lon: number, extra: Record<string, unknown> = {}) =>
  ({ type: 'delivery', name, lat, lon, ...extra })

export const square = (lon: number, lat: number, size: number) =>
  [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]

// hashing is deliberately slow: one hash serves every seeded user
let passwordHash: Promise<string> | undefined

/** Rows of one tenant, created directly with Prisma. */
export function seeder(db: Database, tenantId: string) {
  const p = db.prisma
  return {
    carrier: async () => (await p.carrier.create({ data: { tenantId, name: unique('carrier') } })).id,
    driver: async () => (await p.driver.create({ data: { tenantId, name: unique('driver') } })).id,
    vehicle: async () => (await p.vehicle.create({ data: { tenantId, name: unique('vehicle') } })).id,
    device: async (secret = newDeviceSecret()) => {
      const row = await p.device.create({ data: { tenantId, id: newDeviceId(), name: unique('device'), secretHash: hashDeviceSecret(secret) } })
      return { id: row.id, secret }
    },
    user: async () => {
      passwordHash ??= hashPassword('a long password')
      return (await p.user.create({ data: { tenantId, email: `${unique('user')}@example.test`, passwordHash: await passwordHash, role: 'viewer' } })).id
    },
    geofence: async () => (await p.geofence.create({
      data: { tenantId, name: unique('fence'), kind: 'circle', geometry: { type: 'Point', coordinates: [2.35, 48.85] }, radiusM: 100 },
    })).id,
    /** a refused payload, as ingestion stores it (id as the API shows it) */
    deadLetter: async () => String((await p.deadLetter.create({
      data: { tenantId, deviceId: null, topic: 'tenants/x/devices/y/telemetry', code: 'MALFORMED_JSON', reason: 'not JSON', payload: Buffer.from('{') },
    })).id),
    /** a webhook to a public address (never called: the API tests run no dispatcher) */
    webhook: async () => (await p.webhook.create({ data: { tenantId, url: 'https://93.184.215.14/hook', secret: 'whsec_test' } })).id,
    /** a webhook with one failed delivery of a tracking event */
    failedDelivery: async () => {
      const webhook = await p.webhook.create({ data: { tenantId, url: 'https://93.184.215.14/hook', secret: 'whsec_test' } })
      const event = await p.trackingEvent.create({ data: { tenantId, type: 'comment', ts: new Date(), source: 'user', payload: {} } })
      const delivery = await p.webhookDelivery.create({ data: { tenantId, webhookId: webhook.id, eventId: event.id, status: 'failed', attempts: 3, lastError: 'HTTP 500' } })
      return { id: webhook.id, deliveryId: String(delivery.id) }
    },
    /** a planned shipment with two pending stops (and no fences: only the API creates those) */
    shipment: async () => {
      const row = await p.shipment.create({
        data: {
          tenantId, reference: unique('ref'),
          stops: { create: [0, 1].map((seq) => ({ seq, type: seq ? 'delivery' as const : 'pickup' as const, name: `stop ${seq}`, lat: 48 + seq, lon: 2, radiusM: 200 })) },
        },
        include: { stops: { orderBy: { seq: 'asc' } } },
      })
      return { id: row.id, stopIds: row.stops.map((s) => s.id) }
    },
  }
}

/** Every row a tenant owns, table by table, in a stable order: equal snapshots mean nothing changed. */
export async function snapshot(db: Database, tenantId: string) {
  const p = db.prisma
  const where = { tenantId }
  const byId = { orderBy: { id: 'asc' as const } }
  return {
    users: await p.user.findMany({ where, ...byId }),
    carriers: await p.carrier.findMany({ where, ...byId }),
    drivers: await p.driver.findMany({ where, ...byId }),
    vehicles: await p.vehicle.findMany({ where, ...byId }),
    devices: await p.device.findMany({ where, ...byId }),
    geofences: await p.geofence.findMany({ where, ...byId }),
    shipments: await p.shipment.findMany({ where, ...byId }),
    stops: await p.stop.findMany({ where, ...byId }),
    events: await p.trackingEvent.findMany({ where, ...byId }),
  }
}

/** What a refusal must look like: a coded error, never a stack trace. */
export function expectNoStack(body: string): boolean {
  return !/\s+at .+:\d+:\d+/.test(body) && !body.includes('"stack"')
}

/**
 * Stands in for the broker's command delivery (ApiContext.commands) so the device commands route
 * runs to the end; the suites pass it untyped because that port is newer than some checkouts.
 */
export class FakeCommands {
  readonly sent: Array<{ tenant: string, deviceId: string }> = []
  async send(tenant: string, deviceId: string): Promise<void> { this.sent.push({ tenant, deviceId }) }
}
