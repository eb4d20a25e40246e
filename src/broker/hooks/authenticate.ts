// CONNECT: clientId = device id, username = tenant slug, password = device secret or a device JWT.
// An operator/admin access token as password makes an integration connection instead; its client
// id is namespaced by its tenant (`acme:erp`), so no tenant can take over another's session by
// reusing its client id, on this node or across a cluster (where Aedes closes the older holder of
// a client id on whichever node it is, before any hook of ours could look at tenants).
// Refusals carry the MQTT 3.1.1 return code; the reason goes to logs and metrics, never the secret.
// A failure of our own (the database is down) is 3, server unavailable: devices retry that, where
// many give up on 4 or 5 as a verdict on their credentials. So is a CONNECT while the clustered
// broker's Redis is unavailable, refused at once before anything else: Aedes would read and write
// the client's session there before its CONNACK and leave the device unanswered for ~10 s
// (tests/integration/broker/redis-outage-connect.test.ts). That is logged once per outage, not
// once per CONNECT (devices retry every few seconds).
// An integration is refused with 5, not authorized, beyond its tenant's caps: live connections on
// this node (MQTT_INTEGRATIONS_PER_TENANT_MAX, integration-connections.ts) and, with clean=false, a
// new persistent session (MQTT_SESSIONS_PER_TENANT_MAX, sessions.ts). 5 and not 3: it is a
// verdict on this request (a client id, a session) that stands until the tenant frees a place, not
// a fault of the server to wait out, and clients and their operators read 3 as "the server is down".
import type { AuthenticateError, Client } from 'aedes'
import { isValidDeviceId, deviceSecretMatches } from '../../security/device-secrets.js'
import type { TokenService } from '../../security/tokens.js'
import { revokedBecause, type UserStatusCache } from '../../security/user-status.js'
import type { DeviceDirectory } from '../../db/device-directory.js'
import { deviceTopic } from '../../contracts/topics.js'
import type { Logger } from '../../logger.js'
import type { Metrics } from '../../metrics.js'
import type { IntegrationConnections } from '../integration-connections.js'
import type { SessionStore } from '../sessions.js'
import { setPrincipal, type Principal } from '../principal.js'

const IDENTIFIER_REJECTED = 2
const SERVER_UNAVAILABLE = 3
const BAD_CREDENTIALS = 4
const NOT_AUTHORIZED = 5

class Refusal extends Error {
  constructor(readonly returnCode: 2 | 3 | 4 | 5, readonly reason: string) { super(`connection refused: ${reason}`) }
}

const jwtShape = /^[\w-]+\.[\w-]+\.[\w-]+$/

export interface AuthenticateDeps {
  directory: DeviceDirectory
  tokens: TokenService
  metrics: Metrics
  log: Logger
  nextConnection: (clientId: string) => string
  users: Pick<UserStatusCache, 'get'>
  /** whether the broker can serve a session now (its Redis sessions connection is ready); absent: always */
  available?: () => boolean
  /** this node's live integration connections: counted per tenant, closed at token expiry */
  integrations: Pick<IntegrationConnections, 'admit'>
  /** the persistent session registry, and the most persistent integration sessions per tenant (0: no limit) */
  sessions: Pick<SessionStore, 'admitSession'>
  sessionsPerTenant: number
}

