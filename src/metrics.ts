// Every Prometheus metric ReTrack exposes, on one registry per process (tests build several apps
// in one process, so nothing goes on prom-client's global registry).
// Under WORKERS > 1, /metrics sums each of these over the workers (src/cluster-metrics.ts): right
// for counters, histograms and gauges that count something (devices connected); a gauge that must
// not be summed names its prom-client `aggregator` ('max', 'average', …).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export class Metrics {
  readonly registry = new Registry()

  readonly httpRequests = new Counter({
    name: 'retrack_http_requests_total', help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const, registers: [this.registry],
  })
  readonly httpDuration = new Histogram({
    name: 'retrack_http_request_duration_seconds', help: 'HTTP request duration',
    labelNames: ['method', 'route'] as const, buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  })
  readonly loginFailures = new Counter({
    name: 'retrack_login_failures_total', help: 'refused user logins', registers: [this.registry],
  })

  readonly devicesConnected = new Gauge({
    name: 'retrack_mqtt_devices_connected', help: 'devices connected to this node\'s broker', registers: [this.registry],
  })
  readonly authFailures = new Counter({
    name: 'retrack_mqtt_auth_failures_total', help: 'refused MQTT connections by reason',
    labelNames: ['reason'] as const, registers: [this.registry],
  })
  readonly mqttQueuedDropped = new Counter({
    name: 'retrack_mqtt_queued_dropped_total', help: 'messages not kept for a persistent MQTT session: queue_full (it already held MQTT_SESSION_MAX_QUEUED; a connected client still gets them live), expired (discarded with a session removed after MQTT_SESSION_EXPIRY_S)',
    labelNames: ['reason'] as const, registers: [this.registry],
  })
  readonly mqttSessionsExpired = new Counter({
    name: 'retrack_mqtt_sessions_expired_total', help: 'persistent MQTT sessions removed because their client had not connected for MQTT_SESSION_EXPIRY_S',
    registers: [this.registry],
  })
  readonly aclDenials = new Counter({
    name: 'retrack_mqtt_acl_denials_total', help: 'refused publishes and subscriptions, and messages withheld from a client outside its scope (action=forward)',
    labelNames: ['action'] as const, registers: [this.registry],
  })
  readonly readingsAccepted = new Counter({
    name: 'retrack_readings_accepted_total', help: 'readings that passed every stage and updated state',
    labelNames: ['transport'] as const, registers: [this.registry],
  })
  readonly readingsDropped = new Counter({
    name: 'retrack_readings_dropped_total', help: 'readings a filter stage dropped, by reason',
    labelNames: ['reason'] as const, registers: [this.registry],
  })
  readonly deadLetters = new Counter({
    name: 'retrack_dead_letters_total', help: 'payloads refused and dead-lettered, by code',
    labelNames: ['code'] as const, registers: [this.registry],
  })
  readonly pipelineLatency = new Histogram({
    name: 'retrack_pipeline_latency_seconds', help: 'receipt of a reading to its state update',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [this.registry],
  })
  readonly batchSize = new Histogram({
    name: 'retrack_db_batch_rows', help: 'rows per durable batch write',
    labelNames: ['table'] as const, buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000], registers: [this.registry],
  })
  readonly batchDuration = new Histogram({
    name: 'retrack_db_batch_duration_seconds', help: 'time to commit one durable batch',
    labelNames: ['table'] as const, buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  })
  readonly eventsEmitted = new Counter({
    name: 'retrack_events_total', help: 'tracking events stored, by type',
    labelNames: ['type'] as const, registers: [this.registry],
  })
  readonly pipelineRetried = new Counter({
    name: 'retrack_pipeline_batches_retried_total', help: 'batches whose processing failed on the state store or the database and was retried (once per batch)',
    registers: [this.registry],
  })
  readonly pipelineFailed = new Counter({
    name: 'retrack_pipeline_batches_failed_total', help: 'batches given up without retry: a stage, processor or hook threw (a bug), or the state kept changing',
    registers: [this.registry],
  })
  readonly pipelinePaused = new Gauge({
    name: 'retrack_pipeline_paused', help: '1 while batches wait to be retried (state store or database unavailable)',
    aggregator: 'max', registers: [this.registry],
  })
  readonly retentionDeleted = new Counter({
    name: 'retrack_retention_deleted_total', help: 'rows deleted by the retention sweep (RETENTION_POSITIONS_DAYS, RETENTION_DEAD_LETTERS_DAYS), by table',
    labelNames: ['table'] as const, registers: [this.registry],
  })
  readonly retentionLastSuccess = new Gauge({
    name: 'retrack_retention_last_success_timestamp_seconds', help: 'when this node last completed a retention sweep (unix time; 0: never). One node of a deployment sweeps at a time: alert on the max over the nodes',
    aggregator: 'max', registers: [this.registry],
  })
  readonly webhookDeliveries = new Counter({
    name: 'retrack_webhook_deliveries_total', help: 'webhook delivery attempts by outcome: delivered (a 2xx answer), retried (failed; another attempt is scheduled), failed (failed and given up after WEBHOOK_MAX_AGE_S)',
    labelNames: ['outcome'] as const, registers: [this.registry],
  })
  readonly webhookAttemptDuration = new Histogram({
    name: 'retrack_webhook_attempt_duration_seconds', help: 'time from sending a webhook request to its answer or failure (at most WEBHOOK_TIMEOUT_MS)',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry],
  })
  readonly webhookPending = new Gauge({
    name: 'retrack_webhook_pending_deliveries', help: 'webhook deliveries waiting in the database (the whole deployment\'s backlog, as this node last counted it, every few seconds)',
    aggregator: 'max', registers: [this.registry],
  })

  /** names of the metrics about this process (Node.js, memory, CPU…), labelled per worker under WORKERS */
  readonly processMetrics: ReadonlySet<string>

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const names = () => this.registry.getMetricsAsArray().map((m) => m.name)
    const ours = new Set(names())
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'retrack_' })
    this.processMetrics = new Set(names().filter((name) => !ours.has(name)))
  }
}
