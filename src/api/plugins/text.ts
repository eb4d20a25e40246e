// Text PostgreSQL cannot store (U+0000, an unpaired surrogate) or a body nested without bound would
// reach the database (or overflow a recursion) and come back as a 500 (src/db/storable.ts). Refused
// here instead, before schema validation, as a 400 that names the field the way the validator does
// ("body/stops/0/name").
import fp from 'fastify-plugin'
import { unstorable } from '../../db/storable.js'
import { AppError } from '../../errors.js'

export default fp(async function textPlugin(app) {
  app.addHook('preValidation', async (request) => {
    for (const [part, value] of [['querystring', request.query], ['body', request.body]] as const) {
      const found = unstorable(value)
      if (found) throw new AppError(400, 'VALIDATION', `${part}${found.path} ${found.reason}`, [{ path: found.path, message: found.reason }])
    }
  })
}, { name: 'text', dependencies: ['errors'] })
