// GET /dead-letters: the payloads ingestion refused (bad JSON, schema failures, bad times, batches
// too large, …) with their code and reason. Over MQTT a refused reading is acknowledged all the same
// (MQTT 3.1.1 has no negative PUBACK), so this is where a device integrator finds out why.
// `read` access like positions: a payload can hold positions, which every role may already read.
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { notFound } from '../../../errors.js'
import { getDeadLetter, listDeadLetters, type DeadLetterRow } from '../../../db/dead-letter-reads.js'
import { DEAD_LETTER_PAYLOAD_LIMIT } from '../../../db/dead-letters.js'
import { errors } from '../../schemas/common.js'
import type { ApiContext } from '../../context.js'
import { deadLetterCursor, parseDeadLetterCursor, timeRange } from '../tracking/paging.js'
import { LIST_PAYLOAD_BYTES, payloadView } from './payload.js'
import { DeadLetter, DeadLetterPage, DeadLetterParams, DeadLettersQuery } from './schemas.js'

const view = (r: DeadLetterRow, maxBytes: number) => ({
  id: r.id, deviceId: r.deviceId, topic: r.topic, code: r.code, reason: r.reason, receivedAt: r.receivedAt,
  ...payloadView(r.payload, r.storedBytes, maxBytes),
})

const deadLetters: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['ingestion']

  app.get('/', {
    schema: {
      tags, summary: 'Payloads ingestion refused, with code and reason (newest first); each payload shows its first 4 KiB',
      querystring: DeadLettersQuery, response: { 200: DeadLetterPage, ...errors(400, 401, 403) },
    },
    config: { access: 'read' },
  }, async (request) => {
    const q = request.query
    const after = parseDeadLetterCursor(q.cursor)
    // a device filter, like /events?deviceId=: an unknown (or deleted, or another tenant's) device
    // matches nothing; dead letters outlive their device, so its id still finds them
    const page = await listDeadLetters(ctx.db.pool, request.principal.tid, {
      ...timeRange(q.from, q.to), limit: q.limit, payloadBytes: LIST_PAYLOAD_BYTES,
      ...(q.deviceId !== undefined ? { deviceId: q.deviceId } : {}),
      ...(q.code !== undefined ? { codes: q.code.split(',') } : {}),
      ...(after ? { after } : {}),
    })
    const last = page.items.at(-1)
    return {
      items: page.items.map((r) => view(r, LIST_PAYLOAD_BYTES)),
      nextCursor: page.hasMore && last ? deadLetterCursor({ receivedAt: last.receivedAt.getTime(), id: last.id }) : null,
    }
  })

  app.get('/:id', {
    schema: {
      tags, summary: 'One dead letter with its whole stored payload (the first 64 KiB of what was sent)',
      params: DeadLetterParams, response: { 200: DeadLetter, ...errors(400, 401, 403, 404) },
    },
    config: { access: 'read' },
  }, async (request) => {
    const row = await getDeadLetter(ctx.db.pool, request.principal.tid, request.params.id)
    if (!row) throw notFound('dead letter')
    return view(row, DEAD_LETTER_PAYLOAD_LIMIT)
  })
}
export default deadLetters
