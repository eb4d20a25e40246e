// GET /positions/latest: where every device of the tenant is now, a page of devices at a time, in
// one request instead of one per device (the live map opens with it; after that it follows the
// stream). The position is the last fix the processing core accepted, from the asset state store.
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { AppError } from '../../../errors.js'
import { errors } from '../../schemas/common.js'
import type { ApiContext } from '../../context.js'
import { deviceCursor, parseDeviceCursor } from './paging.js'
import { LatestPositions, LatestPositionsQuery } from './schemas.js'
import { lastFixView } from './state.js'

const latest: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/positions/latest', {
    schema: {
      tags: ['devices'], summary: 'The current position (last accepted fix) of every device, paged by device id',
      querystring: LatestPositionsQuery, response: { 200: LatestPositions, ...errors(400, 401, 403, 409) },
    },
    config: { access: 'read' },
  }, async (request) => {
    const store = ctx.state
    if (!store) throw new AppError(409, 'NO_STATE_STORE', 'this node has no asset state store')
    const { limit, vehicleId } = request.query
    const after = parseDeviceCursor(request.query.cursor)
    // keyset on the id: a page never repeats or skips a device while devices are added
    const devices = await request.db.device.findMany({
      where: { ...(after !== undefined ? { id: { gt: after } } : {}), ...(vehicleId ? { vehicleId } : {}) },
      select: { id: true, vehicleId: true }, orderBy: { id: 'asc' }, take: limit + 1,
    })
    const page = devices.slice(0, limit)
    const tenantId = request.principal.tid
    const states = await store.getMany(page.map((d) => ({ tenantId, deviceId: d.id })))
    return {
      items: page.map((d, i) => ({ deviceId: d.id, vehicleId: d.vehicleId, lastFix: lastFixView(states[i]?.lastFix ?? null) })),
      nextCursor: devices.length > limit ? deviceCursor(page.at(-1)!.id) : null,
    }
  })
}
export default latest
