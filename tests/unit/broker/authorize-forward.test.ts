// The broker's last check on every message it hands to a client: a device receives only its own
// commands, an integration only its tenant's topics. Clients can no longer reach a foreign session
// (integration client ids are namespaced by tenant), so the hook is driven directly here: it is the
// defence that holds should a session ever be restored for the wrong principal.
import type { AedesPublishPacket, Client } from 'aedes'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { authorizeForwardHook } from '../../../src/broker/hooks/authorize-forward.js'
import { setPrincipal, type Principal } from '../../../src/broker/principal.js'
import { Metrics } from '../../../src/metrics.js'

const packet = (topic: string) => ({ cmd: 'publish', topic, payload: Buffer.from('{}'), qos: 1, retain: false, dup: false, messageId: 1 }) as unknown as AedesPublishPacket
function clientOf(principal: Principal | null): Client {
  const client = { id: 'c1' } as Client
  if (principal) setPrincipal(client, principal)
  return client
}
const device: Principal = { kind: 'device', tenantId: 't-acme', tenantSlug: 'acme', deviceId: 'dev_1', vehicleId: null, connection: 'dev_1#1' }
const integration: Principal = {
  kind: 'integration', tenantId: 't-acme', tenantSlug: 'acme', userId: 'u1', role: 'operator',
  claims: { typ: 'access', sub: 'u1', tid: 't-acme', ten: 'acme', role: 'operator', sv: 0 }, expiresAt: Number.POSITIVE_INFINITY,
}

describe('authorizeForward', () => {
  const metrics = new Metrics()
  const forward = authorizeForwardHook({ metrics, log: pino({ level: 'silent' }) })
  const denials = async () => (await metrics.aclDenials.get()).values.find((v) => v.labels['action'] === 'forward')?.value ?? 0

  it('hands a device its own commands and nothing else', async () => {
    const mine = packet('tenants/acme/devices/dev_1/commands')
    expect(forward(clientOf(device), mine)).toBe(mine)
    const before = await denials()
    for (const topic of ['tenants/acme/devices/dev_2/commands', 'tenants/acme/devices/dev_1/telemetry', 'tenants/beta/devices/dev_1/commands']) {
      expect(forward(clientOf(device), packet(topic)), topic).toBeNull()
    }
    expect(await denials()).toBe(before + 3)
  })

  it('hands an integration its tenant\'s topics only, and a client without a principal nothing', () => {
    const own = packet('tenants/acme/events/arrived')
    expect(forward(clientOf(integration), own)).toBe(own)
    expect(forward(clientOf(integration), packet('tenants/acme-corp/events/arrived'))).toBeNull()
    expect(forward(clientOf(integration), packet('tenants/beta/devices/dev_9/telemetry'))).toBeNull()
    expect(forward(clientOf(null), own)).toBeNull()
  })
})
