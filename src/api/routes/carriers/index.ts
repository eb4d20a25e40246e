// Carriers: the companies that move the freight.
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { containsText } from '../../../db/like.js'
import { Email, Nullable, Timestamp, Uuid } from '../../schemas/common.js'
import { crudRoutes, updateOf } from '../crud.js'

export const Carrier = Type.Object({
  id: Uuid, name: Type.String(), scac: Nullable(Type.String()), email: Nullable(Type.String()), phone: Nullable(Type.String()),
  createdAt: Timestamp, updatedAt: Timestamp,
})

const CreateCarrier = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  scac: Type.Optional(Nullable(Type.String({ pattern: '^[A-Z]{2,4}$', description: 'Standard Carrier Alpha Code' }))),
  email: Type.Optional(Nullable(Email)),
  phone: Type.Optional(Nullable(Type.String({ maxLength: 40 }))),
}, { additionalProperties: false })

const carriers: FastifyPluginAsync = async (app) => {
  crudRoutes(app, {
    noun: 'carrier', tag: 'carriers', item: Carrier, createBody: CreateCarrier, updateBody: updateOf(CreateCarrier),
    filters: Type.Object({ q: Type.Optional(Type.String({ maxLength: 100, description: 'name contains (case-insensitive)' })) }),
    where: (q) => q['q'] ? { name: containsText(q['q'] as string) } : {},
    delegate: (db) => db.carrier,
    usedBy: 'drivers, vehicles or shipments',
  })
}
export default carriers
