// Finds the PUBLISH packets in an MQTT 3.1/3.1.1 byte stream as it arrives, for the read-ahead
// connection. It reads fixed headers to step from packet to packet and decodes only a PUBLISH's
// topic, message id and payload: Aedes' parser does the real work a moment later, so this one has
// to be cheap: it runs on every byte a device sends, before Aedes' parser runs on the same bytes.
// Anything it does not expect (MQTT 5, which Aedes refuses anyway, a bad length, a packet over
// the broker's size limit) makes it stop for good; the connection then simply is not read ahead.

export interface ScannedPublish {
  topic: string
  qos: number
  messageId: number | undefined
  payload: Buffer
}

const CONNECT = 1
const PUBLISH = 3
/** packet types 0 and 15 are reserved in MQTT 3.1.1 (15 is MQTT 5's AUTH) */
const RESERVED_LOW = 0
const RESERVED_HIGH = 15

export class PublishScanner {
  private pending: Buffer[] = []
  private pendingBytes = 0
  /** bytes the first pending packet needs before it can be looked at */
  private needBytes = 0
  stopped = false

  constructor(private readonly maxPacketBytes: number) {}

  /** Calls `onPublish` for each PUBLISH this chunk completes, in stream order. */
  scan(chunk: Buffer, onPublish: (packet: ScannedPublish) => void): void {
    if (this.stopped) return
    if (this.pendingBytes > 0) {
      this.pending.push(chunk)
      this.pendingBytes += chunk.length
      if (this.pendingBytes < this.needBytes) return // a long packet still arriving: no copying yet
      chunk = Buffer.concat(this.pending, this.pendingBytes)
      this.pending = []
      this.pendingBytes = 0
    }
    let at = 0
    while (at < chunk.length) {
      const header = this.header(chunk, at)
      if (header === 'stop') return this.stop()
      if (header === 'more' || header.end > chunk.length) {
        this.needBytes = header === 'more' ? chunk.length - at + 1 : header.end - at
        break
      }
      const type = chunk[at]! >> 4
      if (type === RESERVED_LOW || type === RESERVED_HIGH) return this.stop()
      if (type === PUBLISH) {
        const packet = publishAt(chunk, chunk[at]! & 0x0f, header.body, header.end)
        if (!packet) return this.stop()
        onPublish(packet)
      } else if (type === CONNECT && !supportedConnect(chunk, header.body, header.end)) {
        return this.stop()
      }
      at = header.end
    }
    if (at < chunk.length) {
      this.pending = [chunk.subarray(at)]
      this.pendingBytes = chunk.length - at
    }
  }

  /** The packet at `at`: where its body starts and where it ends, or that more bytes are needed. */
  private header(buf: Buffer, at: number): { body: number, end: number } | 'more' | 'stop' {
    let length = 0
    let multiplier = 1
    for (let i = at + 1; i < at + 5; i++) {
      if (i >= buf.length) return 'more'
      const byte = buf[i]!
      length += (byte & 0x7f) * multiplier
      if ((byte & 0x80) === 0) return length > this.maxPacketBytes ? 'stop' : { body: i + 1, end: i + 1 + length }
      multiplier *= 128
    }
    return 'stop' // a remaining length longer than four bytes is malformed
  }

  private stop(): void {
    this.stopped = true
    this.pending = []
    this.pendingBytes = 0
  }
}

function publishAt(buf: Buffer, flags: number, body: number, end: number): ScannedPublish | null {
  const qos = (flags >> 1) & 0x03
  if (qos === 3 || body + 2 > end) return null
  const topicEnd = body + 2 + buf.readUInt16BE(body)
  const idEnd = qos > 0 ? topicEnd + 2 : topicEnd
  if (idEnd > end) return null
  return {
    topic: buf.toString('utf8', body + 2, topicEnd),
    qos,
    messageId: qos > 0 ? buf.readUInt16BE(topicEnd) : undefined,
    payload: buf.subarray(idEnd, end),
  }
}

/** MQTT 3.1 ("MQIsdp", level 3) or 3.1.1 ("MQTT", level 4): the PUBLISH layout read above. */
function supportedConnect(buf: Buffer, body: number, end: number): boolean {
  if (body + 2 > end) return false
  const nameEnd = body + 2 + buf.readUInt16BE(body)
  if (nameEnd >= end) return false
  const level = buf[nameEnd]!
  return level === 3 || level === 4
}
