// One device's MQTT connection (mqtt.js, MQTT 3.1.1, clean session, no automatic reconnect: the
// fleet's connect gate decides when to retry). Implements the DevicePort the simulation talks to.
import mqtt, { type MqttClient } from 'mqtt'
import { deviceTopic, type DevicePublishChannel } from '../../src/contracts/topics.js'
import type { DevicePort } from '../device-sim.js'
import type { TokenBucket } from '../token-bucket.js'
import type { FleetCounters } from '../stats.js'

export interface LinkSettings {
  url: string
  tenant: string
  qos: 0 | 1
  keepaliveS: number
  connectTimeoutMs: number
}

export type ConnectOutcome = 'online' | 'refused' | 'failed'
export type LinkState = 'idle' | 'queued' | 'connecting' | 'online' | 'closing'

/** Why a connection attempt failed or an open connection ended: `kind` groups alike ones for reporting once. */
export interface LinkProblem { kind: string, message: string }

const WILL = Buffer.from('{"state":"offline"}')

const CLOSED_BY_PEER: LinkProblem = { kind: 'closed', message: 'connection closed by the broker or the network' }

/** A socket that closed before the CONNACK without an error: a timeout, or e.g. a WebSocket upgrade refused with 404. */
function noConnack(url: string): LinkProblem {
  const ws = /^wss?:\/\/[^/]*\/?$/.test(url)
  return {
    kind: 'no-connack',
    message: `connection closed before a CONNACK${ws ? ' (ReTrack serves MQTT over WebSocket at the /mqtt path: e.g. --url ws://localhost:8080/mqtt)' : ''}`,
  }
}

/**
 * The peer answered with bytes that are no MQTT (mqtt.js's packet parser failed, or the first
 * packet was not a CONNACK): typically --url mqtt://… pointing at an HTTP port, whose
 * "HTTP/1.1 400" mqtt.js reads as e.g. "Invalid header flag bits, must be 0x0 for puback packet".
 */
function notMqtt(url: string, detail: string): LinkProblem {
  const mqttUrl = /^mqtts?:/.test(url)
  return {
    kind: 'not-mqtt',
    message: `the server at ${url} did not speak MQTT (${detail})` + (mqttUrl
      ? ': is that an HTTP port? ReTrack\'s MQTT listener is on its MQTT_PORT (default 1884: --url mqtt://<host>:1884); on its HTTP port MQTT is over WebSocket: --url ws://<host>:<HTTP port>/mqtt'
      : ''),
  }
}

export class DeviceLink implements DevicePort {
  state: LinkState = 'idle'
  attempts = 0
  private client: MqttClient | undefined
  private closing: Promise<void> | undefined

  constructor(
    readonly deviceId: string,
    private readonly secret: string,
    private readonly settings: LinkSettings,
    private readonly limiter: TokenBucket,
    private readonly counters: FleetCounters,
  ) {}

  get online() { return this.state === 'online' }

  canPublish() { return this.limiter.available() >= 1 }

