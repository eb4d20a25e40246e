// Aedes has no maximum packet size, and mqtt-packet buffers a whole packet before parsing it, so a
// device could make the broker hold hundreds of megabytes. This checks the remaining length as soon
// as the fixed header is read and fails the parse, which closes the connection. It reaches into
// mqtt-packet's parser (kept to this file; tests/integration/broker covers it with a 1 MB payload).
import type { Client } from 'aedes'

interface ParserInternals {
  packet: { length: number }
  _parseLength(): boolean
  _emitError(err: Error): void
}

export class PacketTooLarge extends Error {
  readonly code = 'MQTT_PACKET_TOO_LARGE'
}

export function limitPacketSize(client: Client, maxBytes: number, onTooLarge: (size: number) => void): void {
  const parser = (client as Client & { _parser?: ParserInternals })._parser
  if (!parser || typeof parser._parseLength !== 'function') throw new Error('mqtt-packet parser internals changed: packet size limit cannot be enforced')
  const parseLength = parser._parseLength.bind(parser)
  parser._parseLength = function limitedParseLength(this: ParserInternals) {
    const complete = parseLength()
    if (complete && parser.packet.length > maxBytes) {
      onTooLarge(parser.packet.length)
      parser._emitError(new PacketTooLarge(`packet of ${parser.packet.length} bytes exceeds the limit of ${maxBytes}`))
      return false
    }
    return complete
  }
}
