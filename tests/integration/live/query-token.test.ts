// ?access_token= on the stream becomes a bearer header and leaves the URL (so logs never see it);
// other paths and an existing header are left alone.
import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { moveQueryToken } from '../../../src/api/routes/stream/query-token.js'

const request = (url: string, authorization?: string) =>
  ({ url, headers: authorization ? { authorization } : {} }) as IncomingMessage

describe('moveQueryToken', () => {
  it.each([
    ['/api/v1/stream?access_token=abc', '/api/v1/stream', 'Bearer abc'],
    ['/api/v1/stream?types=arrived&access_token=abc&positions=true', '/api/v1/stream?types=arrived&positions=true', 'Bearer abc'],
    ['/api/v1/stream?types=arrived', '/api/v1/stream?types=arrived', undefined],
    ['/api/v1/shipments?access_token=abc', '/api/v1/shipments?access_token=abc', undefined],
    ['/api/v1/stream/x?access_token=abc', '/api/v1/stream/x?access_token=abc', undefined],
  ])('%s → %s', (url, rewritten, authorization) => {
    const req = request(url)
    expect(moveQueryToken(req)).toBe(rewritten)
    expect(req.headers.authorization).toBe(authorization)
  })

  it('keeps a header that is already there, and still takes the token out of the URL', () => {
    const req = request('/api/v1/stream?access_token=abc', 'Bearer header')
    expect(moveQueryToken(req)).toBe('/api/v1/stream')
    expect(req.headers.authorization).toBe('Bearer header')
  })
})
