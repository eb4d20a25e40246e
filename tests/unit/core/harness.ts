// Drives the real pipeline (every stage and processor, the memory state store) for one device with
// a shipment plan the test controls, and records what it emits: for milestone and anomaly tests
// that need no database or broker.
import { loadConfig, type Config } from '../../../src/config.js'
import type { Fix } from '../../../src/contracts/payloads.js'
import type { AssetContext, PlanStop, ShipmentPlan } from '../../../src/core/context.js'
import type { CoreEffect } from '../../../src/core/effects.js'
import { AssetPipeline } from '../../../src/core/pipeline.js'
import type { CoreEvent } from '../../../src/core/fix-processor.js'
import { buildProcessors } from '../../../src/core/processors.js'
import { statefulStages } from '../../../src/core/stages/stateful.js'
import type { AssetState } from '../../../src/core/state.js'
import type { GeofenceIndex } from '../../../src/geo/fence-index.js'
import { filterSettings, processingSettings } from '../../../src/ingest/assemble.js'
import { MemoryStateStore } from '../../../src/state/memory.js'
import type { Reading } from '../../../src/contracts/payloads.js'

export type LonLat = [number, number]

export function stop(id: string, seq: number, type: PlanStop['type'], at: LonLat, over: Partial<PlanStop> = {}): PlanStop {
  return { id, seq, type, name: id, lon: at[0], lat: at[1], radiusM: 250, windowStart: null, windowEnd: null, plannedDwellS: 600, status: 'pending', arrivedAt: null, departedAt: null, ...over }
}

export function plan(id: string, stops: PlanStop[], over: Partial<ShipmentPlan> = {}): ShipmentPlan {
  return { id, tenantId: 't', reference: id.toUpperCase(), status: 'assigned', vehicleId: null, stops, route: null, stopAlongM: null, stopOffRouteM: null, tempMinC: null, tempMaxC: null, ...over }
}

export interface Rig {
  events: CoreEvent[]
  effects: CoreEffect[]
  drops: Array<{ ts: number, reason: string }>
  store: MemoryStateStore
  /** what the context loader returns from now on */
  context: AssetContext
  feed(readings: Reading[], batch?: number): Promise<void>
  state(): Promise<AssetState | null>
  /** a new pipeline on the same store (a restart, or another node), same context and recorders */
  restart(): void
  /** "type:stopId" (or the type alone) of the events so far, filtered by `types` */
  seq(types: readonly string[]): string[]
}

export function rig(shipment: ShipmentPlan | null, overrides: Partial<Config> = {}, fences: GeofenceIndex | null = null): Rig {
  const config = loadConfig({}, overrides)
  const store = new MemoryStateStore()
  const r: Rig = {
    events: [], effects: [], drops: [], store,
    context: { vehicleId: null, fences, shipment },
    async feed(readings, batch = 1) {
      const fixes: Fix[] = readings.map((x) => ({ ...x, tenantId: 't', deviceId: 'd', receivedAt: x.ts as number }) as Fix)
      for (let i = 0; i < fixes.length; i += batch) await pipeline.submit(fixes.slice(i, i + batch))
    },
    state: () => store.get({ tenantId: 't', deviceId: 'd' }),
    restart() { pipeline = build() },
    seq: (types) => r.events.filter((e) => types.includes(e.type)).map((e) => e.stopId ? `${e.type}:${e.stopId}` : e.type),
  }
  const build = () => new AssetPipeline(store, statefulStages, buildProcessors(processingSettings(config)), filterSettings(config), {
    dropped: (f, reason) => { r.drops.push({ ts: f.ts, reason }) },
    accepted: () => undefined,
    events: (e) => { r.events.push(...e) },
    effects: (e) => { r.effects.push(...e) },
  }, { load: () => r.context })
  let pipeline = build()
  return r
}
