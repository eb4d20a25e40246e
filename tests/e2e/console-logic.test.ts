// The console's pure pieces, in Node: the mosquitto_pub example (a secret must survive the shell),
// how a device's status is read from its fix, and the checks on stream frames. No browser needed.
import { describe, expect, it } from 'vitest'
import { mosquittoPub, telemetryTopic } from '../../console/src/views/devices/mosquitto.js'
import { deviceStatus } from '../../console/src/views/map/status.js'
import { toLivePositions, toTrackingEvent, toTrackingEvents } from '../../console/src/api/guards.js'

describe('the mosquitto_pub example', () => {
  const example = { host: '127.0.0.1', port: 1884, deviceId: 'dev_abc', tenant: 'acme', secret: 's3cr3t', now: 1_700_000_000_000 }

  it('connects as the device (client id, tenant as username, secret as password) and publishes one reading on its telemetry topic', () => {
    const command = mosquittoPub(example)
    expect(command).toContain("-h '127.0.0.1'")
    expect(command).toContain('-p 1884')
    expect(command).toContain("-i 'dev_abc'")
    expect(command).toContain("-u 'acme'")
    expect(command).toContain("-P 's3cr3t'")
    expect(command).toContain("-t 'tenants/acme/devices/dev_abc/telemetry'")
    const reading = /-m '(.*)'$/s.exec(command)?.[1]
    expect(JSON.parse(reading ?? 'null')).toMatchObject({ ts: 1_700_000_000_000, lat: expect.any(Number), lon: expect.any(Number) })
    expect(telemetryTopic('acme', 'dev_abc')).toBe('tenants/acme/devices/dev_abc/telemetry')
  })

  it('quotes for the shell, so a quote or a $ in a value stays literal', () => {
    expect(mosquittoPub({ ...example, secret: "a'b$c" })).toContain(`-P 'a'\\''b$c'`)
  })

  it('leaves a placeholder when the node does not know its MQTT port', () => {
    expect(mosquittoPub({ ...example, port: null })).toContain('-p <mqtt-port>')
  })
})

describe('device status on the map', () => {
  it.each([
    [false, 20, 'offline'], [true, null, 'stopped'], [true, 0.4, 'stopped'], [true, 1, 'moving'], [true, 25, 'moving'],
  ] as const)('online=%s speed=%s → %s', (online, speed, status) => {
    expect(deviceStatus(online, speed)).toBe(status)
  })
})

describe('stream frames and timeline items', () => {
  const event = { id: 7, type: 'arrived', ts: '2026-01-01T00:00:00.000Z', source: 'rule', shipmentId: 's', stopId: null, vehicleId: null, deviceId: 'd', payload: { a: 1 } }

  it('keeps well-formed events and drops anything else', () => {
    expect(toTrackingEvent(event)).toEqual(event)
    expect(toTrackingEvent({ ...event, id: '7' })).toBeNull()
    expect(toTrackingEvent(null)).toBeNull()
    expect(toTrackingEvents({ items: [event, { nonsense: true }] })).toEqual([event])
  })

  it('reads positions frames, with null speed and heading when the device did not say', () => {
    expect(toLivePositions([{ deviceId: 'd', ts: '2026-01-01T00:00:00Z', lat: 45, lon: 4, speed: null, heading: null }, { deviceId: 'x' }]))
      .toEqual([{ deviceId: 'd', ts: '2026-01-01T00:00:00Z', lat: 45, lon: 4, speed: null, heading: null }])
    expect(toLivePositions({ not: 'an array' })).toEqual([])
  })
})
