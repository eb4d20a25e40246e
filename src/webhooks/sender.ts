// One HTTP POST to a webhook, with the rules of docs/webhooks.md: the URL checked again (and the
// connection made only to an address checked after resolution, src/webhooks/ssrf.ts), one deadline
// for connecting, sending and the response headers, redirects not followed, and at most a few
// hundred bytes of an error response kept (as text, for the delivery's last error).
import http from 'node:http'
import https from 'node:https'
import { checkUrl, guardedLookup, type UrlPolicy } from './ssrf.js'

export type SendOutcome =
  | { kind: 'delivered', statusCode: number }
  /** a response that is not 2xx (a redirect included: never followed) */
  | { kind: 'rejected', statusCode: number, error: string }
  /** no usable response: refused URL or address, DNS, connection, TLS, timeout */
  | { kind: 'unreachable', error: string }
  /** stopped by the caller (the node is shutting down): not the endpoint's fault */
  | { kind: 'aborted' }

export interface SenderOptions extends UrlPolicy {
  timeoutMs: number
}

/** Bytes of an error response body read for the delivery's last error; the rest is discarded. */
const ERROR_BODY_BYTES = 256
/** Longest error text stored with a delivery or a webhook. */
export const ERROR_TEXT_MAX = 300

/** One line of printable text, cut to `max` characters: response bodies come from anywhere. */
export function errorText(text: string, max = ERROR_TEXT_MAX): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s{2,}/g, ' ').trim()
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean
}

export class WebhookSender {
  private readonly lookup: ReturnType<typeof guardedLookup>
  // keep-alive: one delivery after another to the same endpoint reuses its connection (and TLS session)
  private readonly agents: { http: http.Agent, https: https.Agent }

  constructor(private readonly options: SenderOptions) {
    this.lookup = guardedLookup(options)
    this.agents = { http: new http.Agent({ keepAlive: true, maxSockets: 16 }), https: new https.Agent({ keepAlive: true, maxSockets: 16 }) }
  }

  /** POSTs `body`; never throws: every failure is an outcome. */
  send(target: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<SendOutcome> {
    let url: URL
    try { url = checkUrl(target, this.options) } catch (err) { return Promise.resolve({ kind: 'unreachable', error: `WEBHOOK_URL_REFUSED: ${(err as Error).message}` }) }
    if (signal.aborted) return Promise.resolve({ kind: 'aborted' })
    const secure = url.protocol === 'https:'
    return new Promise((resolve) => {
      let settled = false
      const settle = (outcome: SendOutcome) => { if (!settled) { settled = true; resolve(outcome) } }
      /** once an error answer's status is known: settles with it and what was read of its body */
      let answered: (() => void) | null = null
      const request = (secure ? https : http).request(url, {
        method: 'POST', agent: secure ? this.agents.https : this.agents.http, lookup: this.lookup,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      }, (res) => {
        const statusCode = res.statusCode ?? 0
        res.on('error', () => undefined) // cut by the deadline or the peer after the outcome is known: nothing to add
        if (statusCode >= 200 && statusCode < 300) {
          settle({ kind: 'delivered', statusCode })
          res.resume() // drained so the connection can be reused; the deadline still bounds it
          return
        }
        const chunks: Buffer[] = []
        let size = 0
        const done = () => {
          const text = errorText(Buffer.concat(chunks).toString('utf8').slice(0, ERROR_BODY_BYTES))
          const redirect = statusCode >= 300 && statusCode < 400 ? ' (redirects are not followed)' : ''
          settle({ kind: 'rejected', statusCode, error: errorText(`HTTP ${statusCode}${redirect}${text ? `: ${text}` : ''}`) })
        }
        answered = done
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk)
          size += chunk.length
          if (size >= ERROR_BODY_BYTES) { done(); res.destroy() }
        })
        res.on('end', done)
        res.on('close', done)
        res.on('error', done)
      })
      const timer = setTimeout(() => request.destroy(Object.assign(new Error(`no answer within ${this.options.timeoutMs} ms`), { code: 'TIMEOUT' })), this.options.timeoutMs)
      const abort = () => { settle({ kind: 'aborted' }); request.destroy() }
      signal.addEventListener('abort', abort, { once: true })
      request.on('close', () => { clearTimeout(timer); signal.removeEventListener('abort', abort) })
      request.on('error', (err: NodeJS.ErrnoException) => {
        if (answered) return answered()
        settle({ kind: 'unreachable', error: errorText(err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message) })
      })
      request.end(body)
    })
  }

  /** Closes idle and open connections (the node is stopping); the sender stays usable. */
  close(): void {
    this.agents.http.destroy()
    this.agents.https.destroy()
  }
}
