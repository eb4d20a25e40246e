// The read-ahead scanner must find exactly the PUBLISH packets mqtt-packet's full parser finds,
// however the stream is cut into reads, and stop at anything it does not expect.
import { describe, expect, it } from 'vitest'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { PublishScanner, type ScannedPublish } from '../../../src/broker/publish-scanner.js'

const connect = (protocolVersion: 3 | 4 | 5) => mqttPacket.generate({
  cmd: 'connect', protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT', protocolVersion, clean: true, clientId: 'dev-1', keepalive: 30, username: 'acme', password: Buffer.from('secret'),
})
const publish = (messageId: number, qos: 0 | 1 | 2, payloadBytes: number, topic = 'tenants/acme/devices/d1/telemetry'): Packet =>
  ({ cmd: 'publish', topic, qos, messageId: qos > 0 ? messageId : undefined, retain: false, dup: false, payload: Buffer.alloc(payloadBytes, 0x41 + messageId % 26) })

// payloads that need one, two and three bytes of remaining length; a PINGREQ and a SUBSCRIBE between
const packets: Packet[] = [
  publish(1, 1, 10), { cmd: 'pingreq' }, publish(2, 0, 200), publish(3, 2, 20_000),
  { cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: 'tenants/acme/devices/d1/commands', qos: 1 }] }, publish(5, 1, 150, 'tenants/acme/devices/d1/events'),
]
const stream = Buffer.concat([connect(4), ...packets.map((p) => mqttPacket.generate(p))])

function expected(): ScannedPublish[] {
  const found: ScannedPublish[] = []
  const parser = mqttPacket.parser()
  parser.on('packet', (p: Packet) => {
    if (p.cmd === 'publish') found.push({ topic: p.topic, qos: p.qos, messageId: p.messageId, payload: p.payload as Buffer })
  })
  parser.parse(stream)
  return found
}

function scanInReads(bytes: Buffer, sizes: (i: number) => number, scanner = new PublishScanner(1 << 20)): ScannedPublish[] {
  const found: ScannedPublish[] = []
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes(i))
    scanner.scan(bytes.subarray(at, at + size), (p) => found.push({ ...p, payload: Buffer.from(p.payload) }))
    at += size
  }
  return found
}

describe('PublishScanner', () => {
  it.each([
    ['one read', () => stream.length],
    ['one byte per read', () => 1],
    ['reads of 7 bytes', () => 7],
    ['reads of 1,000 bytes', () => 1000],
    ['reads of varying size', (i: number) => (i * 37) % 113],
  ])('finds what mqtt-packet finds with %s', (_name, sizes) => {
    const want = expected()
    expect(want).toHaveLength(4)
    expect(scanInReads(stream, sizes)).toEqual(want)
  })

  it('reads MQTT 3.1 the same way, and stops at an MQTT 5 CONNECT (its PUBLISH has properties)', () => {
    const v3 = Buffer.concat([connect(3), mqttPacket.generate(publish(1, 1, 10))])
    expect(scanInReads(v3, () => 5)).toHaveLength(1)
    const scanner = new PublishScanner(1 << 20)
    const v5 = Buffer.concat([connect(5), mqttPacket.generate(publish(1, 1, 10))])
    expect(scanInReads(v5, () => v5.length, scanner)).toEqual([])
    expect(scanner.stopped).toBe(true)
  })

  it('stops at a packet over the size limit without waiting for its bytes', () => {
    const scanner = new PublishScanner(1000)
    const big = Buffer.concat([mqttPacket.generate(publish(1, 1, 10)), mqttPacket.generate(publish(2, 1, 5000)).subarray(0, 10)])
    expect(scanInReads(big, () => big.length, scanner)).toHaveLength(1)
    expect(scanner.stopped).toBe(true)
  })

  it.each([
    ['a remaining length of five bytes', Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['QoS 3', Buffer.from([0x36, 0x04, 0x00, 0x01, 0x74, 0x00])],
    ['a topic longer than its packet', Buffer.from([0x32, 0x04, 0x00, 0x09, 0x74, 0x00])],
    ['a reserved packet type', Buffer.from([0xf0, 0x00])],
  ])('stops at %s and finds nothing after it', (_name, bad) => {
    const scanner = new PublishScanner(1 << 20)
    expect(scanInReads(Buffer.concat([bad, mqttPacket.generate(publish(1, 1, 10))]), () => 100, scanner)).toEqual([])
    expect(scanner.stopped).toBe(true)
  })
})
