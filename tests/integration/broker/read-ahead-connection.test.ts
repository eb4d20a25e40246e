// The read-ahead connection on its own, over a real socket pair: it hands Aedes the bytes unchanged,
// starts what `start` accepts as each PUBLISH arrives (up to its window), lets exactly the matching
// packet claim that work, pauses the socket when Aedes is far enough behind, and passes writes,
// ends and errors through.
import net from 'node:net'
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import mqttPacket from 'mqtt-packet'
import { ReadAheadConnection } from '../../../src/broker/read-ahead.js'

const publish = (messageId: number, payload = `{"n":${messageId}}`, topic = 't/a'): Buffer =>
  mqttPacket.generate({ cmd: 'publish', topic, qos: 1, messageId, retain: false, dup: false, payload: Buffer.from(payload) })

const sockets: net.Socket[] = []
const servers: net.Server[] = []
afterEach(() => {
  sockets.splice(0).forEach((s) => s.destroy())
  servers.splice(0).forEach((s) => s.close())
})

/** A connected pair: `device` writes, `server` is what a broker would wrap. */
async function pair(): Promise<{ device: net.Socket, server: net.Socket }> {
  const listener = net.createServer()
  servers.push(listener)
  listener.listen(0, '127.0.0.1')
  await once(listener, 'listening')
  const accepted = once(listener, 'connection') as Promise<[net.Socket]>
  const device = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1')
  const [server] = await accepted
  sockets.push(device, server)
  return { device, server }
}

const options = { window: 2, bufferBytes: 1024, maxPacketBytes: 10_000 }
const tick = () => new Promise((r) => setTimeout(r, 50))

describe('ReadAheadConnection', () => {
  it('starts publishes as they arrive, up to its window, and passes the bytes on unchanged', async () => {
    const { device, server } = await pair()
    const conn = new ReadAheadConnection(server, options)
    const started: number[] = []
    conn.startWith((p) => { started.push(p.messageId!); return Promise.resolve() })
    const bytes = Buffer.concat([publish(1), publish(2), publish(3)])
    device.write(bytes)
    await tick()
    expect(started).toEqual([1, 2]) // the third is beyond the window: left for the normal path
    expect(conn.ahead).toBe(2)
    expect(conn.read()).toEqual(bytes)
  })

  it('lets only the same packet claim its work, once', async () => {
    const { device, server } = await pair()
    const conn = new ReadAheadConnection(server, options)
    conn.startWith(() => Promise.resolve('stored'))
    device.write(publish(7, '{"a":1}'))
    await tick()
    expect(conn.claim({ topic: 't/a', messageId: 7, payload: Buffer.from('{"a":2}') })).toBeUndefined()
    expect(conn.claim({ topic: 't/b', messageId: 7, payload: Buffer.from('{"a":1}') })).toBeUndefined()
    expect(conn.claim({ topic: 't/a', messageId: 8, payload: Buffer.from('{"a":1}') })).toBeUndefined()
    await expect(conn.claim({ topic: 't/a', messageId: 7, payload: Buffer.from('{"a":1}') })).resolves.toBe('stored')
    expect(conn.claim({ topic: 't/a', messageId: 7, payload: Buffer.from('{"a":1}') })).toBeUndefined()
    expect(conn.ahead).toBe(0)
  })

  it('settles each reading\'s work only after the one begun before it (PUBACKs in order)', async () => {
    const { device, server } = await pair()
    const conn = new ReadAheadConnection(server, options)
    const finish: Array<() => void> = []
    conn.startWith(() => new Promise<void>((resolve) => { finish.push(resolve) }))
    device.write(Buffer.concat([publish(1), publish(2)]))
    await tick()
    const settled: number[] = []
    const first = conn.claim({ topic: 't/a', messageId: 1, payload: Buffer.from('{"n":1}') })!.then(() => settled.push(1))
    const second = conn.claim({ topic: 't/a', messageId: 2, payload: Buffer.from('{"n":2}') })!.then(() => settled.push(2))
    finish[1]!() // the second commit finishes first
    await tick()
    expect(settled).toEqual([])
    finish[0]!()
    await Promise.all([first, second])
    expect(settled).toEqual([1, 2])
  })

  it('starts nothing before startWith, and nothing once a packet cannot be parsed', async () => {
    const { device, server } = await pair()
    const conn = new ReadAheadConnection(server, { ...options, window: 10 })
    device.write(publish(1))
    await tick()
    const started: number[] = []
    conn.startWith((p) => { started.push(p.messageId!); return Promise.resolve() })
    device.write(publish(2))
    await tick()
    device.write(Buffer.from([0xf0, 0x00])) // reserved packet type: a parse error
    await tick()
    device.write(publish(3))
    await tick()
    expect(started).toEqual([2])
  })

  it('does not buffer a packet longer than the broker allows', async () => {
    const { device, server } = await pair()
    const conn = new ReadAheadConnection(server, { ...options, maxPacketBytes: 1024 })
    const started: number[] = []
    conn.startWith((p) => { started.push(p.messageId!); return Promise.resolve() })
    device.write(publish(1, 'x'.repeat(2000)))
    await tick()
    device.write(publish(2))
    await tick()
    expect(started).toEqual([]) // inspection stopped at the oversized length; Aedes' parser closes the connection
  })

  it('pauses the socket once its buffer is full and resumes when read', async () => {
    const { device, server } = await pair()
    const conn = new ReadAheadConnection(server, options)
    device.write(Buffer.alloc(4096, 0x30))
    await tick()
    expect(server.isPaused()).toBe(true)
    const first = conn.read() as Buffer
    await tick()
    const rest = conn.read() as Buffer | null
    expect(first.length + (rest?.length ?? 0)).toBe(4096)
  })

  it('writes to the socket and ends with it', async () => {
    const { device, server } = await pair()
    const conn = new ReadAheadConnection(server, options)
    const received = once(device, 'data') as Promise<[Buffer]>
    conn.write(mqttPacket.generate({ cmd: 'puback', messageId: 9 }))
    expect((await received)[0]).toEqual(Buffer.from([0x40, 0x02, 0x00, 0x09]))
    const ended = once(conn, 'end')
    conn.resume()
    device.end()
    await ended
  })

  it('is destroyed with the error when its socket fails, and destroys the socket when destroyed', async () => {
    const first = await pair()
    const failing = new ReadAheadConnection(first.server, options)
    const failed = once(failing, 'error') as Promise<[Error]>
    first.server.destroy(new Error('reset'))
    expect((await failed)[0].message).toBe('reset')
    expect(failing.destroyed).toBe(true)

    const second = await pair()
    const conn = new ReadAheadConnection(second.server, options)
    const peerClosed = once(second.device, 'close')
    conn.destroy()
    await peerClosed
    expect(second.server.destroyed).toBe(true)
  })
})
