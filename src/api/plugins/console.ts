// Serves the operator console (console/dist, built by `npm run build:console`) at / on the API's
// own origin, so the page and the API share one host and port and need no CORS. Every path the
// server does not own answers with index.html (the console routes in the browser); the server's
// own paths (/api, /docs, /metrics…) keep their answers and their JSON 404s. Without a build, /
// says how to make one: the API works the same either way.
import { stat } from 'node:fs/promises'
import path from 'node:path'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import fastifyStatic from '@fastify/static'
import { fromRoot } from '../../paths.js'
import type { ApiContext } from '../context.js'

export interface ConsoleOptions {
  ctx: Pick<ApiContext, 'config' | 'log'>
  /** the built console; console/dist by default */
  distDir?: string
}

/** Paths the server answers itself, also when nothing matched (a JSON 404, never the console). */
const SERVER_PATHS = ['/api', '/docs', '/openapi.json', '/metrics', '/health', '/ready', '/mqtt', '/console-config.json']

export const NOT_BUILT = 'The ReTrack console is not built on this node. Run `npm run build` (or `npm run build:console`), then reload.\n' +
  'The API is at /api/v1, its description at /docs.\n'

// The console loads nothing from another origin; the policy makes the browser enforce that.
const CSP = [
  "default-src 'self'", "script-src 'self'", "connect-src 'self'", "img-src 'self' data:",
  // Leaflet positions map panes and markers with inline styles
  "style-src 'self' 'unsafe-inline'", "font-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'", "form-action 'self'",
].join('; ')

const ownedByServer = (urlPath: string) => SERVER_PATHS.some((p) => urlPath === p || urlPath.startsWith(`${p}/`))
/** `/assets/x.js` names a file; `/shipments/42` names a console page. */
const looksLikeFile = (urlPath: string) => path.posix.extname(urlPath) !== ''

function decodePath(url: string): string | null {
  try { return decodeURIComponent(url.split('?')[0] ?? '/') } catch { return null } // malformed %-escapes
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then((s) => s.isFile(), () => false)
}

const consolePlugin: FastifyPluginAsync<ConsoleOptions> = async (app, { ctx, distDir = fromRoot('console', 'dist') }) => {
  const root = path.resolve(distDir)
  const indexFile = path.join(root, 'index.html')
  // serve: false — only reply.sendFile, inside this plugin; the routes below decide what is served
  await app.register(fastifyStatic, { root, serve: false, suppressWarning: true })
  if (!await isFile(indexFile)) ctx.log.warn({ dir: root }, 'console not built: / explains how to build it (npm run build)')

  const sendIndex = (reply: FastifyReply) => reply
    .header('cache-control', 'no-cache')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .sendFile('index.html', { cacheControl: false })

  // what a device needs to connect, for the console's mosquitto_pub example (no secrets here)
  app.get('/console-config.json', { schema: { hide: true }, config: { access: 'public' }, logLevel: 'warn' }, async () => ({
    mqtt: {
      port: ctx.config.EMBEDDED_BROKER && ctx.config.MQTT_PORT !== 0 ? ctx.config.MQTT_PORT : null,
      tlsPort: ctx.config.EMBEDDED_BROKER && ctx.config.MQTT_TLS_CERT && ctx.config.MQTT_TLS_PORT !== 0 ? ctx.config.MQTT_TLS_PORT : null,
    },
  }))

  app.get('/*', { schema: { hide: true }, config: { access: 'public' }, logLevel: 'warn' }, async (request, reply) => {
    const urlPath = decodePath(request.url)
    if (urlPath === null || ownedByServer(urlPath)) return reply.callNotFound()
    if (!await isFile(indexFile)) return reply.type('text/plain; charset=utf-8').send(NOT_BUILT)
    const file = path.join(root, urlPath)
    // path.join normalises "..": anything that lands outside the build is not ours to serve
    if (file.startsWith(root + path.sep) && path.basename(file) !== 'index.html' && await isFile(file)) {
      // hashed names under /assets never change; other files (the icon) may
      const immutable = urlPath.startsWith('/assets/')
      return reply.sendFile(path.relative(root, file), { maxAge: immutable ? '365d' : '1h', immutable })
    }
    if (looksLikeFile(urlPath)) return reply.callNotFound()
    return sendIndex(reply)
  })
}

export default consolePlugin
