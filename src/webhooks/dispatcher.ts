// Delivers webhook deliveries (the outbox rows written with their events) to their endpoints.
// The database is the source of truth: every WEBHOOK_POLL_MS the dispatcher claims what is due
// (src/webhooks/store.ts: the oldest pending delivery of each webhook, leased, SKIP LOCKED), and a
// nudge from this node's event writers (through the live hub's relays) makes it look at once.
// At most `concurrency` attempts run at a time on this node, one per webhook in the deployment.
import type pg from 'pg'
import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import { webhookBody, webhookHeaders } from './message.js'
import { WebhookSender, type SendOutcome } from './sender.js'
import { DeliveryStore, backoffMs, leaseMsFor, type ClaimedDelivery } from './store.js'

export interface WebhookSettings {
  pollMs: number
  timeoutMs: number
  /** attempts in flight on this node at most; 0: this node delivers nothing (another does) */
  concurrency: number
  backoffMinMs: number
  backoffMaxMs: number
  maxAgeS: number
  allowPrivate: boolean
  allowHttp: boolean
  /** how long stop() waits for attempts in flight before it abandons them */
  stopGraceMs: number
}

/** The WEBHOOK_* settings; a stop waits for requests in flight at most 3 s (less with a short SHUTDOWN_TIMEOUT_MS). */
export function webhookSettings(config: Config): WebhookSettings {
  return {
    pollMs: config.WEBHOOK_POLL_MS, timeoutMs: config.WEBHOOK_TIMEOUT_MS, concurrency: config.WEBHOOK_CONCURRENCY,
    backoffMinMs: config.WEBHOOK_BACKOFF_MIN_MS, backoffMaxMs: config.WEBHOOK_BACKOFF_MAX_MS, maxAgeS: config.WEBHOOK_MAX_AGE_S,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE, allowHttp: config.WEBHOOK_ALLOW_HTTP,
    stopGraceMs: Math.min(3000, Math.floor(config.SHUTDOWN_TIMEOUT_MS / 5)),
  }
}

export interface WebhookDispatcherDeps {
  pool: pg.Pool
  log: Logger
  metrics: Metrics
  settings: WebhookSettings
}

/** The backlog gauge is recounted at most this often. */
const BACKLOG_EVERY_MS = 5000

interface InFlight { webhookId: string, done: Promise<void>, abort: AbortController }

export class WebhookDispatcher {
  private readonly store: DeliveryStore
  private readonly sender: WebhookSender
  private readonly inFlight = new Map<number, InFlight>()
  private timer: NodeJS.Timeout | null = null
  private running = false
  private pass: Promise<void> | null = null
  private again = false
  private failing = false
  private backlogAt = 0

  constructor(private readonly deps: WebhookDispatcherDeps) {
    this.store = new DeliveryStore(deps.pool)
    this.sender = new WebhookSender(deps.settings)
  }

  get enabled(): boolean { return this.deps.settings.concurrency > 0 }

  /** Attempts running now (for tests and diagnostics). */
  get busy(): number { return this.inFlight.size }

  start(): void {
    if (this.running || !this.enabled) return
    this.running = true
    this.timer = setInterval(() => this.nudge(), this.deps.settings.pollMs)
    this.timer.unref()
    this.nudge()
  }

  /** Look for due deliveries now (events were just stored); coalesced with a pass already running. */
  nudge(): void {
    if (!this.running) return
    if (this.pass) { this.again = true; return }
    // a nudge that came after the loop's last look is not lost
    this.pass = this.claimLoop().finally(() => { this.pass = null; if (this.again) this.nudge() })
  }

