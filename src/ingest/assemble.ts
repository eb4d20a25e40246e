// Builds the ingestion path from its parts: the group-commit writers, the per-asset pipeline and the
// ingestor every transport calls. The state and presence stores (Redis or memory) are built by
// src/server.ts and passed in.
import type pg from 'pg'
import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { AssetStateStore, PresenceStore } from '../core/ports.js'
import { AssetPipeline } from '../core/pipeline.js'
import type { CoreEvent } from '../core/fix-processor.js'
import type { AssetContextLoader } from '../core/context.js'
import type { CoreEffect } from '../core/effects.js'
import { buildProcessors, type ProcessingSettings } from '../core/processors.js'
import { applyEffects } from '../db/progress.js'
import { statefulStages } from '../core/stages/stateful.js'
import type { FilterSettings } from '../core/stages/stage.js'
import { GroupCommitWriter, isRowError } from '../db/group-commit.js'
import { insertPositions, markFiltered } from '../db/positions.js'
import { insertDeadLetters, type DeadLetter } from '../db/dead-letters.js'
import { insertTrackingEvents, type NewTrackingEvent, type StoredTrackingEvent } from '../db/tracking-events.js'
import type { Fix } from '../contracts/payloads.js'
import { Ingestor } from './ingestor.js'

export interface IngestionParts {
  ingestor: Ingestor
  pipeline: AssetPipeline
  writers: {
    positions: GroupCommitWriter<Fix, boolean>
    events: GroupCommitWriter<NewTrackingEvent, StoredTrackingEvent | null>
    deadLetters: GroupCommitWriter<DeadLetter, unknown>
    filtered: GroupCommitWriter<{ deviceId: string, ts: number, reason: string }, true>
    effects: GroupCommitWriter<CoreEffect, true>
  }
  /**
   * stops accepting nothing (callers do that); waits for queued work and writes to finish. During
   * a Redis or database outage the pipeline stops retrying: what it leaves unprocessed is logged
   */
  drain(): Promise<void>
}

export function filterSettings(config: Config): FilterSettings {
  return {
    maxFutureMs: config.FILTER_MAX_FUTURE_S * 1000,
    maxAgeMs: config.FILTER_MAX_AGE_S * 1000,
    maxAccuracyM: config.FILTER_MAX_ACCURACY_M,
    maxSpeedMps: config.FILTER_MAX_SPEED_MPS,
  }
}

export function processingSettings(config: Config): ProcessingSettings {
  return {
    membership: { dwellS: config.GEOFENCE_DWELL_S, exitMarginM: config.GEOFENCE_EXIT_MARGIN_M, exitS: config.GEOFENCE_EXIT_S, maxEntryAccuracyM: config.GEOFENCE_MAX_ENTRY_ACCURACY_M },
    stops: { stationaryMps: config.STOP_STATIONARY_MPS, skipStillS: config.STOP_SKIP_STILL_S, stayRadiusM: config.STATIONARY_RADIUS_M },
    eta: {
      circuity: config.ETA_CIRCUITY, defaultSpeedMps: config.ETA_DEFAULT_SPEED_KMH / 3.6, nearStopSpeedMps: config.ETA_NEAR_STOP_SPEED_KMH / 3.6,
      nearStopM: config.ETA_NEAR_STOP_M, speedTauS: config.ETA_SPEED_TAU_S, thresholdS: config.ETA_THRESHOLD_S, atRiskS: config.ETA_AT_RISK_S,
    },
    offRoute: { limitM: config.OFF_ROUTE_M, forS: config.OFF_ROUTE_S, backRatio: 0.6 },
    unplannedStop: { afterS: config.UNPLANNED_STOP_S, radiusM: config.STATIONARY_RADIUS_M },
    lowBattery: { belowPct: config.LOW_BATTERY_PCT, recoverPct: Math.min(100, config.LOW_BATTERY_PCT + 10) },
    temperature: { forS: config.TEMP_EXCURSION_S, hysteresisC: 0.5 },
  }
}

export interface IngestionDeps {
  config: Config
  log: Logger
  metrics: Metrics
  pool: pg.Pool
  state: AssetStateStore
  presence: PresenceStore
  /** tenant fences and the asset's shipment, for the processors (none: geofences and milestones stay idle) */
  contexts?: AssetContextLoader
  /** after a shipment's status changes in the database (caches of plans go stale) */
  onShipmentChanged?: (tenantId: string, shipmentId: string) => void
  /** stored events, for live streaming (SSE, MQTT) */
  onEvents?: (events: StoredTrackingEvent[]) => void
  /** fixes the pipeline accepted (after the asset's state was written), for live positions */
  onFixes?: (fixes: Fix[]) => void
}

