// Request cases for tests/integration/api/validation.test.ts. The edge cases are inputs the schemas
// accept but the database or the Date type cannot hold: NUL characters and unpaired surrogates,
// bodies nested without bound, dates outside years
// 1-9999 (or a leap second), cursors and offsets out of range, a ring whose first and last positions
// differ only in altitude. Each must be a 400 naming the field, never a 500.
import { PASSWORD } from '../../helpers/app.js'
import { stop } from './fixtures.js'

export interface Ids { carrier: string, device: string, fence: string, shipment: string, stop: string, user: string }
export interface Case {
  name: string
  method: 'GET' | 'POST' | 'PATCH'
  url: (ids: Ids) => string
  payload?: unknown
  /** appears in the message (case-insensitive) */
  field: string
  code?: string
  /** tenants are a platform administrator's business */
  platform?: boolean
}

const NUL = '\u0000'
const cursor = (text: string) => Buffer.from(text, 'utf8').toString('base64url')
export const edgeShipment = (extra: Record<string, unknown>) => ({ reference: 'EDGE-1', stops: [stop('A', 48, 2)], ...extra })

export const edgeCases: Case[] = [
  // NUL: PostgreSQL text and jsonb cannot hold it
  { name: 'NUL in a carrier name', method: 'POST', url: () => '/api/v1/carriers', payload: { name: `a${NUL}b` }, field: 'body/name' },
  { name: 'NUL in a carrier patch', method: 'PATCH', url: (i) => `/api/v1/carriers/${i.carrier}`, payload: { phone: NUL }, field: 'body/phone' },
  { name: 'NUL in a list filter', method: 'GET', url: () => '/api/v1/carriers?q=a%00b', field: 'querystring/q' },
  { name: 'NUL in a shipment search', method: 'GET', url: () => '/api/v1/shipments?q=%00', field: 'querystring/q' },
  { name: 'NUL in a device search', method: 'GET', url: () => '/api/v1/devices?q=%00', field: 'querystring/q' },
  { name: 'NUL in a stop name', method: 'POST', url: () => '/api/v1/shipments', payload: edgeShipment({ stops: [stop(`A${NUL}`, 48, 2)] }), field: 'body/stops/0/name' },
  { name: 'NUL in a stop address', method: 'PATCH', url: (i) => `/api/v1/shipments/${i.shipment}/stops/${i.stop}`, payload: { address: NUL }, field: 'body/address' },
  { name: 'NUL in a device name', method: 'PATCH', url: (i) => `/api/v1/devices/${i.device}`, payload: { name: `d${NUL}` }, field: 'body/name' },
  { name: 'NUL in a comment', method: 'POST', url: (i) => `/api/v1/shipments/${i.shipment}/events`, payload: { type: 'comment', text: NUL }, field: 'body/text' },
  { name: 'NUL in a user name', method: 'POST', url: () => '/api/v1/users', payload: { email: 'nul@example.test', password: PASSWORD, role: 'viewer', name: NUL }, field: 'body/name' },
  { name: 'NUL in a geofence name', method: 'POST', url: () => '/api/v1/geofences', payload: { name: NUL, kind: 'circle', geometry: { type: 'Point', coordinates: [2, 48] }, radiusM: 10 }, field: 'body/name' },
  // a lone surrogate: jsonb refuses its escape (a comment's text is stored in the event's payload)
  { name: 'an unpaired surrogate in a comment', method: 'POST', url: (i) => `/api/v1/shipments/${i.shipment}/events`, payload: '{"type":"comment","text":"x\\udc00"}', field: 'body/text' },
  { name: 'an unpaired surrogate in a carrier name', method: 'POST', url: () => '/api/v1/carriers', payload: '{"name":"a\\ud800b"}', field: 'body/name' },
  // nesting without bound would overflow the check's own recursion before the schema refused it
  { name: 'a body nested 100,000 deep', method: 'POST', url: () => '/api/v1/carriers', payload: `{"name":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, field: 'nested deeper than' },
  // dates the schema's date-time format accepts but the database cannot store
  { name: 'list: createdFrom on a leap second', method: 'GET', url: () => '/api/v1/shipments?createdFrom=2016-12-31T23:59:60Z', field: 'createdFrom' },
  { name: 'list: createdTo in year 0', method: 'GET', url: () => '/api/v1/shipments?createdTo=0000-06-01T00:00:00Z', field: 'createdTo' },
  { name: 'stop window in year 0', method: 'POST', url: () => '/api/v1/shipments', payload: edgeShipment({ stops: [stop('A', 48, 2, { windowStart: '0000-01-01T00:00:00Z' })] }), field: 'stops[0].windowStart' },
  { name: 'stop window past year 9999', method: 'POST', url: () => '/api/v1/shipments', payload: edgeShipment({ stops: [stop('A', 48, 2, { windowEnd: '9999-12-31T23:00:00-12:00' })] }), field: 'stops[0].windowEnd' },
  { name: 'stop patch: window in year 0', method: 'PATCH', url: (i) => `/api/v1/shipments/${i.shipment}/stops/${i.stop}`, payload: { windowStart: '0000-03-01T00:00:00+01:00' }, field: 'windowStart' },
  { name: 'proof of delivery in year 0', method: 'POST', url: (i) => `/api/v1/shipments/${i.shipment}/events`, payload: { type: 'proof_of_delivery', name: 'n', time: '0000-01-01T00:00:00Z' }, field: 'time' },
  // cursors that decode but name an instant no Date can hold
  { name: 'events: cursor out of range', method: 'GET', url: () => `/api/v1/events?cursor=${cursor('e:9999999999999999:1')}`, field: 'cursor', code: 'INVALID_CURSOR' },
  { name: 'events: cursor id beyond a safe integer', method: 'GET', url: () => `/api/v1/events?cursor=${cursor('e:0:999999999999999999')}`, field: 'cursor', code: 'INVALID_CURSOR' },
  { name: 'events: cursor before 4713 BC', method: 'GET', url: () => `/api/v1/events?order=asc&cursor=${cursor('e:-8000000000000000:1')}`, field: 'cursor', code: 'INVALID_CURSOR' },
  { name: 'timeline: after out of range', method: 'GET', url: (i) => `/api/v1/shipments/${i.shipment}/timeline?after=${cursor('e:-9999999999999999:1')}`, field: 'after', code: 'INVALID_CURSOR' },
  { name: 'positions: cursor out of range', method: 'GET', url: (i) => `/api/v1/devices/${i.device}/positions?cursor=${cursor('p:9999999999999999')}`, field: 'cursor', code: 'INVALID_CURSOR' },
  // pagination
  { name: 'an offset beyond any row count', method: 'GET', url: () => '/api/v1/users?offset=100000000000000000000', field: 'offset' },
  { name: 'a stream resume id beyond a safe integer', method: 'GET', url: () => '/api/v1/stream?lastEventId=100000000000000000000', field: 'lastEventId' },
  // geometry
  {
    name: 'polygon: ring closed in 2D but not in altitude', method: 'POST', url: () => '/api/v1/geofences', field: 'closed', code: 'INVALID_GEOMETRY',
    payload: { name: 'f', kind: 'polygon', geometry: { type: 'Polygon', coordinates: [[[0, 0, 5], [1, 0], [1, 1], [0, 1], [0, 0]]] } },
  },
]
