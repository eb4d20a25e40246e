// Shipments with their ordered stops. Reading is for every role, changing for admins and
// operators, deleting for admins. The handlers only translate HTTP: the work is in queries.ts,
// commands.ts and stops.ts.
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Page, errors } from '../../schemas/common.js'
import type { ApiContext } from '../../context.js'
import { callerOf } from './caller.js'
import { assignShipment, cancelShipment, createShipment, deleteShipment, updateShipment } from './commands.js'
import { getShipment, listShipments } from './queries.js'
import { skipStop, updateStop } from './stops.js'
import {
  AssignBody, CancelBody, CreateShipment, ListQuery, ShipmentDetail, ShipmentParams, ShipmentSummary, Stop, StopParams, UpdateShipment, UpdateStop,
} from './schemas.js'

const shipments: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['shipments']
  const caller = (request: Parameters<typeof callerOf>[0]) => callerOf(request, ctx)

  app.get('/', {
    schema: {
      tags, summary: 'List shipments (newest first) with their stop count and next pending stop',
      querystring: ListQuery, response: { 200: Page(ShipmentSummary), ...errors(400, 401, 403) },
    },
    config: { access: 'read' },
  }, async (request) => listShipments(request.db, request.query))

  app.get('/:id', {
    schema: { tags, summary: 'Get a shipment with its route and its stops in order', params: ShipmentParams, response: { 200: ShipmentDetail, ...errors(400, 401, 403, 404) } },
    config: { access: 'read' },
  }, async (request) => getShipment(request.db, request.params.id))

  app.post('/', {
    schema: {
      tags, summary: 'Create a shipment with its stops; every stop gets a circle geofence. Status is assigned when a vehicle or device is given, else planned',
      body: CreateShipment, response: { 201: ShipmentDetail, ...errors(400, 401, 403, 404, 409) },
    },
    config: { access: 'write' },
  }, async (request, reply) => reply.status(201).send(await createShipment(caller(request), ctx.config, request.body)))

  app.patch('/:id', {
    schema: {
      tags, summary: 'Change reference, notes, route or temperature range (only notes once delivered or cancelled)',
      params: ShipmentParams, body: UpdateShipment, response: { 200: ShipmentDetail, ...errors(400, 401, 403, 404, 409) },
    },
    config: { access: 'write' },
  }, async (request) => updateShipment(caller(request), request.params.id, request.body))

  app.patch('/:id/stops/:stopId', {
    schema: {
      tags, summary: 'Change a pending stop (its name and radius are its fence\'s too)',
      params: StopParams, body: UpdateStop, response: { 200: Stop, ...errors(400, 401, 403, 404, 409) },
    },
    config: { access: 'write' },
  }, async (request) => updateStop(caller(request), request.params.id, request.params.stopId, request.body))

  app.post('/:id/stops/:stopId/skip', {
    schema: { tags, summary: 'Mark a pending stop skipped', params: StopParams, response: { 200: Stop, ...errors(400, 401, 403, 404, 409) } },
    config: { access: 'write' },
  }, async (request) => skipStop(caller(request), request.params.id, request.params.stopId))

  app.post('/:id/assign', {
    schema: {
      tags, summary: 'Assign (or with null unassign) carrier, vehicle, driver, device; planned ↔ assigned follows whether a vehicle or device is set',
      params: ShipmentParams, body: AssignBody, response: { 200: ShipmentDetail, ...errors(400, 401, 403, 404, 409) },
    },
    config: { access: 'write' },
  }, async (request) => assignShipment(caller(request), request.params.id, request.body))

  app.post('/:id/cancel', {
    schema: {
      tags, summary: 'Cancel a shipment that is not delivered; records a shipment_cancelled event',
      params: ShipmentParams, body: CancelBody, response: { 200: ShipmentDetail, ...errors(400, 401, 403, 404, 409) },
    },
    config: { access: 'write' },
  }, async (request) => cancelShipment(caller(request), request.params.id, request.body?.reason))

  app.delete('/:id', {
    schema: {
      tags, summary: 'Delete a planned, assigned or cancelled shipment with its stops and their fences (admins)',
      params: ShipmentParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) },
    },
    config: { access: 'admin' },
  }, async (request, reply) => {
    await deleteShipment(caller(request), request.params.id)
    return reply.status(204).send(null)
  })
}
export default shipments
