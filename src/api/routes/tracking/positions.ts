// GET /devices/:id/positions: a device's position history, by event time, keyset-paged.
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { notFound } from '../../../errors.js'
import { listPositions } from '../../../db/read-models.js'
import { errors } from '../../schemas/common.js'
import { DeviceParams } from '../devices/schemas.js'
import type { ApiContext } from '../../context.js'
import { parsePositionCursor, positionCursor, timeRange } from './paging.js'
import { PositionPage, PositionsQuery } from './schemas.js'

const positions: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/devices/:id/positions', {
    schema: {
      tags: ['devices'], summary: 'Position history of a device (event time; fixes a stage filtered out are hidden unless includeFiltered=true)',
      params: DeviceParams, querystring: PositionsQuery, response: { 200: PositionPage, ...errors(400, 401, 403, 404) },
    },
    config: { access: 'read' },
  }, async (request) => {
    const q = request.query
    const after = parsePositionCursor(q.cursor)
    const range = timeRange(q.from, q.to)
    // a device of another tenant is a 404 like a missing one; the query below is tenant-bound anyway
    if (!await request.db.device.findUnique({ where: { id: request.params.id }, select: { id: true } })) throw notFound('device')
    const page = await listPositions(ctx.db.pool, request.principal.tid, request.params.id, {
      ...range, limit: q.limit, order: q.order ?? 'asc', includeFiltered: q.includeFiltered, ...(after !== undefined ? { after } : {}),
    })
    const last = page.items.at(-1)
    return { items: page.items, nextCursor: page.hasMore && last ? positionCursor(last.ts) : null }
  })
}
export default positions