  /**
   * Connects; `settled` runs once with the outcome (and, unless online, why: the broker's refusal or
   * the first I/O error, e.g. "connect ECONNREFUSED 127.0.0.1:1884"), `lost` when an online
   * connection closes later without us closing it. A refusal settles only once its socket is closed:
   * the link is `idle` again by then, so the fleet's retry is the only one queued.
   */
  connect(settled: (outcome: ConnectOutcome, problem?: LinkProblem) => void, lost: (problem: LinkProblem) => void) {
    const { url, tenant, keepaliveS, connectTimeoutMs } = this.settings
    this.state = 'connecting'
    let outcome: ConnectOutcome | undefined
    let refusal: LinkProblem | undefined
    let ioError: LinkProblem | undefined
    const settle = (o: ConnectOutcome) => {
      if (outcome !== undefined) return
      outcome = o
      settled(o, o === 'refused' ? refusal : o === 'failed' ? ioError ?? noConnack(url) : undefined)
    }
    const client = mqtt.connect(url, {
      clientId: this.deviceId, username: tenant, password: this.secret,
      protocolVersion: 4, clean: true, reconnectPeriod: 0, keepalive: keepaliveS, connectTimeout: connectTimeoutMs,
      will: { topic: this.topic('status'), payload: WILL, qos: 1, retain: false },
    })
    this.client = client
    client.on('packetreceive', (packet) => {
      if (outcome === undefined && packet.cmd !== 'connack' && ioError === undefined) {
        this.counters.errors++
        ioError = notMqtt(url, `its first packet was a ${packet.cmd}, not a CONNACK`)
      }
    })
    client.on('connect', () => {
      this.state = 'online'
      this.attempts = 0
      this.counters.connected++
      settle('online')
    })
    client.on('error', (err: Error & { code?: string | number }) => {
      // a numeric code is a CONNACK refusal (bad credentials, server unavailable…), anything else is I/O
      if (typeof err.code === 'number' && outcome === undefined && refusal === undefined) {
        this.counters.refused++
        refusal = { kind: `refused: ${err.message}`, message: err.message }
      } else if (err.code === undefined && outcome === undefined && !/timeout/i.test(err.message)) {
        // no code: mqtt.js's own packet parser failed on what the peer sent
        this.counters.errors++
        ioError ??= notMqtt(url, err.message)
      } else {
        this.counters.errors++
        ioError ??= { kind: typeof err.code === 'string' ? err.code : err.message, message: err.message }
      }
    })
    client.on('close', () => {
      if (this.client !== client) return
      const wasOnline = this.state === 'online'
      if (wasOnline) this.counters.connected--
      this.discard()
      // closed by the broker or the network: mqtt.js fails pending QoS 1 publishes only when WE end
      // the client, otherwise their callbacks never run and the readings would vanish. Ending it
      // now reports them failed, so they are counted and go back into the device's buffer.
      client.end(true)
      if (outcome === undefined) {
        // closed before the CONNACK with no error at all (e.g. a WebSocket upgrade answered 404): an
        // error all the same, counted like one (noConnack says why)
        if (refusal === undefined && ioError === undefined) this.counters.errors++
        settle(refusal !== undefined ? 'refused' : 'failed')
      } else if (wasOnline) lost(ioError ?? CLOSED_BY_PEER)
    })
  }

  publish(channel: DevicePublishChannel, payload: string | Buffer, done?: (ok: boolean) => void) {
    const client = this.client
    if (!client || this.state !== 'online') { done?.(false); return }
    this.limiter.tryTake()
    this.counters.sent++
    const qos = channel === 'status' ? 1 : this.settings.qos
    client.publish(this.topic(channel), payload, { qos }, (err) => {
      if (err) { this.counters.failed++; done?.(false); return }
      if (qos === 1) this.counters.acked++
      done?.(true)
    })
  }

  /** Says "online" with the device's (simulated) clock. */
  announce(simNow: number) {
    this.publish('status', JSON.stringify({ state: 'online', ts: simNow }))
  }

  disconnect(kind: 'drop' | 'gap' | 'reconnect') {
    if (kind === 'reconnect') void this.close()
    else this.drop()
  }

  /** Abrupt: the socket is destroyed without DISCONNECT, so the broker publishes the Last Will. */
  drop() {
    const client = this.client
    if (!client) return
    if (this.state === 'online') this.counters.connected--
    this.discard()
    // end(true) destroys the stream without sending DISCONNECT and fails in-flight publishes
    client.end(true)
  }

  /** Polite: announces offline, waits for in-flight PUBACKs (up to timeoutMs), sends DISCONNECT. */
  close(simNow?: number, timeoutMs = 10_000): Promise<void> {
    // a second close (e.g. at shutdown) waits for the first instead of cutting it short
    this.closing ??= this.closeOnce(simNow, timeoutMs).finally(() => { this.closing = undefined })
    return this.closing
  }

  private async closeOnce(simNow: number | undefined, timeoutMs: number): Promise<void> {
    const client = this.client
    if (!client) return
    const wasOnline = this.state === 'online'
    if (simNow !== undefined && wasOnline) this.publish('status', JSON.stringify({ state: 'offline', ts: simNow }))
    if (wasOnline) this.counters.connected--
    this.state = 'closing'
    // not connected yet: nothing to wait for, and a DISCONNECT before CONNACK would only stall
    if (!wasOnline) { this.discard(); client.end(true); return }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { client.end(true); resolve() }, timeoutMs)
      client.end(false, {}, () => { clearTimeout(timer); resolve() })
    })
    if (this.client === client) this.discard()
  }

  private discard() {
    this.client = undefined
    this.state = 'idle'
  }

  private topic(channel: DevicePublishChannel) {
    return deviceTopic(this.settings.tenant, this.deviceId, channel)
  }
}
