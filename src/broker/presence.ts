// Observes connections (events observe, hooks decide): a device is online from its CONNACK until
// its connection ends; the Last Will and explicit status messages arrive through the publish hook.
import type { Aedes, Client } from 'aedes'
import type { PresenceStore } from '../core/ports.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import { principalOf } from './principal.js'

export function watchPresence(aedes: Aedes, presence: PresenceStore, metrics: Metrics, log: Logger): void {
  aedes.on('client', (client: Client) => {
    const p = principalOf(client)
    if (p?.kind !== 'device') return
    metrics.devicesConnected.inc()
    presence.connected(p, p.connection, Date.now()).catch((err: unknown) => log.error({ err, device: p.deviceId }, 'presence update failed'))
  })
  aedes.on('clientDisconnect', (client: Client) => {
    const p = principalOf(client)
    if (p?.kind !== 'device') return
    metrics.devicesConnected.dec()
    presence.disconnected(p, p.connection, Date.now()).catch((err: unknown) => log.error({ err, device: p.deviceId }, 'presence update failed'))
  })
}
