// Devices (trackers). Credentials are admin business: creating or rotating returns the secret once
// and stores only its hash; rotating or disabling closes the device's live MQTT connection.
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { containsText, escapeLike } from '../../../db/like.js'
import { AppError, notFound } from '../../../errors.js'
import { hashDeviceSecret, newDeviceId, newDeviceSecret } from '../../../security/device-secrets.js'
import { deviceTopics } from '../../../contracts/topics.js'
import { Page, PageQuery, Uuid, errors } from '../../schemas/common.js'
import { assertReferences, deleteUnlessUsed, type Delegate } from '../crud.js'
import type { ApiContext } from '../../context.js'
import commands from './commands.js'
import { CreateDevice, Credentials, Device, DeviceParams, DeviceTokenResponse, UpdateDevice } from './schemas.js'

const vehicleRef = { vehicleId: { noun: 'vehicle', delegate: (db: Parameters<typeof assertReferences>[0]) => db.vehicle as unknown as Delegate } }

const devices: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['devices']
  await app.register(commands, { ctx })

  const credentials = <D extends { id: string }>(device: D, tenant: string, secret: string) => ({
    device, secret, mqtt: { clientId: device.id, username: tenant, ...deviceTopics(tenant, device.id) },
  })

  app.get('/', {
    schema: {
      tags, summary: 'List devices',
      querystring: Type.Object({ ...PageQuery.properties, vehicleId: Type.Optional(Uuid), enabled: Type.Optional(Type.Boolean()), q: Type.Optional(Type.String({ maxLength: 100 })) }),
      response: { 200: Page(Device), ...errors(400, 401, 403) },
    },
    config: { access: 'read' },
  }, async (request) => {
    const { limit, offset, vehicleId, enabled, q } = request.query
    const where = {
      ...(vehicleId ? { vehicleId } : {}), ...(enabled !== undefined ? { enabled } : {}),
      ...(q ? { OR: [{ name: containsText(q) }, { id: { contains: escapeLike(q) } }] } : {}),
    }
    const [items, total] = await Promise.all([
      request.db.device.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: limit, skip: offset }),
      request.db.device.count({ where }),
    ])
    return { items: await withPresence(ctx, request.principal.tid, items), total, limit, offset }
  })

  app.get('/:id', {
    schema: { tags, summary: 'Get a device with its presence', params: DeviceParams, response: { 200: Device, ...errors(400, 401, 403, 404) } },
    config: { access: 'read' },
  }, async (request) => {
    const device = await request.db.device.findUnique({ where: { id: request.params.id } })
    if (!device) throw notFound('device')
    const [withState] = await withPresence(ctx, request.principal.tid, [device])
    return withState
  })

  app.post('/', {
    schema: { tags, summary: 'Create a device; the answer holds its secret, shown only this once', body: CreateDevice, response: { 201: Credentials, ...errors(400, 401, 403, 404) } },
    config: { access: 'admin' },
  }, async (request, reply) => {
    await assertReferences(request.db, request.body, vehicleRef)
    const secret = newDeviceSecret()
    const device = await request.db.device.create({ data: { ...request.body, id: newDeviceId(), secretHash: hashDeviceSecret(secret) } as never })
    return reply.status(201).send(credentials(device, request.principal.ten, secret))
  })

  app.patch('/:id', {
    schema: { tags, summary: 'Rename a device or attach it to a vehicle', params: DeviceParams, body: UpdateDevice, response: { 200: Device, ...errors(400, 401, 403, 404) } },
    config: { access: 'write' },
  }, async (request) => {
    await assertReferences(request.db, request.body, vehicleRef)
    if (!await request.db.device.findUnique({ where: { id: request.params.id } })) throw notFound('device')
    const device = await request.db.device.update({ where: { id: request.params.id }, data: request.body })
    ctx.changes?.changed({ kind: 'device', tenantId: device.tenantId, id: device.id })
    return device
  })

  app.post('/:id/rotate-secret', {
    schema: { tags, summary: 'Issue a new secret; the old one and tokens issued with it stop working, and a live connection is closed', params: DeviceParams, response: { 200: Credentials, ...errors(400, 401, 403, 404) } },
    config: { access: 'admin' },
  }, async (request) => {
    if (!await request.db.device.findUnique({ where: { id: request.params.id } })) throw notFound('device')
    const secret = newDeviceSecret()
    const device = await request.db.device.update({
      where: { id: request.params.id }, data: { secretHash: hashDeviceSecret(secret), secretVersion: { increment: 1 } },
    })
    ctx.revocations?.revoked(device.tenantId, device.id)
    return credentials(device, request.principal.ten, secret)
  })

  for (const [action, enabled] of [['disable', false], ['enable', true]] as const) {
    app.post(`/:id/${action}`, {
      schema: { tags, summary: enabled ? 'Allow the device to connect again' : 'Refuse the device from now on and close its live connection', params: DeviceParams, response: { 200: Device, ...errors(400, 401, 403, 404) } },
      config: { access: 'admin' },
    }, async (request) => {
      if (!await request.db.device.findUnique({ where: { id: request.params.id } })) throw notFound('device')
      const device = await request.db.device.update({ where: { id: request.params.id }, data: { enabled } })
      if (!enabled) ctx.revocations?.revoked(device.tenantId, device.id)
      else ctx.changes?.changed({ kind: 'device', tenantId: device.tenantId, id: device.id })
      return device
    })
  }

  app.post('/:id/token', {
    schema: { tags, summary: 'Issue a short-lived device JWT (usable as MQTT password)', params: DeviceParams, response: { 200: DeviceTokenResponse, ...errors(400, 401, 403, 404, 409) } },
    config: { access: 'admin' },
  }, async (request) => {
    const device = await request.db.device.findUnique({ where: { id: request.params.id } })
    if (!device) throw notFound('device')
    // the broker and /auth/device-token refuse a disabled device: a token for it would not work
    if (!device.enabled) throw new AppError(409, 'DEVICE_DISABLED', 'this device is disabled: enable it first')
    const token = ctx.tokens.deviceToken({ sub: device.id, tid: device.tenantId, ten: request.principal.ten, sv: device.secretVersion })
    return { tokenType: 'Bearer' as const, token, expiresIn: ctx.tokens.deviceTtlS }
  })

  app.delete('/:id', {
    schema: { tags, summary: 'Delete a device (its positions and events stay)', params: DeviceParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) } },
    config: { access: 'admin' },
  }, async (request, reply) => {
    const device = await request.db.device.findUnique({ where: { id: request.params.id } })
    if (!device) throw notFound('device')
    await deleteUnlessUsed('device', device.id, 'shipments', () => request.db.device.delete({ where: { id: device.id } }))
    ctx.revocations?.revoked(device.tenantId, device.id)
    return reply.status(204).send(null)
  })
}

async function withPresence<T extends { id: string }>(ctx: ApiContext, tenantId: string, devices: T[]) {
  if (!ctx.presence || devices.length === 0) return devices
  const presence = await ctx.presence.presenceOf(tenantId, devices.map((d) => d.id))
  return devices.map((d) => ({ ...d, presence: presence.get(d.id) ?? { online: false, lastSeenAt: null, lastFixAt: null } }))
}

export default devices
