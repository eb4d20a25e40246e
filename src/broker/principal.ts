// Who is on the other end of an MQTT connection, decided once by `authenticate` and kept beside the
// Aedes client (not on it: Aedes' objects stay Aedes').
import type { Client } from 'aedes'
import type { UserClaims } from '../security/tokens.js'

export interface DevicePrincipal {
  kind: 'device'
  tenantId: string
  tenantSlug: string
  deviceId: string
  vehicleId: string | null
  /** unique per connection, so presence ignores a late disconnect of a replaced connection */
  connection: string
}

/** An operator's or admin's integration (user access token as password): reads its tenant, sends commands. */
export interface IntegrationPrincipal {
  kind: 'integration'
  tenantId: string
  tenantSlug: string
  userId: string
  role: 'admin' | 'operator'
  /** the access token's claims: the connection lasts while revokedBecause() finds nothing against them */
  claims: UserClaims
  /** when the access token expires (epoch ms): the connection is closed then (integration-connections.ts) */
  expiresAt: number
}

export type Principal = DevicePrincipal | IntegrationPrincipal

const principals = new WeakMap<Client, Principal>()

export const setPrincipal = (client: Client, principal: Principal) => { principals.set(client, principal) }
export const principalOf = (client: Client | null): Principal | undefined => client ? principals.get(client) : undefined
