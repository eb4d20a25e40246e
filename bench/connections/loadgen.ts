// Load generator worker for bench:connections, one process per source address so neither a
// process (20,000 open files at most) nor a source address (~28,000 ephemeral ports) runs out.
// Opens raw MQTT 3.1.1 connections (a CONNECT frame from mqtt-packet, no client library: each
// connection costs this process one socket and a closure), keeps at most `window` CONNECTs waiting
// for their CONNACK, then holds the sockets idle until told to close them.
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import mqttPacket from 'mqtt-packet'
import { percentile } from '../lib/stats.js'
import type { CloseRequest, Closed, ConnectRequest, ConnectResult, Count, CountRequest, DeviceCredential } from './protocol.js'

const held = new Set<net.Socket>()

function connectFrame(req: ConnectRequest, device: DeviceCredential): Buffer {
  return mqttPacket.generate({
    cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: req.keepaliveS,
    clientId: device.id, username: req.username, password: Buffer.from(device.secret),
  })
}

function connectAll(req: ConnectRequest): Promise<ConnectResult> {
  const result: ConnectResult = {
    type: 'connected', localAddress: req.localAddress, attempted: req.devices.length, connected: 0, refused: 0, failed: 0,
    startedAt: Date.now(), lastAckAt: Date.now(), p50Ms: 0, p99Ms: 0, errors: {},
  }
  const latencies: number[] = []
  let next = 0
  let inFlight = 0
  return new Promise((resolve) => {
    const launch = () => {
      while (inFlight < req.window && next < req.devices.length) open(req.devices[next++]!)
      if (inFlight === 0 && next >= req.devices.length) {
        result.connected = held.size
        result.p50Ms = percentile(latencies, 50)
        result.p99Ms = percentile(latencies, 99)
        resolve(result)
      }
    }
    const open = (device: DeviceCredential) => {
      inFlight++
      const t0 = performance.now()
      let settled = false
      const socket = net.connect({ host: req.host, port: req.port, localAddress: req.localAddress })
      const finish = (outcome: 'ok' | 'refused' | 'failed', why?: string) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        inFlight--
        if (outcome === 'refused') result.refused++
        if (outcome === 'failed') result.failed++
        if (why) result.errors[why] = (result.errors[why] ?? 0) + 1
        if (outcome !== 'ok') socket.destroy()
        launch()
      }
      const timer = setTimeout(() => finish('failed', 'timeout'), req.timeoutMs)
      let buffered = Buffer.alloc(0)
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk])
        if (buffered.length < 4) return
        socket.off('data', onData)
        // CONNACK: 0x20, remaining length 2, session present, return code
        if (buffered[0] !== 0x20) return finish('failed', `unexpected packet 0x${buffered[0]!.toString(16)}`)
        if (buffered[3] !== 0) return finish('refused', `connack rc ${buffered[3]}`)
        held.add(socket)
        latencies.push(performance.now() - t0)
        result.lastAckAt = Date.now()
        finish('ok')
      }
      socket.on('data', onData)
      socket.once('connect', () => socket.write(connectFrame(req, device)))
      socket.on('error', (err: NodeJS.ErrnoException) => { if (!settled) finish('failed', err.code ?? err.message) })
      socket.once('close', () => {
        held.delete(socket)
        if (!settled) finish('failed', 'closed before CONNACK')
      })
    }
    launch()
  })
}

process.on('message', (message: ConnectRequest | CountRequest | CloseRequest) => {
  if (message.type === 'connect') {
    void connectAll(message).then((r) => process.send?.(r))
  } else if (message.type === 'count') {
    process.send?.({ type: 'count', open: held.size } satisfies Count)
  } else {
    const reply: Closed = { type: 'closed', open: held.size }
    for (const s of held) s.destroy()
    held.clear()
    process.send?.(reply)
  }
})
process.stdout.write('loadgen ready\n')
