// GET /devices/:id/state: what the processing core knows about a device now (last fix, counters,
// per-feature state) and its presence (connected, last seen).
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { AppError, notFound } from '../../../errors.js'
import { emptyState, type AssetState as CoreState } from '../../../core/state.js'
import { errors } from '../../schemas/common.js'
import { DeviceParams } from '../devices/schemas.js'
import type { ApiContext, DevicePresence } from '../../context.js'
import { AssetState } from './schemas.js'

const iso = (ms: number) => new Date(ms).toISOString()

/** The last accepted fix as the API shows it (ISO times), or null before the first. */
export const lastFixView = (fix: CoreState['lastFix']) => fix ? { ...fix, ts: iso(fix.ts), receivedAt: iso(fix.receivedAt) } : null

export function stateView(state: CoreState, vehicleId: string | null, presence: DevicePresence) {
  const { lastFix, lastDrop } = state
  return {
    deviceId: state.deviceId, vehicleId, version: state.version, fixCount: state.fixCount,
    lastFix: lastFixView(lastFix),
    lastDrop: lastDrop ? { reason: lastDrop.reason, ts: iso(lastDrop.ts) } : null,
    presence, features: state.features,
  }
}

const state: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/devices/:id/state', {
    schema: {
      tags: ['devices'], summary: 'Current asset state: last accepted fix, fix count, last drop, presence, processing features',
      params: DeviceParams, response: { 200: AssetState, ...errors(400, 401, 403, 404, 409) },
    },
    config: { access: 'read' },
  }, async (request) => {
    if (!ctx.state) throw new AppError(409, 'NO_STATE_STORE', 'this node has no asset state store')
    const device = await request.db.device.findUnique({ where: { id: request.params.id }, select: { id: true, vehicleId: true } })
    if (!device) throw notFound('device')
    const key = { tenantId: request.principal.tid, deviceId: device.id }
    const [stored, presence] = await Promise.all([
      ctx.state.get(key),
      ctx.presence?.presenceOf(key.tenantId, [device.id]),
    ])
    return stateView(stored ?? emptyState(key.tenantId, device.id), device.vehicleId,
      presence?.get(device.id) ?? { online: false, lastSeenAt: null, lastFixAt: null })
  })
}
export default state
