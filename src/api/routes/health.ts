// Liveness (/health: the process answers) and readiness (/ready: the database and every other part
// this node needs answer; a load balancer should route to it only then).
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import type { ApiContext } from '../context.js'

/** longest /ready waits for one check: a dependency that hangs makes this node not ready, /ready still answers */
const CHECK_MS = 2000

function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<T>((resolve) => { timer = setTimeout(() => resolve(fallback), ms) })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

const Health = Type.Object({ status: Type.String(), uptimeS: Type.Number() })
const Ready = Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.Boolean()) })

const health: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get('/health', { schema: { tags: ['health'], security: [], response: { 200: Health } }, config: { access: 'public' }, logLevel: 'warn' },
    async () => ({ status: 'ok', uptimeS: process.uptime() }))

  app.get('/ready', { schema: { tags: ['health'], security: [], response: { 200: Ready, 503: Ready } }, config: { access: 'public' }, logLevel: 'warn' },
    async (_request, reply) => {
      const pending: Record<string, boolean | Promise<boolean>> = { database: ctx.db.pool.query('select 1').then(() => true), ...ctx.readiness?.() }
      const names = Object.keys(pending)
      const results = await Promise.all(names.map((name) => within(Promise.resolve(pending[name]!).catch(() => false), CHECK_MS, false)))
      const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!]))
      const ok = Object.values(checks).every(Boolean)
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks })
    })
}
export default health
