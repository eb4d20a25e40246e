// Publishes every stored event on `tenants/{slug}/events/{type}` (QoS 1) through the embedded
// broker, for integrations subscribed to their tenant's tree. Runs on the node that stored the
// event; in cluster mode the broker's Redis emitter carries it to subscribers on other nodes.
import { trackingEventTopic } from '../contracts/topics.js'
import type { StoredTrackingEvent } from '../db/tracking-events.js'
import type { Logger } from '../logger.js'
import type { EventRelay } from './hub.js'
import { toMessage } from './frames.js'

export interface MqttOut {
  publish(topic: string, payload: string): Promise<void>
  /** false once the broker is closing: publishing then would only produce errors */
  readonly open: boolean
}

/** Catalogue and device event types are `[a-z][a-z0-9_]*`; anything else cannot be a topic level. */
const TOPIC_LEVEL = /^[a-z][a-z0-9_]{0,63}$/

export class MqttEventRelay implements EventRelay {
  /** batches go out one after another, so integrations see events in the order they were stored */
  private tail: Promise<void> = Promise.resolve()

  constructor(
    private readonly out: MqttOut,
    private readonly slugOf: (tenantId: string) => Promise<string | null>,
    private readonly log: Logger,
  ) {}

  relay(events: StoredTrackingEvent[]): void {
    this.tail = this.tail.then(() => this.publish(events))
  }

  /** Resolves when everything relayed so far was handed to the broker. */
  idle(): Promise<void> { return this.tail }

  private async publish(events: StoredTrackingEvent[]): Promise<void> {
    for (const e of events) {
      if (!this.out.open) return
      if (!TOPIC_LEVEL.test(e.type)) {
        this.log.warn({ type: e.type.slice(0, 64) }, 'event type is not a valid topic level; not published on MQTT')
        continue
      }
      try {
        const slug = await this.slugOf(e.tenantId)
        if (!slug) continue
        await this.out.publish(trackingEventTopic(slug, e.type), JSON.stringify(toMessage(e)))
      } catch (err) {
        this.log.error({ err, event: e.id }, 'publishing an event on MQTT failed')
      }
    }
  }
}
