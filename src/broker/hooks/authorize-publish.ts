// PUBLISH: a device may publish only on its own telemetry/events/status topics, and what it sends
// there is ingested here, before the PUBACK: this hook is the only one Aedes runs before it acks a
// QoS 1 message (see DESIGN.md), so calling back after the durable write is what makes "acked"
// mean "stored". An integration may publish commands to its tenant's devices. Anything else closes
// the connection ([MQTT-3.3.5-2]: no negative PUBACK in 3.1.1). A connection's answers keep the
// order of its publishes, whatever order their writes commit in.
// What ingestion refused entirely (nothing stored, at least one element dead-lettered: a status
// `ONLINE`, telemetry that is not JSON) is acknowledged all the same, but not handed on: a
// subscriber of `tenants/<t>/#` could not tell it from valid traffic. Aedes publishes the packet
// this hook authorized, so the packet is turned into an empty one on WITHHELD_TOPIC, which no
// subscription can match (the subscription ACL allows only `tenants/…` topics); it reaches no
// client, no persistent session and no other node. A batch of which anything was stored (or was
// already stored) goes on whole, its refused elements included: they are dead-lettered all the
// same, and an integration validates what it reads. Readings that are well-formed but dropped by
// a filter (out of range, 0,0, too inaccurate) are no refusal and go on too; a time refused
// (BAD_TIME: in the future, too old) is a rejection.
// Nothing a client publishes is kept as a retained message: readings, statuses and events are
// stored by ingestion, and a retained copy would be replayed to every later subscriber as if it
// were new (a stale reading, a device "online" long after it went, a command run again at each
// reconnect), and would outlive the device in the broker's memory or Redis.
import type { Client, PublishPacket } from 'aedes'
import { Ajv } from 'ajv'
import { commandSchema } from '../../contracts/schemas.js'
import { parseDeviceTopic } from '../../contracts/topics.js'
import { refusedEntirely, type Ingestor, type DeviceIdentity, type IngestOutcome } from '../../ingest/ingestor.js'
import type { Logger } from '../../logger.js'
import type { Metrics } from '../../metrics.js'
import { principalOf } from '../principal.js'

const validateCommand = new Ajv({ strict: false }).compile(commandSchema)

/** Where a publish ingestion refused entirely goes instead (reserved `$` topic: no client may subscribe to it). */
export const WITHHELD_TOPIC = '$retrack/refused'


class Denied extends Error {
  readonly code = 'MQTT_PUBLISH_DENIED'
}

export interface AuthorizePublishDeps {
  ingestor: Ingestor
  metrics: Metrics
  log: Logger
}

export function authorizePublishHook(deps: AuthorizePublishDeps) {
  const deny = (client: Client | null, topic: string, why: string, callback: (error?: Error | null) => void) => {
    deps.metrics.aclDenials.inc({ action: 'publish' })
    deps.log.warn({ clientId: client?.id, topic: topic.slice(0, 200), why }, 'mqtt publish refused')
    callback(new Denied(`publish to ${topic} refused: ${why}`))
  }

  // PUBACKs must go out in the order the PUBLISHes came in [MQTT-4.6.0-2], but one connection's
  // readings can commit out of order (several write batches are in flight at once): each answer
  // waits for the previous one on its connection. The writes themselves start at once.
  const lastAnswer = new WeakMap<Client, Promise<Outcome>>()

  return (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void) => {
    const topic = packet.topic
    const parsed = parseDeviceTopic(topic)
    const principal = principalOf(client)
    if (packet.retain) packet.retain = false

    if (!principal) {
      // a Last Will Aedes publishes for a client of a node that died: only device status is allowed
      return parsed?.channel === 'status' ? callback(null) : deny(client, topic, 'no principal', callback)
    }
    if (!parsed || parsed.tenant !== principal.tenantSlug) return deny(client, topic, 'outside the tenant\'s device topics', callback)

    if (principal.kind === 'integration') {
      if (parsed.channel !== 'commands') return deny(client, topic, 'integrations publish commands only', callback)
      let command: unknown
      try { command = JSON.parse(packet.payload.toString('utf8')) } catch { return deny(client, topic, 'command is not JSON', callback) }
      return validateCommand(command) ? callback(null) : deny(client, topic, 'command does not match the schema', callback)
    }

    if (parsed.deviceId !== principal.deviceId) return deny(client, topic, 'another device\'s topic', callback)
    const who: DeviceIdentity = principal
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    let work: Promise<IngestOutcome>
    switch (parsed.channel) {
      case 'telemetry': work = deps.ingestor.telemetry(who, topic, payload, 'mqtt'); break
      case 'events': work = deps.ingestor.events(who, topic, payload, 'mqtt'); break
      case 'status': work = deps.ingestor.status(who, topic, payload); break
      default: return deny(client, topic, 'devices do not publish commands', callback)
    }
    const outcome = work.then((o): Outcome => ({ ok: true, refused: refusedEntirely(o) }), (err: unknown): Outcome => ({ ok: false, err }))
    const previous = client ? lastAnswer.get(client) : undefined
    const turn = previous ? previous.then(() => outcome) : outcome
    if (client) lastAnswer.set(client, turn)
    void turn.then((result) => {
      if (result.ok) {
        if (result.refused) {
          deps.log.debug({ device: principal.deviceId, topic }, 'refused payload acknowledged and withheld from subscribers')
          packet.topic = WITHHELD_TOPIC
          packet.payload = Buffer.alloc(0)
        }
        return callback(null)
      }
      // on a failed write the connection closes without PUBACK, so the device sends it again
      deps.log.error({ err: result.err, device: principal.deviceId }, 'durable write failed; message not acknowledged')
      callback(result.err instanceof Error ? result.err : new Error(String(result.err)))
    })
  }
}

type Outcome = { ok: true, refused: boolean } | { ok: false, err: unknown }