export function assembleIngestion(deps: IngestionDeps): IngestionParts {
  const { config, metrics, pool, log } = deps
  const batching = (table: string, maxConcurrent = 2, isolate?: (err: unknown) => boolean) => ({
    isolate,
    maxBatch: config.INGEST_BATCH_MAX,
    maxWaitMs: config.INGEST_BATCH_WAIT_MS,
    maxConcurrent,
    onBatch: (rows: number, seconds: number) => {
      metrics.batchSize.observe({ table }, rows)
      metrics.batchDuration.observe({ table }, seconds)
    },
  })
  const writers = {
    positions: new GroupCommitWriter<Fix, boolean>((rows) => insertPositions(pool, rows), batching('positions', Math.max(1, Math.min(8, config.DB_POOL_MAX - 2)), isRowError)),
    events: new GroupCommitWriter<NewTrackingEvent, StoredTrackingEvent | null>((rows) => insertTrackingEvents(pool, rows), batching('tracking_events', 1, isRowError)),
    deadLetters: new GroupCommitWriter<DeadLetter, unknown>((rows) => insertDeadLetters(pool, rows), batching('dead_letters', 1, isRowError)),
    // the pipeline judges a fix while its position row may still be on its way in: the mark waits for it
    filtered: new GroupCommitWriter<{ deviceId: string, ts: number, reason: string }, true>(
      async (rows) => { await writers.positions.settled(); await markFiltered(pool, rows); return rows.map(() => true as const) }, batching('positions_filtered', 1)),
    effects: new GroupCommitWriter<CoreEffect, true>(
      async (rows) => { await applyEffects(pool, rows); return rows.map(() => true as const) }, batching('shipment_progress', 1)),
  }

  const storeEvents = async (events: NewTrackingEvent[]) => {
    const stored = (await writers.events.write(events)).filter((e): e is StoredTrackingEvent => e !== null)
    for (const e of stored) metrics.eventsEmitted.inc({ type: e.type })
    if (stored.length > 0) deps.onEvents?.(stored)
  }

  const pipeline = new AssetPipeline(deps.state, statefulStages, buildProcessors(processingSettings(config)), filterSettings(config), {
    dropped(fix, reason) {
      metrics.readingsDropped.inc({ reason })
      // late fixes are kept in history on purpose; the others were wrong and are marked so
      if (reason !== 'late' && reason !== 'duplicate') {
        writers.filtered.write([{ deviceId: fix.deviceId, ts: fix.ts, reason }]).catch((err: unknown) => log.error({ err }, 'marking a filtered fix failed'))
      }
    },
    accepted(fixes) {
      const now = Date.now()
      for (const fix of fixes) metrics.pipelineLatency.observe((now - fix.receivedAt) / 1000)
      metrics.readingsAccepted.inc({ transport: 'any' }, fixes.length)
      deps.onFixes?.(fixes)
    },
    events: (events: CoreEvent[]) => storeEvents(events.map((e) => ({ ...e, source: 'rule' as const }))),
    effects: async (effects) => {
      await writers.effects.write(effects)
      for (const e of effects) if (e.kind === 'shipment' && e.status === 'delivered') deps.onShipmentChanged?.(e.tenantId, e.shipmentId)
    },
  }, deps.contexts, {
    log: log.child({ component: 'pipeline' }),
    metrics: { retried: metrics.pipelineRetried, failed: metrics.pipelineFailed, paused: metrics.pipelinePaused },
  })

  const ingestor = new Ingestor({
    sinks: { positions: writers.positions, deviceEvents: writers.events, deadLetters: writers.deadLetters },
    pipeline, presence: deps.presence, metrics, log,
    settings: { ...filterSettings(config), maxBatch: config.MQTT_MAX_BATCH, maxBacklog: config.PIPELINE_MAX_BACKLOG },
    onDeviceEvents: (stored) => deps.onEvents?.(stored),
  })

  return {
    ingestor, pipeline, writers,
    async drain() {
      await writers.positions.drain()
      await pipeline.close()
      await Promise.all(Object.values(writers).map((w) => w.drain()))
    },
  }
}
