// Vehicles: the tracked assets (trucks, trailers, containers).
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { containsText } from '../../../db/like.js'
import { Nullable, Timestamp, Uuid } from '../../schemas/common.js'
import { crudRoutes, updateOf } from '../crud.js'

const Kind = Type.Union([Type.Literal('truck'), Type.Literal('trailer'), Type.Literal('container'), Type.Literal('van'), Type.Literal('other')])

export const Vehicle = Type.Object({
  id: Uuid, name: Type.String(), plate: Nullable(Type.String()), kind: Type.String(), carrierId: Nullable(Uuid),
  createdAt: Timestamp, updatedAt: Timestamp,
})

const CreateVehicle = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  plate: Type.Optional(Nullable(Type.String({ maxLength: 20 }))),
  kind: Type.Optional(Kind),
  carrierId: Type.Optional(Nullable(Uuid)),
}, { additionalProperties: false })

const vehicles: FastifyPluginAsync = async (app) => {
  crudRoutes(app, {
    noun: 'vehicle', tag: 'vehicles', item: Vehicle, createBody: CreateVehicle, updateBody: updateOf(CreateVehicle),
    filters: Type.Object({ q: Type.Optional(Type.String({ maxLength: 100 })), carrierId: Type.Optional(Uuid), kind: Type.Optional(Kind) }),
    where: (q) => ({
      ...(q['q'] ? { OR: [{ name: containsText(q['q'] as string) }, { plate: containsText(q['q'] as string) }] } : {}),
      ...(q['carrierId'] ? { carrierId: q['carrierId'] } : {}),
      ...(q['kind'] ? { kind: q['kind'] } : {}),
    }),
    delegate: (db) => db.vehicle,
    usedBy: 'devices or shipments',
    references: { carrierId: { noun: 'carrier', delegate: (db) => db.carrier } },
  })
}
export default vehicles
