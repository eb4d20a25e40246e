// Shared by the live suites: stored events built like the pipeline's, published the way it does.
import { randomUUID } from 'node:crypto'
import { PASSWORD } from '../../helpers/app.js'
import { nodeApi, type Provisioned, type TestNode } from '../../helpers/server.js'
import { insertTrackingEvents, type NewTrackingEvent, type StoredTrackingEvent } from '../../../src/db/tracking-events.js'

export const ruleEvent = (tenantId: string, type: string, extra: Partial<NewTrackingEvent> = {}): NewTrackingEvent => ({
  tenantId, type, ts: Date.now(), source: 'rule', payload: { note: type }, dedupeKey: `test:${randomUUID()}`, ...extra,
})

/** Stores the events (as the events writer does) without publishing them. */
export async function store(node: TestNode, events: NewTrackingEvent[]): Promise<StoredTrackingEvent[]> {
  const stored = await insertTrackingEvents(node.server.db.pool, events)
  return stored.filter((e): e is StoredTrackingEvent => e !== null)
}

/** Stores and publishes, exactly as the ingestion's onEvents hook does. */
export async function produce(node: TestNode, events: NewTrackingEvent[]): Promise<StoredTrackingEvent[]> {
  const stored = await store(node, events)
  node.server.live.publishEvents(stored)
  return stored
}

/** A viewer of the tenant, created by its admin through the API. */
export async function viewerToken(node: TestNode, tenant: Provisioned): Promise<string> {
  const api = nodeApi(node)
  const email = `viewer-${randomUUID().slice(0, 8)}@${tenant.tenant.slug}.test`
  await api('POST', '/api/v1/users', tenant.adminToken, { email, password: PASSWORD, role: 'viewer' })
  return (await api<{ accessToken: string }>('POST', '/api/v1/auth/login', null, { email, password: PASSWORD })).accessToken
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
