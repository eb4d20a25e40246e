// Commands to a device, delivered over MQTT on its commands topic by whichever node holds its
// connection (in cluster mode the broker fans out through Redis).
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError, notFound } from '../../../errors.js'
import { errors } from '../../schemas/common.js'
import type { ApiContext } from '../../context.js'
import { DeviceParams } from './schemas.js'

const CommandBody = Type.Object({
  type: Type.String({ pattern: '^[a-z][a-z0-9_]{0,47}$', description: 'e.g. set_interval, reboot' }),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
}, { additionalProperties: false })
const Sent = Type.Object({ id: Type.String(), topic: Type.String() })

const commands: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.post('/:id/commands', {
    schema: { tags: ['devices'], summary: 'Send a command to a device (QoS 1 on its commands topic)', params: DeviceParams, body: CommandBody, response: { 202: Sent, ...errors(400, 401, 403, 404, 409) } },
    config: { access: 'write' },
  }, async (request, reply) => {
    if (!ctx.commands) throw new AppError(409, 'NO_BROKER', 'this node runs no MQTT broker')
    const device = await request.db.device.findUnique({ where: { id: request.params.id } })
    if (!device) throw notFound('device')
    // it cannot connect to receive it: say so rather than queue it for a session that may never come back
    if (!device.enabled) throw new AppError(409, 'DEVICE_DISABLED', 'this device is disabled: enable it first')
    const command = { id: randomUUID(), type: request.body.type, ts: Date.now(), ...(request.body.data ? { data: request.body.data } : {}) }
    await ctx.commands.send(request.principal.ten, device.id, command)
    return reply.status(202).send({ id: command.id, topic: `tenants/${request.principal.ten}/devices/${device.id}/commands` })
  })
}
export default commands
