import { describe, expect, it } from 'vitest'
import { decodeEvents, decodeStatus, decodeTelemetry } from '../../../src/ingest/decode.js'

const T = '00000000-0000-4000-8000-000000000001'
const decode = (payload: unknown, maxBatch = 100) =>
  decodeTelemetry(Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), T, 'dev_x', 5, maxBatch)

describe('decodeTelemetry', () => {
  it.each([
    { name: 'epoch ms', ts: 1764300000000, expected: 1764300000000 },
    { name: 'ISO 8601 with Z', ts: '2025-11-28T03:20:00Z', expected: Date.parse('2025-11-28T03:20:00Z') },
    { name: 'ISO 8601 with offset and millis', ts: '2025-11-28T04:20:00.250+01:00', expected: Date.parse('2025-11-28T03:20:00.250Z') },
  ])('accepts ts as $name', ({ ts, expected }) => {
    const { items, rejections } = decode({ ts, lat: 1, lon: 2 })
    expect(rejections).toEqual([])
    expect(items[0]).toMatchObject({ tenantId: T, deviceId: 'dev_x', ts: expected, receivedAt: 5, lat: 1, lon: 2 })
  })

  it.each([
    { name: 'plain text', payload: 'hello', code: 'MALFORMED_JSON' },
    { name: 'NaN literal', payload: '{"ts":1,"lat":NaN,"lon":1}', code: 'MALFORMED_JSON' },
    { name: 'lat as string', payload: { ts: 1, lat: '1', lon: 1 }, code: 'SCHEMA' },
    { name: 'no lon', payload: { ts: 1, lat: 1 }, code: 'SCHEMA' },
    { name: 'negative speed', payload: { ts: 1, lat: 1, lon: 1, speed: -3 }, code: 'SCHEMA' },
    { name: 'battery 150%', payload: { ts: 1, lat: 1, lon: 1, battery: 150 }, code: 'SCHEMA' },
    { name: 'fractional seq', payload: { ts: 1, lat: 1, lon: 1, seq: 1.5 }, code: 'SCHEMA' },
    { name: 'nested attrs', payload: { ts: 1, lat: 1, lon: 1, attrs: { temp: { c: 4 } } }, code: 'SCHEMA' },
    { name: 'ts in words', payload: { ts: 'last tuesday', lat: 1, lon: 1 }, code: 'BAD_TIME' },
    { name: 'date without time', payload: { ts: '2025-11-28', lat: 1, lon: 1 }, code: 'BAD_TIME' },
    { name: 'year 0000', payload: { ts: '0000-01-01T00:00:00Z', lat: 1, lon: 1 }, code: 'BAD_TIME' },
    { name: 'before 1970', payload: { ts: '1969-07-20T20:17:00Z', lat: 1, lon: 1 }, code: 'BAD_TIME' },
    { name: 'year 10000 in ms', payload: { ts: 253402300800000, lat: 1, lon: 1 }, code: 'BAD_TIME' },
    { name: 'empty array', payload: [], code: 'EMPTY_BATCH' },
  ])('rejects $name as $code with a reason', ({ payload, code }) => {
    const { items, rejections } = decode(payload)
    expect(items).toEqual([])
    expect(rejections).toHaveLength(1)
    expect(rejections[0]).toMatchObject({ code, reason: expect.any(String) })
  })

  it('a batch keeps its good elements and names the bad ones by index', () => {
    const { items, rejections } = decode([{ ts: 1, lat: 1, lon: 1 }, { ts: 2, lat: 'x', lon: 1 }, { ts: 3, lat: 3, lon: 3 }])
    expect(items.map((i) => i.ts)).toEqual([1, 3])
    expect(rejections).toEqual([{ code: 'SCHEMA', reason: '/lat must be number', index: 1 }])
  })

  it('says where each item was in the payload, and whether it was a batch', () => {
    expect(decode([{ ts: 1, lat: 'x', lon: 1 }, { ts: 2, lat: 2, lon: 2 }, { ts: 3, lat: 'y', lon: 1 }, { ts: 4, lat: 4, lon: 4 }]))
      .toMatchObject({ batch: true, indices: [1, 3] })
    expect(decode(' [{"ts":1,"lat":1,"lon":1}]')).toMatchObject({ batch: true, indices: [0] })
    expect(decode({ ts: 1, lat: 1, lon: 1 })).toMatchObject({ batch: false, indices: [0] })
  })

  it('refuses a batch over the limit as a whole', () => {
    const { items, rejections } = decode(Array.from({ length: 11 }, (_, i) => ({ ts: i, lat: 1, lon: 1 })), 10)
    expect(items).toEqual([])
    expect(rejections[0]?.code).toBe('BATCH_TOO_LARGE')
  })

  it('keeps out-of-range coordinates for the invalid stage to drop with its own reason', () => {
    expect(decode({ ts: 1, lat: 91, lon: 1 }).items).toHaveLength(1)
  })
})

describe('decodeEvents and decodeStatus', () => {
  it('decodes an event and refuses a bad type', () => {
    expect(decodeEvents(Buffer.from(JSON.stringify({ ts: 10, type: 'door_open', data: { door: 2 } })), T, 'd', 10).items[0]).toMatchObject({ type: 'door_open', ts: 10, data: { door: 2 } })
    expect(decodeEvents(Buffer.from(JSON.stringify({ ts: 10, type: 'Door Open!' })), T, 'd', 10).rejections[0]?.code).toBe('SCHEMA')
  })

  it.each([
    { name: 'a latitude beyond 90', event: { ts: 10, type: 'sos', lat: 999, lon: 2 }, reason: '/lat must be <= 90' },
    { name: 'a longitude beyond -180', event: { ts: 10, type: 'sos', lat: 48, lon: -200 }, reason: '/lon must be >= -180' },
    { name: 'a latitude without its longitude', event: { ts: 10, type: 'sos', lat: 48 }, reason: 'lon' },
  ])('refuses an event position with $name, saying why', ({ event, reason }) => {
    const { items, rejections } = decodeEvents(Buffer.from(JSON.stringify(event)), T, 'd', 10)
    expect(items).toEqual([])
    expect(rejections[0]?.code).toBe('SCHEMA')
    expect(rejections[0]?.reason).toContain(reason)
  })

  it.each([
    ['offline', { state: 'offline' }],
    ['"online"', { state: 'online' }],
    ['{"state":"offline","ts":5}', { state: 'offline', ts: 5 }],
  ])('status %s', (payload, expected) => {
    expect(decodeStatus(Buffer.from(payload))).toEqual(expected)
  })

  it('refuses the types of ReTrack\'s own events, so a device cannot pass for a milestone', () => {
    for (const type of ['delivered', 'arrived', 'exception', 'proof_of_delivery', 'device_offline']) {
      const { items, rejections } = decodeEvents(Buffer.from(JSON.stringify([{ ts: 10, type: 'delivery_confirmed' }, { ts: 11, type }])), T, 'd', 10)
      expect(items.map((e) => e.type), type).toEqual(['delivery_confirmed'])
      expect(rejections, type).toEqual([{ code: 'SCHEMA', index: 1, reason: expect.stringContaining(`"${type}" is reserved`) }])
    }
  })

  it('refuses an unknown status', () => {
    expect(decodeStatus(Buffer.from('{"state":"sleeping"}'))).toMatchObject({ code: 'SCHEMA' })
  })
})
