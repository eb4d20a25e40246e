// The live stream (GET /api/v1/stream, Server-Sent Events). EventSource cannot send headers, so the
// access token rides in the query string. Its own automatic reconnect would present the same token
// forever, even once expired: on any error the source is closed and a new one opened with a fresh
// token, backing off, asking the server to replay the events after the last one seen
// (`lastEventId`). Each (re)open is also reported, so a view can re-read state (positions are not
// replayed).
// The server ends a stream when its token expires or its user is revoked (disabled, deleted, role
// changed). When the server then refuses the reconnection (EventSource cannot show the status, but
// it closes itself for good on an HTTP error), the token is refreshed once before the next try: a
// changed role gets a token that carries it, and a refused refresh signs the session out.
import { toLivePositions, toTrackingEvent } from '../api/guards.js'
import type { Session } from '../api/session.js'
import type { LivePosition, TrackingEvent } from '../api/types.js'
import { query } from '../api/http.js'

export interface StreamFilter {
  shipmentId?: string
  deviceId?: string
  types?: string[]
  /** ask for `positions` frames (a map needs them, a timeline does not) */
  positions?: boolean
}

export type StreamState = 'connecting' | 'live' | 'reconnecting'

export interface StreamHandlers {
  tracking?(event: TrackingEvent): void
  positions?(positions: LivePosition[]): void
  /** after every successful (re)connection */
  opened?(): void
  state?(state: StreamState): void
}

const FIRST_RETRY_MS = 1000
const MAX_RETRY_MS = 15_000

function parse(data: unknown): unknown {
  try { return typeof data === 'string' ? JSON.parse(data) as unknown : null } catch { return null }
}

export class LiveStream {
  private source: EventSource | null = null
  private retryMs = FIRST_RETRY_MS
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private closed = false
  /** id of the last `tracking` frame, for the replay after a reconnection */
  private lastEventId: string | undefined
  /** the server refused the last connection: refresh the token before the next */
  private refreshNext = false
  /** a refresh was already tried since the last successful connection (once is enough) */
  private refreshed = false

  constructor(private readonly session: Session, private readonly filter: StreamFilter, private readonly handlers: StreamHandlers) {
    void this.open()
  }

  close(): void {
    this.closed = true
    clearTimeout(this.retryTimer)
    this.source?.close()
    this.source = null
  }

  private async open(): Promise<void> {
    this.handlers.state?.(this.source ? 'reconnecting' : 'connecting')
    let token: string
    try {
      if (this.refreshNext) {
        token = await this.session.refresh()
        this.refreshNext = false
        this.refreshed = true
      } else {
        token = await this.session.accessToken()
      }
    } catch {
      if (!this.session.user) return this.close() // signed out (the refresh token was refused): the page goes to sign in
      return this.retry()
    }
    if (this.closed) return
    const { shipmentId, deviceId, types, positions } = this.filter
    const source = new EventSource(`/api/v1/stream${query({
      shipmentId, deviceId, types: types?.join(','), positions: positions ? 'true' : undefined, lastEventId: this.lastEventId, access_token: token,
    })}`)
    this.source = source
    source.addEventListener('open', () => {
      this.retryMs = FIRST_RETRY_MS
      this.refreshed = false
      this.handlers.state?.('live')
      this.handlers.opened?.()
    })
    source.addEventListener('tracking', (message: MessageEvent) => {
      if (message.lastEventId) this.lastEventId = message.lastEventId
      const event = toTrackingEvent(parse(message.data))
      if (event) this.handlers.tracking?.(event)
    })
    source.addEventListener('positions', (message: MessageEvent) => {
      const positions = toLivePositions(parse(message.data))
      if (positions.length > 0) this.handlers.positions?.(positions)
    })
    source.addEventListener('error', () => {
      // CLOSED: the browser gave up on this source, as it does on an HTTP error answer (401 for a
      // revoked or expired token); CONNECTING: the connection dropped or the server ended the stream
      if (source.readyState === EventSource.CLOSED && !this.refreshed) this.refreshNext = true
      source.close()
      if (this.source === source) this.retry()
    })
  }

  private retry(): void {
    if (this.closed) return
    this.handlers.state?.('reconnecting')
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => { void this.open() }, this.retryMs)
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS)
  }
}
