// SUBSCRIBE: a device may subscribe only to its own command topic; an integration to anything under
// its tenant (events, devices' telemetry). Everything else, $SYS included, gets a failure return
// code in the SUBACK (0x80) and the connection stays up.
import type { Client, Subscription } from 'aedes'
import { deviceTopic } from '../../contracts/topics.js'
import type { Logger } from '../../logger.js'
import type { Metrics } from '../../metrics.js'
import { principalOf } from '../principal.js'

export function allowedSubscription(client: Client, topic: string): boolean {
  const principal = principalOf(client)
  if (!principal) return false
  if (principal.kind === 'device') return topic === deviceTopic(principal.tenantSlug, principal.deviceId, 'commands')
  // the first two levels must be literal, so no wildcard can reach another tenant or $SYS
  const [root, tenant, next] = topic.split('/')
  return root === 'tenants' && tenant === principal.tenantSlug && next !== undefined
}

export function authorizeSubscribeHook(deps: { metrics: Metrics, log: Logger }) {
  return (client: Client, subscription: Subscription, callback: (error: Error | null, subscription?: Subscription | null) => void) => {
    if (allowedSubscription(client, subscription.topic)) return callback(null, subscription)
    deps.metrics.aclDenials.inc({ action: 'subscribe' })
    deps.log.warn({ clientId: client.id, topic: subscription.topic.slice(0, 200) }, 'mqtt subscription refused')
    callback(null, null)
  }
}
