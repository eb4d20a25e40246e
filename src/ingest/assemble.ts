// Builds the ingestion path from its parts: state and presence stores (Redis or memory), the
// group-commit writers, the per-asset pipeline and the ingestor every transport calls.
import type pg from 'pg'
import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { AssetStateStore, PresenceStore } from '../core/ports.js'
import { AssetPipeline, type CoreEvent, type FixProcessor } from '../core/pipeline.js'
import { statefulStages } from '../core/stages/stateful.js'
import type { FilterSettings } from '../core/stages/stage.js'
import { GroupCommitWriter } from '../db/group-commit.js'
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
  }
  /** stops accepting nothing (callers do that); waits for queued work and writes to finish */
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

export interface IngestionDeps {
  config: Config
  log: Logger
  metrics: Metrics
  pool: pg.Pool
  state: AssetStateStore
  presence: PresenceStore
  processors?: FixProcessor[]
  /** stored events, for live streaming (SSE, MQTT) */
  onEvents?: (events: StoredTrackingEvent[]) => void
}

export function assembleIngestion(deps: IngestionDeps): IngestionParts {
  const { config, metrics, pool, log } = deps
  const batching = (table: string, maxConcurrent = 2) => ({
    maxBatch: config.INGEST_BATCH_MAX,
    maxWaitMs: config.INGEST_BATCH_WAIT_MS,
    maxConcurrent,
    onBatch: (rows: number, seconds: number) => {
      metrics.batchSize.observe({ table }, rows)
      metrics.batchDuration.observe({ table }, seconds)
    },
  })
  const writers = {
    positions: new GroupCommitWriter<Fix, boolean>((rows) => insertPositions(pool, rows), batching('positions', Math.max(1, Math.min(4, config.DB_POOL_MAX - 2)))),
    events: new GroupCommitWriter<NewTrackingEvent, StoredTrackingEvent | null>((rows) => insertTrackingEvents(pool, rows), batching('tracking_events', 1)),
    deadLetters: new GroupCommitWriter<DeadLetter, unknown>((rows) => insertDeadLetters(pool, rows), batching('dead_letters', 1)),
    filtered: new GroupCommitWriter<{ deviceId: string, ts: number, reason: string }, true>(
      async (rows) => { await markFiltered(pool, rows); return rows.map(() => true as const) }, batching('positions_filtered', 1)),
  }

  const storeEvents = async (events: NewTrackingEvent[]) => {
    const stored = (await writers.events.write(events)).filter((e): e is StoredTrackingEvent => e !== null)
    for (const e of stored) metrics.eventsEmitted.inc({ type: e.type })
    if (stored.length > 0) deps.onEvents?.(stored)
  }

  const pipeline = new AssetPipeline(deps.state, statefulStages, deps.processors ?? [], filterSettings(config), {
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
    },
    events: (events: CoreEvent[]) => storeEvents(events.map((e) => ({ ...e, source: 'rule' as const }))),
  })

  const ingestor = new Ingestor({
    sinks: { positions: writers.positions, deviceEvents: writers.events, deadLetters: writers.deadLetters },
    pipeline, presence: deps.presence, metrics, log,
    settings: { ...filterSettings(config), maxBatch: config.MQTT_MAX_BATCH },
    onDeviceEvents: (stored) => deps.onEvents?.(stored),
  })

  return {
    ingestor, pipeline, writers,
    async drain() {
      await writers.positions.drain()
      await pipeline.idle()
      await Promise.all(Object.values(writers).map((w) => w.drain()))
    },
  }
}
