// Liveness (/health: the process answers) and readiness (/ready: the database and every other part
// this node needs answer; a load balancer should route to it only then).
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import type { ApiContext } from '../context.js'

const Health = Type.Object({ status: Type.String(), uptimeS: Type.Number() })
const Ready = Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.Boolean()) })

const health: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get('/health', { schema: { tags: ['health'], security: [], response: { 200: Health } }, config: { access: 'public' }, logLevel: 'warn' },
    async () => ({ status: 'ok', uptimeS: process.uptime() }))

  app.get('/ready', { schema: { tags: ['health'], security: [], response: { 200: Ready, 503: Ready } }, config: { access: 'public' }, logLevel: 'warn' },
    async (_request, reply) => {
      const database = await ctx.db.pool.query('select 1').then(() => true, () => false)
      const others = ctx.readiness ? await ctx.readiness().catch(() => ({ components: false })) : {}
      const checks = { database, ...others }
      const ok = Object.values(checks).every(Boolean)
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks })
    })
}
export default health
