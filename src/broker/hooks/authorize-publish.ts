// PUBLISH: a device may publish only on its own telemetry/events/status topics, and what it sends
// there is ingested here, before the PUBACK: this hook is the only one Aedes runs before it acks a
// QoS 1 message (see DESIGN.md), so calling back after the durable write is what makes "acked"
// mean "stored". An integration may publish commands to its tenant's devices. Anything else closes
// the connection ([MQTT-3.3.5-2]: no negative PUBACK in 3.1.1). A device's publish may already be
// under way when the hook sees it: the read-ahead connection (read-ahead.ts) starts it as soon as
// it arrives, through `startEarly` below, and the hook then claims that work instead.
import type { Client, PublishPacket } from 'aedes'
import { Ajv } from 'ajv'
import { commandSchema } from '../../contracts/schemas.js'
import { parseDeviceTopic, type ParsedDeviceTopic } from '../../contracts/topics.js'
import type { Ingestor, DeviceIdentity } from '../../ingest/ingestor.js'
import type { Logger } from '../../logger.js'
import type { Metrics } from '../../metrics.js'
import { principalOf, type DevicePrincipal } from '../principal.js'
import type { ScannedPublish } from '../publish-scanner.js'
import { ReadAheadConnection, type StartEarly } from '../read-ahead.js'

const validateCommand = new Ajv({ strict: false }).compile(commandSchema)

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

  return (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void) => {
    const topic = packet.topic
    const parsed = parseDeviceTopic(topic)
    const principal = principalOf(client)

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
    const early = client?.conn instanceof ReadAheadConnection ? client.conn.claim(packet) : undefined
    if (early) deps.metrics.readAhead.inc()
    const work = early ?? deviceWork(deps.ingestor, principal, parsed, packet)
    if (typeof work === 'string') return deny(client, topic, work, callback)
    // on a failed write the connection closes without PUBACK, so the device sends it again
    work.then(() => callback(null), (err: unknown) => {
      deps.log.error({ err, device: principal.deviceId }, 'durable write failed; message not acknowledged')
      callback(err instanceof Error ? err : new Error(String(err)))
    })
  }
}

/**
 * Begins a device's publish as soon as the read-ahead connection has parsed it, when the hook
 * would let it through; anything else is left for Aedes and the hook to decide.
 */
export function startEarly(ingestor: Ingestor, client: Client): StartEarly {
  return (packet) => {
    // only once Aedes has finished the CONNECT (session taken over, CONNACK written): a publish
    // that races it takes the normal path
    const principal = client.connected ? principalOf(client) : undefined
    if (principal?.kind !== 'device') return undefined
    const parsed = parseDeviceTopic(packet.topic)
    if (!parsed || parsed.tenant !== principal.tenantSlug || parsed.deviceId !== principal.deviceId) return undefined
    const work = deviceWork(ingestor, principal, parsed, packet)
    return typeof work === 'string' ? undefined : work
  }
}

/** The ingestion a device's publish on its own topic starts, or why it is refused. */
function deviceWork(ingestor: Ingestor, principal: DevicePrincipal, parsed: ParsedDeviceTopic, packet: PublishPacket | ScannedPublish): Promise<unknown> | string {
  const who: DeviceIdentity = principal
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
  switch (parsed.channel) {
    case 'telemetry': return ingestor.telemetry(who, packet.topic, payload, 'mqtt')
    case 'events': return ingestor.events(who, packet.topic, payload, 'mqtt')
    case 'status': return ingestor.status(who, packet.topic, payload)
    default: return 'devices do not publish commands'
  }
}
