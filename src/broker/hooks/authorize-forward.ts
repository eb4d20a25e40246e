// FORWARD: the last word on every message Aedes hands to a client, live or queued in a persistent
// session. A session belongs to a client id, not to a tenant; integration client ids are namespaced
// by tenant (authenticate), so another tenant cannot claim one, and should a session ever be restored
// for the wrong principal all the same, this checks each message against the subscription rule
// (authorizeSubscribe), so nothing outside the receiver's scope goes out.
import type { AedesPublishPacket, Client } from 'aedes'
import { deviceTopic } from '../../contracts/topics.js'
import type { Logger } from '../../logger.js'
import type { Metrics } from '../../metrics.js'
import { principalOf } from '../principal.js'

export function mayReceive(client: Client, topic: string): boolean {
  const principal = principalOf(client)
  if (!principal) return false
  if (principal.kind === 'device') return topic === deviceTopic(principal.tenantSlug, principal.deviceId, 'commands')
  return topic.startsWith(`tenants/${principal.tenantSlug}/`)
}

export function authorizeForwardHook(deps: { metrics: Metrics, log: Logger }) {
  return (client: Client, packet: AedesPublishPacket): AedesPublishPacket | null => {
    if (mayReceive(client, packet.topic)) return packet
    deps.metrics.aclDenials.inc({ action: 'forward' })
    deps.log.warn({ clientId: client.id, topic: packet.topic.slice(0, 200) }, 'mqtt message withheld from a client outside its scope')
    return null
  }
}
