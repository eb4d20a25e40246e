// Outbound webhooks (docs/webhooks.md). Admins of the tenant manage them; operators and viewers may
// read them, never their secret, which is returned only when a webhook is created or its secret
// rotated, nor their URL's query string. Queries go through the tenant-scoped client (another
// tenant's webhook is a 404), except the few raw statements (the create's lock, the reset of a
// head's backoff), which name the tenant themselves.
// The URL is checked against the SSRF rules here, and again at every delivery.
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError, notFound } from '../../../errors.js'
import type { Webhook as WebhookRow } from '../../../generated/prisma/client.js'
import { newWebhookSecret } from '../../../webhooks/signature.js'
import { checkUrlNow } from '../../../webhooks/ssrf.js'
import { leaseMsFor, makeDueNow } from '../../../webhooks/store.js'
import { Page, PageQuery, errors } from '../../schemas/common.js'
import type { ApiContext } from '../../context.js'
import { hasAccess } from '../../plugins/auth.js'
import deliveries from './deliveries.js'
import { CreateWebhook, Created, UpdateWebhook, Webhook, WebhookParams } from './schemas.js'

/** Webhooks per tenant at most: each one is written for every matching event on the ingestion path. */
export const WEBHOOKS_PER_TENANT = 20

/**
 * The URL as a reader other than an admin sees it: without its query string (`https://host/path?…`),
 * where an integrator may have put a token.
 */
export function redactedUrl(url: string): string {
  const q = url.indexOf('?')
  return q < 0 ? url : `${url.slice(0, q)}?…`
}

/** The webhook as the API shows it; `fullUrl` false (readers other than admins) hides the URL's query string. */
export const webhookView = (w: WebhookRow, fullUrl = true) => ({
  id: w.id, url: fullUrl ? w.url : redactedUrl(w.url), eventTypes: w.eventTypes, enabled: w.enabled, description: w.description, createdAt: w.createdAt, updatedAt: w.updatedAt,
  health: { consecutiveFailures: w.consecutiveFailures, lastError: w.lastError, lastSuccessAt: w.lastSuccessAt, lastFailureAt: w.lastFailureAt },
})

const webhooks: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['webhooks']
  const policy = { allowPrivate: ctx.config.WEBHOOK_ALLOW_PRIVATE, allowHttp: ctx.config.WEBHOOK_ALLOW_HTTP }
  /** the URL as it will be called (normalised by the URL parser), once it passed the rules */
  const checked = async (url: string) => (await checkUrlNow(url, policy)).href
  await app.register(deliveries, { ctx })

  app.get('/', {
    schema: { tags, summary: 'List the tenant\'s webhooks (without their secrets)', querystring: PageQuery, response: { 200: Page(Webhook), ...errors(400, 401, 403) } },
    config: { access: 'read' },
  }, async (request) => {
    const { limit, offset } = request.query
    const [items, total] = await Promise.all([
      request.db.webhook.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: limit, skip: offset }),
      request.db.webhook.count(),
    ])
    const full = hasAccess('admin', request.principal)
    return { items: items.map((w) => webhookView(w, full)), total, limit, offset }
  })

  app.get('/:id', {
    schema: { tags, summary: 'Get a webhook with its delivery health (without its secret)', params: WebhookParams, response: { 200: Webhook, ...errors(400, 401, 403, 404) } },
    config: { access: 'read' },
  }, async (request) => {
    const webhook = await request.db.webhook.findUnique({ where: { id: request.params.id } })
    if (!webhook) throw notFound('webhook')
    return webhookView(webhook, hasAccess('admin', request.principal))
  })

  app.post('/', {
    schema: {
      tags, summary: 'Create a webhook: the tenant\'s events stored from now on are POSTed to its URL, signed; the answer holds the secret, shown only this once',
      body: CreateWebhook, response: { 201: Created, ...errors(400, 401, 403, 409) },
    },
    config: { access: 'admin' },
  }, async (request, reply) => {
    const url = await checked(request.body.url)
    const secret = newWebhookSecret()
    const tenantId = request.principal.tid
    // count and create under a per-tenant lock (the tenant's row, FOR NO KEY UPDATE: it does not block
    // the rows referencing the tenant), so parallel creates cannot pass the limit together. The base
    // client, since the tenant-scoped one refuses raw SQL: every query here names the tenant itself.
    const webhook = await ctx.db.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM tenants WHERE id = ${tenantId}::uuid FOR NO KEY UPDATE`
      if (await tx.webhook.count({ where: { tenantId } }) >= WEBHOOKS_PER_TENANT) {
        throw new AppError(409, 'WEBHOOK_LIMIT', `a tenant has at most ${WEBHOOKS_PER_TENANT} webhooks; delete one first`)
      }
      return tx.webhook.create({ data: { ...request.body, url, secret, tenantId } })
    })
    return reply.status(201).send({ webhook: webhookView(webhook), secret })
  })

  app.patch('/:id', {
    schema: { tags, summary: 'Change a webhook\'s URL, event types, description, or enable / disable it', params: WebhookParams, body: UpdateWebhook, response: { 200: Webhook, ...errors(400, 401, 403, 404) } },
    config: { access: 'admin' },
  }, async (request) => {
    const { url, ...rest } = request.body
    const data = { ...rest, ...(url !== undefined ? { url: await checked(url) } : {}) }
    const { count } = await request.db.webhook.updateMany({ where: { id: request.params.id }, data })
    if (count === 0) throw notFound('webhook')
    // enabled again or pointed elsewhere: the head's backoff (earned by the old endpoint, or during an
    // outage) no longer applies; it is due now (left alone while an attempt of it is in flight)
    if (rest.enabled === true || url !== undefined) {
      await makeDueNow(ctx.db.pool, { tenantId: request.principal.tid, webhookId: request.params.id }, leaseMsFor(ctx.config.WEBHOOK_TIMEOUT_MS))
    }
    return webhookView(await request.db.webhook.findUniqueOrThrow({ where: { id: request.params.id } }))
  })

  app.post('/:id/rotate-secret', {
    schema: {
      tags, summary: 'Issue a new secret; deliveries from now on are signed with it only (the old one stops at once); shown only in this answer',
      params: WebhookParams, response: { 200: Created, ...errors(400, 401, 403, 404) },
    },
    config: { access: 'admin' },
  }, async (request) => {
    const secret = newWebhookSecret()
    const { count } = await request.db.webhook.updateMany({ where: { id: request.params.id }, data: { secret } })
    if (count === 0) throw notFound('webhook')
    return { webhook: webhookView(await request.db.webhook.findUniqueOrThrow({ where: { id: request.params.id } })), secret }
  })

  app.delete('/:id', {
    schema: { tags, summary: 'Delete a webhook and its deliveries (pending ones are not sent)', params: WebhookParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404) } },
    config: { access: 'admin' },
  }, async (request, reply) => {
    const { count } = await request.db.webhook.deleteMany({ where: { id: request.params.id } })
    if (count === 0) throw notFound('webhook')
    return reply.status(204).send(null)
  })
}
export default webhooks
