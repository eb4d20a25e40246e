// One Server-Sent Events response: frames, comments, a heartbeat, and an end that happens once,
// whoever causes it (client gone, server shutting down, a consumer too slow to keep up).
import type { ServerResponse } from 'node:http'

export interface SseOptions {
  heartbeatMs: number
  /** a client this far behind is disconnected; it reconnects with Last-Event-ID and resumes */
  maxBufferedBytes: number
}

export class SseWriter {
  private closed = false
  private heartbeat: NodeJS.Timeout | null = null
  private readonly onCloseHandlers: Array<() => void> = []

  constructor(private readonly res: ServerResponse, private readonly options: SseOptions) {
    res.on('close', () => this.finish())
  }

  get isClosed(): boolean { return this.closed }

  open(): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // reverse proxies (nginx) buffer responses by default, which would hold frames back
      'x-accel-buffering': 'no',
    })
    // how long EventSource waits before reconnecting; sent first so it holds even for the first drop
    this.write('retry: 3000\n\n')
    this.heartbeat = setInterval(() => this.comment('heartbeat'), this.options.heartbeatMs)
    this.heartbeat.unref()
  }

  /** An event frame. `data` is split on newlines so any text stays one event. */
  send(event: string, data: string, id?: string): void {
    let frame = `event: ${event}\n`
    if (id !== undefined) frame += `id: ${id}\n`
    for (const line of data.split('\n')) frame += `data: ${line}\n`
    this.write(`${frame}\n`)
  }

  comment(text: string): void {
    this.write(`: ${text}\n\n`)
  }

  onClose(handler: () => void): void {
    if (this.closed) handler()
    else this.onCloseHandlers.push(handler)
  }

  close(): void {
    if (this.closed) return
    this.res.end()
    this.finish()
  }

  private write(chunk: string): void {
    if (this.closed) return
    if (this.res.writableLength > this.options.maxBufferedBytes) {
      // not reading: ending politely would wait on the same full buffer
      this.res.destroy()
      return this.finish()
    }
    this.res.write(chunk)
  }

  private finish(): void {
    if (this.closed) return
    this.closed = true
    if (this.heartbeat) clearInterval(this.heartbeat)
    for (const handler of this.onCloseHandlers.splice(0)) handler()
  }
}
