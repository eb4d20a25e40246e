// PostgreSQL text and jsonb cannot hold the NUL character (U+0000): a string with one would reach
// the database and come back as a 500. Refused here instead, before schema validation, as a 400
// that names the field the way the validator does ("body/stops/0/name").
import fp from 'fastify-plugin'
import { AppError } from '../../errors.js'

/** The path (`/a/0/b`) of the first string or key holding U+0000, or null. */
export function nulPath(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return null
  for (const [key, item] of Object.entries(value)) {
    const at = `${path}/${key}`
    if (key.includes('\u0000')) return at
    const found = nulPath(item, at)
    if (found !== null) return found
  }
  return null
}

export default fp(async function textPlugin(app) {
  app.addHook('preValidation', async (request) => {
    for (const [part, value] of [['querystring', request.query], ['body', request.body]] as const) {
      const path = nulPath(value)
      if (path !== null) {
        throw new AppError(400, 'VALIDATION', `${part}${path} must not contain the NUL character (\\u0000)`, [{ path, message: 'must not contain the NUL character' }])
      }
    }
  })
}, { name: 'text', dependencies: ['errors'] })
