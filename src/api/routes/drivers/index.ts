// Drivers, optionally employed by a carrier.
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { containsText } from '../../../db/like.js'
import { Nullable, Timestamp, Uuid } from '../../schemas/common.js'
import { crudRoutes, updateOf } from '../crud.js'

export const Driver = Type.Object({
  id: Uuid, name: Type.String(), carrierId: Nullable(Uuid), phone: Nullable(Type.String()), licenseNo: Nullable(Type.String()),
  createdAt: Timestamp, updatedAt: Timestamp,
})

const CreateDriver = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  carrierId: Type.Optional(Nullable(Uuid)),
  phone: Type.Optional(Nullable(Type.String({ maxLength: 40 }))),
  licenseNo: Type.Optional(Nullable(Type.String({ maxLength: 60 }))),
}, { additionalProperties: false })

const drivers: FastifyPluginAsync = async (app) => {
  crudRoutes(app, {
    noun: 'driver', tag: 'drivers', item: Driver, createBody: CreateDriver, updateBody: updateOf(CreateDriver),
    filters: Type.Object({ q: Type.Optional(Type.String({ maxLength: 100 })), carrierId: Type.Optional(Uuid) }),
    where: (q) => ({ ...(q['q'] ? { name: containsText(q['q'] as string) } : {}), ...(q['carrierId'] ? { carrierId: q['carrierId'] } : {}) }),
    delegate: (db) => db.driver,
    usedBy: 'shipments',
    references: { carrierId: { noun: 'carrier', delegate: (db) => db.carrier } },
  })
}
export default drivers
