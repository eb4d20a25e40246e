// Load generator for bench:ingest, run as its own process: N MQTT 3.1.1 publishers on raw sockets
// (mqtt-packet, no client library overhead) or as mqtt.js clients, QoS 1, each keeping `window`
// messages in flight, or paced to a total `rate`. Prints one JSON line: counts, achieved rate,
// publish→PUBACK latency.
import net from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import mqttPacket from 'mqtt-packet'
import { Redis } from 'ioredis'
import mqtt from 'mqtt'

export interface LoadSpec {
  host: string
  port: number
  tenant: string
  devices: Array<{ id: string, secret: string }>
  /** messages in flight per publisher (max-rate mode) */
  window: number
  /** 'raw': mqtt-packet on bare sockets (cheap, the generator costs little); 'mqttjs': one mqtt.js
   * client per publisher, as a Node.js device would publish */
  client?: 'raw' | 'mqttjs'
  /** total messages/s across publishers; 0 = as fast as PUBACKs allow */
  rate: number
  warmupMs: number
  durationMs: number
  /** event time of the first reading of every device */
  baseTs: number
  /** when set, every 20th reading of a device is watched in ReTrack's Redis state until it shows */
  probe?: { redisUrl: string, keyPrefix: string, tenantId: string }
}

export interface LoadResult {
  connected: number
  sent: number
  acked: number
  seconds: number
  rate: number
  p50Ms: number
  p99Ms: number
  /** publish → visible in the asset state (ms), for the probed readings */
  stateP50Ms: number | null
  stateP99Ms: number | null
  probed: number
  /** this generator's own event-loop delay p99 while measuring (ms): its share of the latencies above */
  loopP99Ms: number
  /** CPU this generator used while measuring, in cores (its own account: it has exited before the bench could read /proc) */
  cpuCores: number
}

interface Publisher { send(): void }

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec

function reading(seq: number, baseTs: number): Buffer {
  // ~150 bytes, a fix every second of event time moving north 1 m at a time
  return Buffer.from(JSON.stringify({
    ts: baseTs + seq * 1000, lat: 48.8566 + seq * 1e-5, lon: 2.3522, speed: 13.4, heading: 0, accuracy: 6, battery: 87, seq, attrs: { temp: 4.5 },
  }))
}

