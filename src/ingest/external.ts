// External broker mode: ReTrack consumes device topics from an existing broker (Mosquitto, EMQX) as
// an mqtt.js client in a shared subscription, so several nodes split the stream and each message is
// processed by one of them. The external broker authenticates devices (see mosquitto/); ReTrack
// still checks that the device exists, is enabled and belongs to the tenant in the topic.
// A QoS 1 message is acknowledged to the external broker only after its durable write. The same
// connection sends commands to the devices there, and a device's status topic is its presence.
import os from 'node:os'
import mqtt, { type MqttClient } from 'mqtt'
import { parseDeviceTopic } from '../contracts/topics.js'
import type { DeviceDirectory } from '../db/device-directory.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { DeadLetter } from '../db/dead-letters.js'
import type { Ingestor, DeviceIdentity } from './ingestor.js'
import { firstConnection, hostOf, lastErrorSuffix } from '../first-connection.js'

export interface ExternalConsumerOptions {
  url: string
  username?: string | undefined
  password?: string | undefined
  clientId?: string | undefined
  shareGroup: string
  /** how long start() waits for the first connection (EXTERNAL_START_TIMEOUT_MS) */
  startTimeoutMs?: number
}

export interface ExternalConsumerDeps {
  ingestor: Ingestor
  directory: DeviceDirectory
  deadLetters: { write(letters: DeadLetter[]): Promise<unknown[]> }
  metrics: Metrics
  log: Logger
}

const channels = ['telemetry', 'events', 'status'] as const
/** how long start-up waits for the external broker before it gives up (the orchestrator restarts the node) */
export const EXTERNAL_START_TIMEOUT_MS = 5000
/** the status channel's connection, for presence: a device on the external broker has no connection of ours */
export const EXTERNAL_CONNECTION = 'external'

/**
 * The client id when none is configured: the same after every restart of this node (and of each of
 * its workers), because the broker keeps the session, and our share of the group's messages, per
 * client id: a name that changed with the pid would leave a session behind at every restart,
 * still taking its share of the messages until it expired, and those would never be processed.
 */
export function defaultExternalClientId(): string {
  const slot = process.env['RETRACK_WORKER_SLOT']
  return `retrack-${os.hostname()}${slot ? `-w${slot}` : ''}`
}

export class ExternalConsumer {
  private client: MqttClient | null = null

  constructor(private readonly options: ExternalConsumerOptions, private readonly deps: ExternalConsumerDeps) {}

  async start(): Promise<void> {
    const { url, username, password, shareGroup } = this.options
    const log = this.deps.log.child({ component: 'external-broker' })
    const client = mqtt.connect(url, {
      clientId: this.options.clientId ?? defaultExternalClientId(),
      // MQTT 5: mqtt.js lets the application decide when to PUBACK only on v5, and shared
      // subscriptions are part of v5. The session outlives a reconnect, so the broker keeps our
      // share of unacknowledged messages meanwhile.
      protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 1000, username, password,
      customHandleAcks: (topic, message, packet: { qos: number }, ack) => {
        this.handle(topic, message).then(() => ack(0), (err: unknown) => {
          // no PUBACK: drop the connection so the broker delivers the message again
          log.error({ err, topic }, 'durable write failed; message left unacknowledged')
          ack(err instanceof Error ? err : new Error(String(err)))
          client.stream?.destroy()
        })
        void packet
      },
    })
    this.client = client
    client.on('message', (topic, message, packet) => {
      if (packet.qos === 0) this.handle(topic, message).catch((err: unknown) => log.error({ err, topic }, 'QoS 0 message lost'))
    })
    client.on('error', (err) => log.warn({ err: err.message }, 'external broker error'))
    client.on('connect', (connack) => {
      log.info({ url: redact(url), sessionPresent: connack.sessionPresent }, 'connected to the external broker')
      // subscribe on every connect: a broker that lost our session must learn the subscription again
      const topics = channels.map((c) => `$share/${shareGroup}/tenants/+/devices/+/${c}`)
      client.subscribe(topics, { qos: 1 }, (err, granted) => {
        // a SUBACK reason code of 0x80 or more is a refusal (MQTT 5: 0x87 not authorized, 0x8F topic filter invalid, …)
        if (err || granted?.some((g) => g.qos >= 0x80)) log.error({ err, granted }, 'external broker refused the shared subscription')
      })
    })
    await this.connected(client, url, this.options.startTimeoutMs ?? EXTERNAL_START_TIMEOUT_MS)
  }

  /** Resolves on the first CONNACK; after `ms` without one, stops and rejects naming the setting (never its value). */
  private async connected(client: MqttClient, url: string, ms: number): Promise<void> {
    const secure = ['mqtts:', 'ssl:', 'tls:'].some((scheme) => url.startsWith(scheme))
    try {
      await firstConnection(client, 'connect', ms, (last) => new Error(
        `EXTERNAL_BROKER_URL: the broker at ${hostOf(url, secure ? 8883 : 1883)} did not accept a connection within ${ms / 1000} s${lastErrorSuffix(last)}`))
    } catch (err) {
      client.end(true)
      this.client = null
      throw err
    }
  }

  /** Whether the connection to the external broker is up (readiness). */
  get isConnected(): boolean { return this.client?.connected ?? false }

  /**
   * Publishes a command to a device on the external broker. While the connection is down the client
   * queues it and sends it on reconnect: the caller is not kept waiting for that.
   */
  async publish(topic: string, payload: string, qos: 0 | 1): Promise<void> {
    const client = this.client
    if (!client) throw new Error('not connected to the external broker')
    if (client.connected) { await client.publishAsync(topic, payload, { qos }); return }
    client.publish(topic, payload, { qos }, (err) => { if (err) this.deps.log.warn({ err: err.message, topic }, 'a queued command was not delivered to the external broker') })
  }

  private async handle(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseDeviceTopic(topic)
    if (!parsed || parsed.channel === 'commands') return
    const device = await this.deps.directory.find(parsed.deviceId)
    if (!device || device.tenantSlug !== parsed.tenant) {
      // shown to nobody: the topic names no device of its tenant
      this.deps.metrics.deadLetters.inc({ code: 'UNKNOWN_DEVICE' })
      await this.deps.deadLetters.write([{
        tenantId: null, deviceId: null, topic, code: 'UNKNOWN_DEVICE', reason: !device ? 'no such device' : 'device belongs to another tenant', payload,
      }])
      return
    }
    if (!device.enabled) {
      // the same code as HTTP ingestion's 403 for a disabled device; the tenant sees it
      this.deps.metrics.deadLetters.inc({ code: 'DEVICE_DISABLED' })
      await this.deps.deadLetters.write([{ tenantId: device.tenantId, deviceId: device.id, topic, code: 'DEVICE_DISABLED', reason: 'device disabled', payload }])
      return
    }
    const who: DeviceIdentity = { tenantId: device.tenantId, tenantSlug: device.tenantSlug, deviceId: device.id, vehicleId: device.vehicleId }
    if (parsed.channel === 'telemetry') await this.deps.ingestor.telemetry(who, topic, payload, 'external')
    else if (parsed.channel === 'events') await this.deps.ingestor.events(who, topic, payload, 'external')
    // the device's connection is the broker's, not ours: its status messages (and its Last Will) are its presence
    else await this.deps.ingestor.status({ ...who, connection: EXTERNAL_CONNECTION }, topic, payload)
  }

  async stop(): Promise<void> {
    await this.client?.endAsync()
    this.client = null
  }
}

function redact(url: string): string {
  try { const u = new URL(url); u.password = ''; u.username = ''; return u.toString() } catch { return 'external broker' }
}
