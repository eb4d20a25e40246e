// Which broker backends a node gets from its configuration. Only the cases that open no Redis
// connection are here; the shared backends themselves are exercised by the two-node tests in
// tests/integration/broker/cluster.test.ts.
import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { clusterBackends } from '../../../src/broker/cluster.js'

const log = pino({ level: 'silent' })

describe('clusterBackends', () => {
  it('keeps sessions in this node\'s memory when MQTT_CLUSTER is off, even with Redis configured', () => {
    const backends = clusterBackends({ REDIS_URL: 'redis://127.0.0.1:6379', MQTT_CLUSTER: 'off' }, log)
    expect(backends.clustered).toBe(false)
    expect(backends.options).toEqual({})
  })

  it('keeps them in memory on auto without Redis', () => {
    expect(clusterBackends({ REDIS_URL: undefined, MQTT_CLUSTER: 'auto' }, log).clustered).toBe(false)
  })

  it('refuses MQTT_CLUSTER=on without Redis', () => {
    expect(() => clusterBackends({ REDIS_URL: undefined, MQTT_CLUSTER: 'on' }, log)).toThrow(/needs REDIS_URL/)
  })
})
