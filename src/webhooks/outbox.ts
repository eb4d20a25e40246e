// The transactional outbox for events the API stores with Prisma (manual events, cancellations,
// skipped stops): called inside the transaction that created the events, it adds one delivery per
// enabled webhook of the tenant whose types match, so the events and their deliveries commit
// together or not at all. The ingestion path does the same in its INSERT (src/db/tracking-events.ts).
import type { Prisma } from '../generated/prisma/client.js'

/** The part of a (tenant-scoped) Prisma transaction the outbox writes with. */
export type OutboxTx = Pick<Prisma.TransactionClient, 'webhook' | 'webhookDelivery'>

/** An event as Prisma returns it from create / createManyAndReturn. */
export interface OutboxEvent { id: bigint | number, tenantId: string, type: string }

/** Whether a webhook with these types wants an event of this type (none listed: every type). */
export function wants(eventTypes: readonly string[] | null | undefined, type: string): boolean {
  return !eventTypes || eventTypes.length === 0 || eventTypes.includes(type)
}

/** Adds the deliveries of `events` (all of one tenant) in `tx`; returns how many. */
export async function addWebhookDeliveries(tx: OutboxTx, tenantId: string, events: readonly OutboxEvent[]): Promise<number> {
  if (events.length === 0) return 0
  const hooks = await tx.webhook.findMany({ where: { tenantId, enabled: true }, select: { id: true, eventTypes: true } })
  const data = events.flatMap((e) => {
    if (e.tenantId !== tenantId) throw new Error('addWebhookDeliveries: an event of another tenant')
    return hooks.filter((h) => wants(h.eventTypes, e.type)).map((h) => ({ tenantId, webhookId: h.id, eventId: BigInt(e.id) }))
  })
  if (data.length === 0) return 0
  const { count } = await tx.webhookDelivery.createMany({ data, skipDuplicates: true })
  return count
}
