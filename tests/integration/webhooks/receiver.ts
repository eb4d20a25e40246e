// A real HTTP endpoint on 127.0.0.1 standing in for a customer's webhook receiver: it records every
// request (path, headers, raw body) and answers what the test's script says.
import http, { type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { WebhookBody } from '../../../src/webhooks/message.js'

export interface Received {
  path: string
  headers: IncomingHttpHeaders
  /** the raw body, as the signature covers it */
  raw: string
  body: WebhookBody
  /** earlier requests to the same path for the same event */
  previous: number
}

export interface Answer { status?: number, body?: string, headers?: Record<string, string>, delayMs?: number }
export type Script = (r: Received) => Answer | number

export class Receiver {
  readonly received: Received[] = []
  /** most requests one path had open at once */
  readonly maxOpen = new Map<string, number>()
  script: Script = () => 200
  private readonly open = new Map<string, number>()

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<Receiver> {
    const server = http.createServer()
    const receiver = new Receiver(server)
    server.on('request', (req, res) => { receiver.handle(req, res) })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return receiver
  }

  get port(): number { return (this.server.address() as AddressInfo).port }

  url(path: string): string { return `http://127.0.0.1:${this.port}${path}` }

  at(path: string): Received[] { return this.received.filter((r) => r.path === path) }

  /** event ids received on `path`, in arrival order (repeats included) */
  eventIds(path: string): number[] { return this.at(path).map((r) => r.body.id) }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = req.url ?? '/'
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      const body = JSON.parse(raw) as WebhookBody
      const previous = this.received.filter((r) => r.path === path && r.body.id === body.id).length
      const r: Received = { path, headers: req.headers, raw, body, previous }
      this.received.push(r)
      const open = (this.open.get(path) ?? 0) + 1
      this.open.set(path, open)
      this.maxOpen.set(path, Math.max(open, this.maxOpen.get(path) ?? 0))
      const scripted = this.script(r)
      const answer = typeof scripted === 'number' ? { status: scripted } : scripted
      setTimeout(() => {
        this.open.set(path, (this.open.get(path) ?? 1) - 1)
        res.writeHead(answer.status ?? 200, { 'content-type': 'text/plain', ...answer.headers })
        res.end(answer.body ?? 'ok')
      }, answer.delayMs ?? 0)
    })
  }
}
