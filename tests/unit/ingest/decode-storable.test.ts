// Elements PostgreSQL cannot store (U+0000, unpaired surrogates, nesting too deep for JSON.stringify
// and jsonb) are rejected one by one at decode time, so they never reach a group-commit batch.
import { describe, expect, it } from 'vitest'
import { MAX_DEPTH } from '../../../src/db/storable.js'
import { decodeEvents, decodeTelemetry } from '../../../src/ingest/decode.js'

const T = '00000000-0000-4000-8000-000000000001'
const telemetry = (payload: string) => decodeTelemetry(Buffer.from(payload), T, 'dev_x', 5, 100)
const events = (payload: string) => decodeEvents(Buffer.from(payload), T, 'dev_x', 100)
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)

describe('unstorable elements', () => {
  it.each([
    { name: 'U+0000 in an attrs value', payload: JSON.stringify({ ts: 1, lat: 1, lon: 1, attrs: { k: 'a\u0000b' } }) },
    { name: 'U+0000 in an attrs key', payload: JSON.stringify({ ts: 1, lat: 1, lon: 1, attrs: { 'k\u0000': 1 } }) },
    { name: 'a lone high surrogate', payload: JSON.stringify({ ts: 1, lat: 1, lon: 1, attrs: { k: 'x\ud800' } }) },
    { name: 'a lone low surrogate', payload: JSON.stringify({ ts: 1, lat: 1, lon: 1, attrs: { k: '\udc00x' } }) },
  ])('telemetry: $name → SCHEMA, with a reason free of U+0000', ({ payload }) => {
    const { items, rejections } = telemetry(payload)
    expect(items).toEqual([])
    expect(rejections).toEqual([{ code: 'SCHEMA', reason: expect.stringMatching(/U\+0000 or an unpaired surrogate/) }])
    expect(rejections[0]!.reason).not.toContain('\u0000')
  })

  it('keeps escaped text that is storable: a surrogate pair, an escaped backslash before u0000', () => {
    const { items, rejections } = telemetry(JSON.stringify({ ts: 1, lat: 1, lon: 1, attrs: { k: '\ud83d\ude9a', path: 'C:\\u0000' } }))
    expect(rejections).toEqual([])
    expect(items[0]!.attrs).toEqual({ k: '\ud83d\ude9a', path: 'C:\\u0000' })
  })

  it('in a batch only the unstorable element is rejected, by index', () => {
    const { items, rejections } = telemetry(JSON.stringify([{ ts: 1, lat: 1, lon: 1 }, { ts: 2, lat: 1, lon: 1, attrs: { k: '\u0000' } }, { ts: 3, lat: 1, lon: 1 }]))
    expect(items.map((f) => f.ts)).toEqual([1, 3])
    expect(rejections).toMatchObject([{ code: 'SCHEMA', index: 1 }])
  })

  it.each([
    { name: 'U+0000 deep in data', payload: JSON.stringify({ ts: 1, type: 'sos', data: { a: [{ b: 'x\u0000' }] } }), reason: /\/data\/a\/0\/b contains U\+0000/ },
    { name: 'data nested deeper than the limit', payload: `{"ts":1,"type":"sos","data":{"a":${nested(MAX_DEPTH)}}}`, reason: /nested deeper than/ },
    { name: 'data nested 100,000 deep (JSON.stringify would overflow the stack)', payload: `{"ts":1,"type":"sos","data":{"a":${nested(100_000)}}}`, reason: /nested deeper than/ },
  ])('events: $name → SCHEMA', ({ payload, reason }) => {
    const { items, rejections } = events(payload)
    expect(items).toEqual([])
    expect(rejections).toEqual([{ code: 'SCHEMA', reason: expect.stringMatching(reason) }])
  })

  it('events: data nested within the limit is kept', () => {
    const { items, rejections } = events(`{"ts":1,"type":"sos","data":{"a":${nested(MAX_DEPTH - 3)}}}`)
    expect(rejections).toEqual([])
    expect(items).toHaveLength(1)
  })
})
