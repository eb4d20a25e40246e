// Outbound webhooks (docs/webhooks.md). Admins of the tenant manage them; operators and viewers may
// read them, never their secret, which is returned only when a webhook is created or its secret
// rotated. Every query goes through the tenant-scoped client: another tenant's webhook is a 404.
// The URL is checked against the SSRF rules here, and again at every delivery.
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError, notFound } from '../../../errors.js'
import type { Webhook as WebhookRow } from '../../../generated/prisma/client.js'
import { newWebhookSecret } from '../../../webhooks/signature.js'
import { checkUrlNow } from '../../../webhooks/ssrf.js'
import { Page, PageQuery, errors } from '../../schemas/common.js'
import type { ApiContext } from '../../context.js'
import deliveries from './deliveries.js'
import { CreateWebhook, Created, UpdateWebhook, Webhook, WebhookParams } from './schemas.js'

/** Webhooks per tenant at most: each one is written for every matching event on the ingestion path. */
export const WEBHOOKS_PER_TENANT = 20

export const webhookView = (w: WebhookRow) => ({
  id: w.id, url: w.url, eventTypes: w.eventTypes, enabled: w.enabled, description: w.description, createdAt: w.createdAt, updatedAt: w.updatedAt,
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
    return { items: items.map(webhookView), total, limit, offset }
  })

  app.get('/:id', {
    schema: { tags, summary: 'Get a webhook with its delivery health (without its secret)', params: WebhookParams, response: { 200: Webhook, ...errors(400, 401, 403, 404) } },
    config: { access: 'read' },
  }, async (request) => {
    const webhook = await request.db.webhook.findUnique({ where: { id: request.params.id } })
    if (!webhook) throw notFound('webhook')
    return webhookView(webhook)
  })

  app.post('/', {
    schema: {
      tags, summary: 'Create a webhook: the tenant\'s events stored from now on are POSTed to its URL, signed; the answer holds the secret, shown only this once',
      body: CreateWebhook, response: { 201: Created, ...errors(400, 401, 403, 409) },
    },
    config: { access: 'admin' },
  }, async (request, reply) => {
    const url = await checked(request.body.url)
    if (await request.db.webhook.count() >= WEBHOOKS_PER_TENANT) {
      throw new AppError(409, 'WEBHOOK_LIMIT', `a tenant has at most ${WEBHOOKS_PER_TENANT} webhooks; delete one first`)
    }
    const secret = newWebhookSecret()
    const webhook = await request.db.webhook.create({
      data: { ...request.body, url, secret, tenantId: request.principal.tid },
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
