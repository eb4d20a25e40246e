// The API on a real database (every backend this machine has) with a real live hub on the
// in-process bus, two tenants with users of every role, and helpers to page through results.
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import { LocalBus } from '../../../src/bus/bus.js'
import { LiveHub } from '../../../src/live/hub.js'
import type { LiveFrame } from '../../../src/live/frames.js'
import { insertTrackingEvents, type NewTrackingEvent, type StoredTrackingEvent } from '../../../src/db/tracking-events.js'
import { as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import { silentLog, type Backend } from '../../helpers/databases.js'
import { ChangeRecorder } from '../api/fixtures.js'

export interface TrackingEnv {
  db: Database
  app: App
  live: LiveHub
  changes: ChangeRecorder
  acme: TestTenant
  globex: TestTenant
  close(): Promise<void>
}

export async function trackingEnv(backend: Backend): Promise<TrackingEnv> {
  const db = await backend.open()
  const bus = new LocalBus(silentLog)
  const live = new LiveHub({ bus, log: silentLog })
  live.start()
  const changes = new ChangeRecorder()
  const { app } = await testApp(db, { live, changes })
  const acme = await seedTenant(app, db, 'acme')
  const globex = await seedTenant(app, db, 'globex')
  return {
    db, app, live, changes, acme, globex,
    async close() { await app.close(); await live.stop(); await bus.close(); await db.close() },
  }
}

export async function storeEvents(db: Database, events: NewTrackingEvent[]): Promise<StoredTrackingEvent[]> {
  return (await insertTrackingEvents(db.pool, events)).filter((e): e is StoredTrackingEvent => e !== null)
}

/** GET as a role of a tenant; the JSON body typed by the caller. */
export function getter(app: App, tenant: TestTenant, role: 'admin' | 'operator' | 'viewer' = 'viewer') {
  return async <T>(url: string): Promise<{ status: number, body: T }> => {
    const res = await as(app, tenant.tokens[role])({ method: 'GET', url })
    return { status: res.statusCode, body: res.json<T>() }
  }
}

/** Follows `next` cursors from `first` until there are none; returns every page's items in order. */
export async function walk<T>(first: string, page: (cursor: string | null) => Promise<{ items: T[], next: string | null }>): Promise<T[][]> {
  const pages: T[][] = []
  let cursor: string | null = null
  for (let i = 0; i < 1000; i++) {
    const p = await page(cursor)
    pages.push(p.items)
    if (!p.next) return pages
    cursor = p.next
  }
  throw new Error(`${first}: more than 1000 pages`)
}

/** Every frame the live hub delivers to a tenant's subscriber. */
export function listen(live: LiveHub, tenantId: string): { frames: LiveFrame[], stop: () => void } {
  const frames: LiveFrame[] = []
  const stop = live.subscribe(tenantId, {}, (f) => frames.push(f))
  return { frames, stop }
}