async function identify(deps: AuthenticateDeps, client: Client, username: string, password: string): Promise<Principal> {
  const clientId = client.id
  if (!isValidDeviceId(clientId)) throw new Refusal(IDENTIFIER_REJECTED, 'invalid_client_id')
  if (!username || !password) throw new Refusal(BAD_CREDENTIALS, 'missing_credentials')

  let tokenVersion: number | null = null
  if (jwtShape.test(password)) {
    let claims
    try { claims = deps.tokens.verify(password) } catch { throw new Refusal(BAD_CREDENTIALS, 'bad_token') }
    if (claims.ten !== username) throw new Refusal(BAD_CREDENTIALS, 'wrong_tenant')
    if (claims.typ === 'access') {
      // the token must still speak for its user: not disabled or deleted, the role unchanged
      if (revokedBecause(claims, await deps.users.get(claims.tid, claims.sub))) throw new Refusal(BAD_CREDENTIALS, 'revoked_token')
      if (claims.role === 'viewer') throw new Refusal(NOT_AUTHORIZED, 'viewer_integration')
      if (!clientId.startsWith(`${claims.ten}:`)) throw new Refusal(IDENTIFIER_REJECTED, 'integration_client_id_not_in_tenant')
      // an integration must not take a device's client id (it would disconnect the device)
      if (await deps.directory.find(clientId)) throw new Refusal(IDENTIFIER_REJECTED, 'integration_uses_device_id')
      const exp = (claims as { exp?: number }).exp
      return {
        kind: 'integration', tenantId: claims.tid, tenantSlug: claims.ten, userId: claims.sub, role: claims.role,
        claims, expiresAt: exp === undefined ? Number.POSITIVE_INFINITY : exp * 1000,
      }
    }
    if (claims.sub !== clientId) throw new Refusal(BAD_CREDENTIALS, 'token_for_other_device')
    tokenVersion = claims.sv
  }

  const device = await deps.directory.find(clientId)
  if (!device) throw new Refusal(BAD_CREDENTIALS, 'unknown_device')
  if (device.tenantSlug !== username) throw new Refusal(BAD_CREDENTIALS, 'wrong_tenant')
  const credentialOk = tokenVersion !== null ? tokenVersion === device.secretVersion : deviceSecretMatches(password, device.secretHash)
  if (!credentialOk) throw new Refusal(BAD_CREDENTIALS, tokenVersion !== null ? 'revoked_token' : 'wrong_secret')
  if (!device.enabled) throw new Refusal(NOT_AUTHORIZED, 'disabled')
  return {
    kind: 'device', tenantId: device.tenantId, tenantSlug: device.tenantSlug, deviceId: device.id,
    vehicleId: device.vehicleId, connection: deps.nextConnection(clientId),
  }
}

/**
 * An integration within its tenant's caps: a place among this node's connections (given back when
 * the socket closes, refused or not), then with clean=false a persistent session (an existing one,
 * or a new one while there is room).
 */
async function admit(deps: AuthenticateDeps, client: Client, principal: Principal): Promise<void> {
  if (principal.kind !== 'integration') return
  if (!deps.integrations.admit(client, principal)) throw new Refusal(NOT_AUTHORIZED, 'integrations_per_tenant_exceeded')
  if (client.clean) return
  if (!await deps.sessions.admitSession(client.id, principal.tenantSlug, deps.sessionsPerTenant, Date.now())) {
    throw new Refusal(NOT_AUTHORIZED, 'sessions_per_tenant_exceeded')
  }
}

/** A Last Will must be the device's own status topic: anything else would let it publish where it may not. */
function willAllowed(client: Client, principal: Principal): boolean {
  const will = (client as Client & { _will?: { topic?: string } | null })._will
  if (!will?.topic) return true
  return principal.kind === 'device' && will.topic === deviceTopic(principal.tenantSlug, principal.deviceId, 'status')
}

export function authenticateHook(deps: AuthenticateDeps) {
  const available = deps.available ?? (() => true)
  /** CONNECTs are being refused because the broker's Redis is unavailable (logged when this began) */
  let unavailable = false
  const refuse = (refusal: Refusal, done: (error: AuthenticateError | null, success: boolean | null) => void) => {
    deps.metrics.authFailures.inc({ reason: refusal.reason })
    done(Object.assign(new Error(refusal.message), { returnCode: refusal.returnCode }), false)
  }
  return (client: Client, username: Readonly<string | undefined>, password: Readonly<Buffer | undefined>,
    done: (error: AuthenticateError | null, success: boolean | null) => void) => {
    if (!available()) {
      if (!unavailable) {
        unavailable = true
        deps.log.warn({ reason: 'broker_unavailable' }, 'broker Redis unavailable: refusing MQTT connections (return code 3) until it is back')
      }
      refuse(new Refusal(SERVER_UNAVAILABLE, 'broker_unavailable'), done)
      return
    }
    if (unavailable) {
      unavailable = false
      deps.log.info('broker Redis back: accepting MQTT connections again')
    }
    identify(deps, client, username ?? '', password?.toString('utf8') ?? '')
      .then(async (principal) => {
        if (!willAllowed(client, principal)) throw new Refusal(NOT_AUTHORIZED, 'will_topic_not_allowed')
        await admit(deps, client, principal)
        setPrincipal(client, principal)
        done(null, true)
      })
      .catch((err: unknown) => {
        const refusal = err instanceof Refusal ? err : new Refusal(SERVER_UNAVAILABLE, 'internal_error')
        if (!(err instanceof Refusal)) deps.log.error({ err, clientId: client.id }, 'authentication failed unexpectedly')
        deps.log.warn({ clientId: client.id.slice(0, 64), tenant: (username ?? '').slice(0, 64), reason: refusal.reason, ip: client.conn && 'remoteAddress' in client.conn ? client.conn.remoteAddress : undefined }, 'mqtt connection refused')
        refuse(refusal, done)
      })
  }
}
