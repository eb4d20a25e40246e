// A small Server-Sent Events client over a real HTTP socket, parsing frames the way EventSource
// does (event, id, data lines; comments), so the tests see exactly what a browser would.
import http from 'node:http'
import type { TrackingEventMessage } from '../../../src/contracts/payloads.js'

export interface SseFrame { event: string, data: string, id?: string }

export class SseClient {
  readonly frames: SseFrame[] = []
  readonly comments: string[] = []
  body = ''
  ended = false
  private buffer = ''
  private waiters: Array<() => void> = []

  private constructor(readonly status: number, readonly headers: http.IncomingHttpHeaders, private readonly request: http.ClientRequest) {}

  /** Resolves once the response headers arrived (the subscription is then in place on the server). */
  static connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        const client = new SseClient(res.statusCode ?? 0, res.headers, request)
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => client.receive(chunk))
        res.on('end', () => client.finish())
        res.on('close', () => client.finish())
        res.on('error', () => client.finish())
        resolve(client)
      })
      request.on('error', reject)
    })
  }

  /** Tracking events received so far, parsed. */
  get events(): TrackingEventMessage[] {
    return this.frames.filter((f) => f.event === 'tracking').map((f) => JSON.parse(f.data) as TrackingEventMessage)
  }

  json<T>(): T { return JSON.parse(this.body) as T }

  /** Waits until `check` holds over what was received, or fails after `timeoutMs`. */
  async until(check: (c: SseClient) => boolean, timeoutMs = 5000, what = 'frames'): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!check(this)) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames).slice(0, 1000)}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  close(): void {
    this.request.destroy()
    this.finish()
  }

  private receive(chunk: string): void {
    if (this.status !== 200) {
      this.body += chunk
    } else {
      this.buffer += chunk
      let end: number
      while ((end = this.buffer.indexOf('\n\n')) >= 0) {
        this.parse(this.buffer.slice(0, end))
        this.buffer = this.buffer.slice(end + 2)
      }
    }
    this.wake()
  }

  private parse(block: string): void {
    const frame: SseFrame = { event: 'message', data: '' }
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) { this.comments.push(line.slice(1).trim()); continue }
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') frame.event = value
      else if (field === 'id') frame.id = value
      else if (field === 'data') data.push(value)
    }
    if (data.length === 0) return // retry: lines and comments only
    frame.data = data.join('\n')
    this.frames.push(frame)
  }

  private finish(): void {
    this.ended = true
    this.wake()
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w()
  }
}