async function main() {
  let measuring = false
  let sent = 0
  let acked = 0
  const latencies: number[] = []
  const stateLatencies: number[] = []
  const redis = spec.probe ? new Redis(spec.probe.redisUrl) : null
  // a few readings at a time are watched, polling every 2 ms: enough samples, and light enough
  // not to load Redis or this process (which would distort what is measured)
  let watching = 0
  const watch = (deviceId: string, ts: number, sentAt: number) => {
    if (!redis || !spec.probe || watching >= 10) return
    watching++
    const key = `${spec.probe.keyPrefix}state:${spec.probe.tenantId}:${deviceId}`
    const poll = () => {
      redis.hget(key, 'ts').then((v) => {
        if (Number(v) >= ts) { watching--; if (measuring) stateLatencies.push(performance.now() - sentAt); return }
        if (performance.now() - sentAt < 5000) setTimeout(poll, 2)
        else watching--
      }, () => { watching-- })
    }
    poll()
  }
  const acknowledged = (started: number) => {
    if (measuring) { acked++; latencies.push(performance.now() - started) }
  }
  /** Numbers a device's readings, and counts and probes them alike whichever client transmits them. */
  const publisher = (deviceId: string, transmit: (payload: Buffer, startedAt: number) => void): Publisher => {
    let seq = 0
    return {
      send() {
        const now = performance.now()
        seq++
        if (measuring) sent++
        transmit(reading(seq, spec.baseTs), now)
        if (seq % 20 === 0) watch(deviceId, spec.baseTs + seq * 1000, now)
      },
    }
  }
  const connectMqttjs = (device: { id: string, secret: string }) => new Promise<Publisher>((resolve, reject) => {
    const topic = `tenants/${spec.tenant}/devices/${device.id}/telemetry`
    const client = mqtt.connect({ host: spec.host, port: spec.port, protocolVersion: 4, clean: true, clientId: device.id, keepalive: 600, username: spec.tenant, password: device.secret, reconnectPeriod: 0 })
    const p = publisher(device.id, (payload, startedAt) => {
      client.publish(topic, payload, { qos: 1 }, (err) => {
        if (err) return
        acknowledged(startedAt)
        if (spec.rate === 0) p.send()
      })
    })
    client.once('connect', () => resolve(p))
    client.on('error', reject) // after the CONNACK a no-op: an error then shows as missing PUBACKs
  })
  const connectRaw = (device: { id: string, secret: string }) => new Promise<Publisher>((resolve, reject) => {
    const socket = net.connect({ host: spec.host, port: spec.port })
    socket.setNoDelay(true)
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    const topic = `tenants/${spec.tenant}/devices/${device.id}/telemetry`
    const inflight = new Map<number, number>()
    let messageId = 0
    const p = publisher(device.id, (payload, startedAt) => {
      messageId = messageId % 65535 + 1
      inflight.set(messageId, startedAt)
      socket.write(mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId, retain: false, dup: false }))
    })
    parser.on('packet', (packet) => {
      if (packet.cmd === 'connack') {
        if (packet.returnCode !== 0) return reject(new Error(`connack ${packet.returnCode} for ${device.id}`))
        resolve(p)
      } else if (packet.cmd === 'puback') {
        const started = inflight.get(packet.messageId!)
        inflight.delete(packet.messageId!)
        if (started !== undefined) acknowledged(started)
        if (spec.rate === 0) p.send()
      }
    })
    socket.on('data', (chunk: Buffer) => { parser.parse(chunk) })
    socket.on('error', reject)
    socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: device.id, keepalive: 600, username: spec.tenant, password: Buffer.from(device.secret) }))
  })
  const publishers = await Promise.all(spec.devices.map((device) => spec.client === 'mqttjs' ? connectMqttjs(device) : connectRaw(device)))

  let pacer: NodeJS.Timeout | null = null
  if (spec.rate === 0) {
    for (const p of publishers) for (let i = 0; i < spec.window; i++) p.send()
  } else {
    // one timer for everyone: every 5 ms, the messages owed since the start, round-robin
    const started = performance.now()
    let owed = 0
    let next = 0
    pacer = setInterval(() => {
      const due = Math.floor((performance.now() - started) / 1000 * spec.rate)
      for (; owed < due; owed++) publishers[next++ % publishers.length]!.send()
    }, 5)
  }
  await new Promise((r) => setTimeout(r, spec.warmupMs))
  measuring = true
  const loop = monitorEventLoopDelay({ resolution: 5 })
  loop.enable()
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  await new Promise((r) => setTimeout(r, spec.durationMs))
  measuring = false
  const cpu = process.cpuUsage(cpu0)
  loop.disable()
  const seconds = (performance.now() - t0) / 1000
  if (pacer) clearInterval(pacer)
  latencies.sort((a, b) => a - b)
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN
  await new Promise((r) => setTimeout(r, redis ? 500 : 0))
  stateLatencies.sort((a, b) => a - b)
  const st = (p: number) => stateLatencies.length ? stateLatencies[Math.min(stateLatencies.length - 1, Math.floor(p * stateLatencies.length))]! : null
  const result: LoadResult = {
    connected: publishers.length, sent, acked, seconds, rate: acked / seconds, p50Ms: at(0.5), p99Ms: at(0.99),
    stateP50Ms: st(0.5), stateP99Ms: st(0.99), probed: stateLatencies.length, loopP99Ms: loop.percentile(99) / 1e6,
    cpuCores: (cpu.user + cpu.system) / 1e6 / seconds,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
  process.exit(0)
}

main().catch((err: unknown) => { console.error(err); process.exit(1) })
