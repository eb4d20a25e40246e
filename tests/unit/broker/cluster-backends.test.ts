// Which broker backends a node gets from its configuration. Only the cases that open no Redis
// connection are here; the shared backends themselves are exercised by the two-node tests in
// tests/integration/broker/cluster.test.ts.
import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { clusterBackends } from '../../../src/broker/cluster.js'
import { brokerChannelPrefix, brokerKeyPrefix } from '../../../src/broker/namespaced-emitter.js'

const log = pino({ level: 'silent' })

describe('clusterBackends', () => {
  it('keeps sessions in this node\'s memory when MQTT_CLUSTER is off, even with Redis configured', () => {
    const backends = clusterBackends({ REDIS_URL: 'redis://127.0.0.1:6379', MQTT_CLUSTER: 'off', REDIS_KEY_PREFIX: 'retrack:' }, log)
    expect(backends.clustered).toBe(false)
    expect(backends.options).toEqual({})
  })

  it('keeps them in memory on auto without Redis', () => {
    expect(clusterBackends({ REDIS_URL: undefined, MQTT_CLUSTER: 'auto', REDIS_KEY_PREFIX: 'retrack:' }, log).clustered).toBe(false)
  })

  it('refuses MQTT_CLUSTER=on without Redis', () => {
    expect(() => clusterBackends({ REDIS_URL: undefined, MQTT_CLUSTER: 'on', REDIS_KEY_PREFIX: 'retrack:' }, log)).toThrow(/needs REDIS_URL/)
  })

  it('puts the broker\'s keys and channels under REDIS_KEY_PREFIX, with nothing in the channel prefix that MQTT or a Redis pattern reads', () => {
    expect(brokerKeyPrefix('retrack:')).toBe('retrack:mqtt:')
    expect(brokerChannelPrefix('retrack:')).toBe('retrack:mqtt:')
    const odd = brokerChannelPrefix('a/b+c#d*e?f[g]h\\i%j é')
    expect(odd).toMatch(/^[A-Za-z0-9%:._-]+$/)
    expect(decodeURIComponent(odd)).toBe('a/b+c#d*e?f[g]h\\i%j émqtt:')
    // distinct prefixes never share a channel namespace
    expect(brokerChannelPrefix('a%2F')).not.toBe(brokerChannelPrefix('a/'))
  })
})
