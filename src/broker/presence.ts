// Observes connections (events observe, hooks decide): a device is online from its CONNACK until
// its connection ends; the Last Will and explicit status messages arrive through the publish hook.
//
// The connected-devices gauge is the size of a set of live device connections, not a count of
// Aedes' 'client' and 'clientDisconnect' events: those do not pair when connections die while Redis
// is away (a connection whose close waits on Redis is taken over by the device's next one, and
// Aedes then drops the new one from its table when the old one finishes closing, so the new one
// never gets its 'clientDisconnect'). A connection leaves the set on whichever comes first, its
// 'clientDisconnect' or the end of its socket, and only once.
import type { Aedes, Client } from 'aedes'
import type { PresenceStore } from '../core/ports.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import { principalOf, type DevicePrincipal } from './principal.js'

export function watchPresence(aedes: Aedes, presence: PresenceStore, metrics: Metrics, log: Logger): { connected(): number } {
  const live = new Set<Client>()
  // while Redis is away every connection and disconnection fails: said once, and once when it works again
  let failing = false
  const worked = () => {
    if (!failing) return
    failing = false
    log.info('presence updates work again')
  }
  const failed = (p: DevicePrincipal) => (err: unknown) => {
    if (failing) return
    failing = true
    log.error({ err: err instanceof Error ? err.message : String(err), device: p.deviceId }, 'presence update failed (further failures are not logged until one works)')
  }
  const gone = (client: Client, p: DevicePrincipal) => {
    if (!live.delete(client)) return
    metrics.devicesConnected.set(live.size)
    presence.disconnected(p, p.connection, Date.now()).then(worked, failed(p))
  }
  aedes.on('client', (client: Client) => {
    const p = principalOf(client)
    if (p?.kind !== 'device' || live.has(client)) return
    // already closed by the time Aedes registered it (the device gave up while Redis was slow)
    if (client.closed || client.conn.destroyed) return
    live.add(client)
    metrics.devicesConnected.set(live.size)
    client.conn.once('close', () => gone(client, p))
    presence.connected(p, p.connection, Date.now()).then(worked, failed(p))
  })
  aedes.on('clientDisconnect', (client: Client) => {
    const p = principalOf(client)
    if (p?.kind === 'device') gone(client, p)
  })
  return { connected: () => live.size }
}
