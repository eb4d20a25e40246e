// This node's live integration connections (a user's access token as password), for two bounds:
//
// - A connection lasts as long as its token: it is closed when the token's `exp` passes, as the
//   REST API refuses the token then and the SSE stream ends. The integration reconnects with a
//   fresh token (its client id and persistent session are unchanged). A revocation before that
//   (password change, disable, role change, sessions ended) closes it at once: broker.ts
//   disconnectRevokedUser, on every node through the bus.
// - MQTT_INTEGRATIONS_PER_TENANT_MAX live connections per tenant **on this node** (a CONNECT beyond
//   it is refused by the authenticate hook). Per node on purpose: what it protects is this node's
//   memory (each connection holds its subscriptions, its in-flight messages and ~10-20 KB of socket
//   state), and an exact cluster-wide count would need a shared counter that a crashed node leaves
//   wrong. The exposure: with N nodes behind the load balancer a tenant may hold up to N times the
//   cap in all. A client id already connected here is not counted against its own reconnect (Aedes
//   closes the old connection once the new one is accepted), so a half-open socket never locks its
//   integration out.
//
// Device connections have neither bound. A device JWT (DEVICE_TOKEN_TTL_S) opens the connection,
// but what keeps the connection authorized is the device's secret version, checked live: rotating
// the secret or disabling the device closes it at once on every node (the `revocations` bus), as
// for a device that connected with its secret, which has no expiry at all. Ending device
// connections at token expiry would add nothing a rotation does not already do, and would make
// every JWT device of a fleet reconnect each hour (presence offline/online flaps, a reconnect storm
// when a fleet's tokens were issued together).
import type { Client } from 'aedes'
import type { Logger } from '../logger.js'
import type { IntegrationPrincipal } from './principal.js'

/** setTimeout's longest delay (~24.8 days); a later expiry is re-armed when it fires */
const MAX_DELAY_MS = 2 ** 31 - 1

export class IntegrationConnections {
  /** live connections by tenant id */
  private readonly live = new Map<string, Set<Client>>()

  constructor(private readonly perTenantMax: number, private readonly log: Logger) {}

  /**
   * Counts `client` against its tenant until its socket closes and arms the close at its token's
   * expiry. False (nothing done): the tenant already has perTenantMax other connections here.
   */
  admit(client: Client, principal: IntegrationPrincipal): boolean {
    // closed while authenticating: Aedes drops it, and its socket's 'close' may already be past
    if (client.closed || client.conn.destroyed) return true
    let mine = this.live.get(principal.tenantId)
    if (this.perTenantMax > 0 && mine) {
      let others = 0
      for (const c of mine) if (c.id !== client.id) others++
      if (others >= this.perTenantMax) return false
    }
    if (!mine) this.live.set(principal.tenantId, mine = new Set())
    mine.add(client)
    let timer: NodeJS.Timeout | undefined
    const arm = () => {
      timer = setTimeout(() => {
        if (Date.now() < principal.expiresAt) return arm()
        this.log.info({ clientId: client.id, user: principal.userId }, 'integration token expired: connection closed')
        client.close()
      }, Math.min(MAX_DELAY_MS, Math.max(0, principal.expiresAt - Date.now())))
      timer.unref()
    }
    arm()
    client.conn.once('close', () => {
      clearTimeout(timer)
      mine.delete(client)
      if (mine.size === 0 && this.live.get(principal.tenantId) === mine) this.live.delete(principal.tenantId)
    })
    return true
  }
}
