// External broker mode: ReTrack consumes device topics from an existing broker (Mosquitto, EMQX) as
// an mqtt.js client in a shared subscription, so several nodes split the stream and each message is
// processed by one of them. The external broker authenticates devices (see mosquitto/); ReTrack
// still checks that the device exists, is enabled and belongs to the tenant in the topic.
// A QoS 1 message is acknowledged to the external broker only after its durable write.
import os from 'node:os'
import mqtt, { type MqttClient } from 'mqtt'
import { parseDeviceTopic } from '../contracts/topics.js'
import type { DeviceDirectory } from '../db/device-directory.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { DeadLetter } from '../db/dead-letters.js'
import type { Ingestor, DeviceIdentity } from './ingestor.js'

export interface ExternalConsumerOptions {
  url: string
  username?: string | undefined
  password?: string | undefined
  clientId?: string | undefined
  shareGroup: string
}

export interface ExternalConsumerDeps {
  ingestor: Ingestor
  directory: DeviceDirectory
  deadLetters: { write(letters: DeadLetter[]): Promise<unknown[]> }
  metrics: Metrics
  log: Logger
}

const channels = ['telemetry', 'events', 'status'] as const

export class ExternalConsumer {
  private client: MqttClient | null = null

  constructor(private readonly options: ExternalConsumerOptions, private readonly deps: ExternalConsumerDeps) {}

  async start(): Promise<void> {
    const { url, username, password, shareGroup } = this.options
    const log = this.deps.log.child({ component: 'external-broker' })
    const client = mqtt.connect(url, {
      clientId: this.options.clientId ?? `retrack-${os.hostname()}-${process.pid}`,
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
        if (err || granted?.some((g) => g.qos === 128)) log.error({ err, granted }, 'external broker refused the shared subscription')
      })
    })
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
    })
  }

  private async handle(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseDeviceTopic(topic)
    if (!parsed || parsed.channel === 'commands') return
    const device = await this.deps.directory.find(parsed.deviceId)
    if (!device || !device.enabled || device.tenantSlug !== parsed.tenant) {
      this.deps.metrics.deadLetters.inc({ code: 'UNKNOWN_DEVICE' })
      await this.deps.deadLetters.write([{
        tenantId: device?.tenantSlug === parsed.tenant ? device.tenantId : null, deviceId: null, topic, code: 'UNKNOWN_DEVICE',
        reason: !device ? 'no such device' : !device.enabled ? 'device disabled' : 'device belongs to another tenant', payload,
      }])
      return
    }
    const who: DeviceIdentity = { tenantId: device.tenantId, tenantSlug: device.tenantSlug, deviceId: device.id, vehicleId: device.vehicleId }
    if (parsed.channel === 'telemetry') await this.deps.ingestor.telemetry(who, topic, payload, 'external')
    else if (parsed.channel === 'events') await this.deps.ingestor.events(who, topic, payload, 'external')
    else await this.deps.ingestor.status(who, topic, payload)
  }

  async stop(): Promise<void> {
    await this.client?.endAsync()
    this.client = null
  }
}

function redact(url: string): string {
  try { const u = new URL(url); u.password = ''; u.username = ''; return u.toString() } catch { return 'external broker' }
}
