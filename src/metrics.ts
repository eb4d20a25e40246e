// Every Prometheus metric ReTrack exposes, on one registry per process (tests build several apps
// in one process, so nothing goes on prom-client's global registry).
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

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'retrack_' })
  }
}