  /**
   * Claims nothing more, gives the attempts in flight `stopGraceMs` to finish, then aborts the rest
   * and makes them due again at once (their endpoint may have got them: at-least-once).
   */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.pass
    const all = () => Promise.all([...this.inFlight.values()].map((f) => f.done))
    let timer: NodeJS.Timeout | undefined
    const late = await Promise.race([
      all().then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), this.deps.settings.stopGraceMs) }),
    ]).finally(() => clearTimeout(timer))
    if (late) {
      this.deps.log.warn({ inFlight: this.inFlight.size }, 'webhooks: abandoning the deliveries still in flight; they are due again at once')
      for (const f of this.inFlight.values()) f.abort.abort()
      await all()
    }
    this.sender.close()
  }

  private async claimLoop(): Promise<void> {
    const { settings, log } = this.deps
    do {
      this.again = false
      const free = settings.concurrency - this.inFlight.size
      if (!this.running || free <= 0) return
      let claimed: ClaimedDelivery[]
      try {
        const busy = [...new Set([...this.inFlight.values()].map((f) => f.webhookId))]
        claimed = await this.store.claim(free, busy, leaseMsFor(settings.timeoutMs))
        if (this.failing) log.info('webhooks: claiming deliveries works again')
        this.failing = false
      } catch (err) {
        // once per outage, not once per poll
        if (!this.failing) log.warn({ err, code: 'WEBHOOK_CLAIM_FAILED' }, 'webhooks: claiming due deliveries failed; retrying every poll')
        this.failing = true
        this.again = false // the next poll tries again, not every finished attempt
        return
      }
      for (const delivery of claimed) this.launch(delivery)
      await this.countBacklog()
      // a full claim may have left more due deliveries behind
      if (claimed.length === free) this.again = true
    } while (this.again && this.running)
  }

  /** Refreshes the backlog gauge now and then; a failure only leaves it stale (the claim reports outages). */
  private async countBacklog(): Promise<void> {
    if (Date.now() - this.backlogAt < BACKLOG_EVERY_MS) return
    this.backlogAt = Date.now()
    try {
      this.deps.metrics.webhookPending.set(await this.store.pendingCount())
    } catch (err) {
      this.deps.log.debug({ err }, 'webhooks: counting pending deliveries failed')
    }
  }

  private launch(delivery: ClaimedDelivery): void {
    const abort = new AbortController()
    const done = this.attempt(delivery, abort.signal)
      .catch((err: unknown) => {
        // recording the outcome failed: the lease runs out and the delivery is attempted again
        this.deps.log.error({ err, delivery: delivery.id, code: 'WEBHOOK_RECORD_FAILED' }, 'webhooks: recording a delivery attempt failed')
      })
      .finally(() => {
        this.inFlight.delete(delivery.id)
        this.nudge() // the webhook's next delivery may be due now, and a slot is free
      })
    this.inFlight.set(delivery.id, { webhookId: delivery.webhookId, done, abort })
  }

  private async attempt(d: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    const { metrics, settings } = this.deps
    const body = webhookBody(d.event)
    const started = performance.now()
    const outcome = await this.sender.send(d.url, body, webhookHeaders(d, d.event, body), signal)
    if (outcome.kind === 'aborted') return this.store.release(d, 'interrupted: the node delivering it stopped')
    metrics.webhookAttemptDuration.observe((performance.now() - started) / 1000)
    if (outcome.kind === 'delivered') {
      await this.store.delivered(d, outcome.statusCode)
      metrics.webhookDeliveries.inc({ outcome: 'delivered' })
      return
    }
    const wait = backoffMs(d.attempts, settings.backoffMinMs, settings.backoffMaxMs)
    const status = await this.store.failed(d, failure(outcome), wait, settings.maxAgeS)
    if (status === null) return
    metrics.webhookDeliveries.inc({ outcome: status === 'failed' ? 'failed' : 'retried' })
    const fields = { webhook: d.webhookId, delivery: d.id, event: d.event.id, attempts: d.attempts, error: failure(outcome).error }
    if (status !== 'failed') return this.deps.log.debug({ ...fields, retryInMs: wait }, 'webhooks: delivery attempt failed; retrying')
    // the endpoint failed the head past its maximum age: the webhook's other expired deliveries are
    // given up with it, at once and without attempts, and logged in this one line
    const reason = `given up after WEBHOOK_MAX_AGE_S (${settings.maxAgeS} s) without an attempt of its own: an earlier delivery of this webhook failed then (${fields.error})`
    const more = await this.store.giveUpExpired(d.webhookId, settings.maxAgeS, reason.slice(0, 1000))
    if (more > 0) metrics.webhookDeliveries.inc({ outcome: 'failed' }, more)
    this.deps.log.warn({ ...fields, alsoGivenUp: more, code: 'WEBHOOK_DELIVERY_FAILED' },
      more > 0 ? `webhooks: delivery given up, with ${more} more of the webhook's deliveries past WEBHOOK_MAX_AGE_S` : 'webhooks: delivery given up')
  }
}

function failure(outcome: Exclude<SendOutcome, { kind: 'aborted' | 'delivered' }>): { statusCode: number | null, error: string } {
  return { statusCode: outcome.kind === 'rejected' ? outcome.statusCode : null, error: outcome.error }
}
