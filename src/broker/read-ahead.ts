// Aedes reads a connection's next packets only once the packets of its previous read are handled
// (or, by its counting, once as many new reads have arrived), and a QoS 1 PUBLISH is handled when
// its PUBACK is written, which ReTrack holds until the reading is committed. A tracker that sends
// several readings in one write (a backlog after a coverage gap) therefore held its next live
// readings in the socket until that commit: with the database slow, the live state froze.
//
// This connection sits between the socket and Aedes. It keeps reading while Aedes waits (up to a
// window), parses the packets as they arrive, and lets `start` begin the ingestion of each PUBLISH
// at once. When Aedes reaches the same packet, authorizePublish `claim`s the work already under way
// instead of starting it again, so the acknowledgement still waits for the commit and Aedes still
// decides everything else. Whatever `start` declines (before authentication, a topic it does not
// ingest, a full window) simply takes the normal path; a packet the scanner cannot read stops the
// read-ahead for the connection, and Aedes' own parser reports it.
import { Duplex } from 'node:stream'
import { PublishScanner, type ScannedPublish } from './publish-scanner.js'

/** Begins ingesting a publish; undefined when it is not one to start early. */
export type StartEarly = (packet: ScannedPublish) => Promise<unknown> | undefined

interface Early {
  packet: ScannedPublish
  work: Promise<unknown>
}

export interface ReadAheadOptions {
  /** most publishes under way ahead of Aedes on one connection */
  window: number
  /** bytes buffered ahead of Aedes before the socket is paused */
  bufferBytes: number
  /** the broker's packet size limit: a longer packet is not buffered here either */
  maxPacketBytes: number
}

export class ReadAheadConnection extends Duplex {
  private readonly scanner: PublishScanner
  private readonly early: Early[] = []
  private start: StartEarly | null = null
  private previous: Promise<unknown> = Promise.resolve()
  private readonly begin = (packet: ScannedPublish): void => {
    if (!this.start || this.early.length >= this.options.window) return
    const started = this.start(packet)
    if (!started) return
    // PUBACKs go out in the order the packets came ([MQTT-4.6.0-2]) although commits may finish in
    // another: each reading's work settles only after the one begun before it
    const work = this.previous.then(() => started, () => started)
    this.previous = work
    // a failure is reported to whoever claims the work; until then it must not be unhandled
    work.catch(noop)
    this.early.push({ packet, work })
  }

  constructor(private readonly socket: Duplex, private readonly options: ReadAheadOptions) {
    super({ readableHighWaterMark: options.bufferBytes, allowHalfOpen: false })
    this.scanner = new PublishScanner(options.maxPacketBytes)
    socket.on('data', (chunk: Buffer) => {
      this.scanner.scan(chunk, this.begin)
      if (!this.push(chunk)) socket.pause()
    })
    socket.on('end', () => this.push(null))
    socket.on('error', (err) => this.destroy(err))
    socket.on('close', () => this.destroy())
    socket.on('drain', () => this.emit('socketDrain'))
  }

  /** Called once Aedes has its client for this connection (no data is read before that). */
  startWith(start: StartEarly): void {
    this.start = start
  }

  /** The work already begun for this packet, if any (and forgets it). */
  claim(packet: { topic: string, messageId?: number, payload: Buffer | string }): Promise<unknown> | undefined {
    const i = this.early.findIndex((e) => e.packet.topic === packet.topic && e.packet.messageId === packet.messageId && samePayload(e.packet.payload, packet.payload))
    if (i < 0) return undefined
    return this.early.splice(i, 1)[0]!.work
  }

  /** for logs: the peer of the socket underneath */
  get remoteAddress(): string | undefined {
    return (this.socket as Duplex & { remoteAddress?: string }).remoteAddress
  }

  /** publishes begun here that Aedes has not reached yet */
  get ahead(): number {
    return this.early.length
  }

  override _read(): void {
    this.socket.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.socket.write(chunk)) done()
    else this.once('socketDrain', () => done())
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    this.socket.cork()
    let ok = true
    for (const { chunk } of chunks) ok = this.socket.write(chunk)
    this.socket.uncork()
    if (ok) done()
    else this.once('socketDrain', () => done())
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.end()
    done()
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.early.length = 0
    this.socket.destroy()
    done(err)
  }
}

const noop = () => {}
const samePayload = (a: Buffer, b: Buffer | string): boolean => Buffer.isBuffer(b) ? a.equals(b) : a.toString() === b
