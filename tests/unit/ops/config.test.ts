// Configuration: every bad value, or settings that contradict each other, are refused with the
// setting's name and never its value (a URL may carry a password).
import { describe, expect, it } from 'vitest'
import { ConfigError, EX_CONFIG, loadConfig } from '../../../src/config.js'
import { jwtSecretProblem } from '../../../src/secrets.js'

const SECRET = 'hunter2-s3cret'

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as Error).message
  }
  throw new Error(`accepted ${JSON.stringify(Object.keys(env))}`)
}

describe('loadConfig refuses', () => {
  it.each([
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', `mysql://u:${SECRET}@db/retrack`],
    ['DATABASE_URL', `postgres://u:${SECRET}@db:99999/retrack`],
    ['DATABASE_URL', `postgres://u:${SECRET}%zz@db/retrack`],
    ['REDIS_URL', `redis://:${SECRET}@127.0.0.1:99999`],
    ['REDIS_URL', `http://:${SECRET}@127.0.0.1:6379`],
    ['REDIS_URL', `${SECRET}`],
    ['EXTERNAL_BROKER_URL', `https://u:${SECRET}@broker`],
  ])('a malformed %s, naming it without its value', (key, value) => {
    const message = refusal({ [key]: value })
    expect(message).toContain(`${key}:`)
    expect(message).not.toContain(SECRET)
  })

  it('MQTT_CLUSTER=on without REDIS_URL', () => {
    expect(refusal({ MQTT_CLUSTER: 'on' })).toMatch(/MQTT_CLUSTER: on needs REDIS_URL/)
  })

  it('half a TLS configuration, and a certificate that is not there', () => {
    expect(refusal({ MQTT_TLS_CERT: '/etc/hostname' })).toMatch(/MQTT_TLS_CERT and MQTT_TLS_KEY/)
    expect(refusal({ MQTT_TLS_CERT: '/nonexistent/cert.pem', MQTT_TLS_KEY: '/etc/hostname' })).toMatch(/MQTT_TLS_CERT: no such file/)
  })

  it('numbers Ajv would coerce from hex, exponent or padded text', () => {
    for (const value of ['0x50', '1e3', '80.0']) expect(refusal({ HTTP_PORT: value })).toMatch(/HTTP_PORT: must be an integer/)
  })

  it('an unknown enum value, listing the allowed ones', () => {
    expect(refusal({ LOG_LEVEL: 'verbose' })).toBe('invalid configuration: LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent')
    expect(refusal({ MQTT_CLUSTER: 'yes' })).toMatch(/MQTT_CLUSTER: must be one of auto, on, off/)
  })

  it('names every bad setting at once', () => {
    const message = refusal({ HTTP_PORT: 'abc', DB_POOL_MAX: '-5', NODE_ENV: 'prod' })
    for (const key of ['HTTP_PORT', 'DB_POOL_MAX', 'NODE_ENV']) expect(message).toContain(`${key}:`)
  })
})

describe('loadConfig accepts', () => {
  it('well-formed URLs, a socket-only PostgreSQL URL and percent-encoded passwords', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql:///retrack?host=/var/run/postgresql', REDIS_URL: 'rediss://:p%40ss@redis.example:6380/2',
      EXTERNAL_BROKER_URL: 'mqtts://broker.example:8883', HTTP_PORT: ' 8081 ',
    })
    expect(config.HTTP_PORT).toBe(8081)
    expect(config.REDIS_URL).toBe('rediss://:p%40ss@redis.example:6380/2')
  })
})

describe('JWT_SECRET', () => {
  it('is required in production, not elsewhere', () => {
    expect(jwtSecretProblem({ NODE_ENV: 'production', JWT_SECRET: undefined })).toMatch(/JWT_SECRET is required in production/)
    expect(jwtSecretProblem({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) })).toBeNull()
    expect(jwtSecretProblem({ NODE_ENV: 'development', JWT_SECRET: undefined })).toBeNull()
  })
})

describe('BOOTSTRAP_* (first run)', () => {
  const all = { BOOTSTRAP_TENANT: 'acme', BOOTSTRAP_EMAIL: 'admin@acme.example', BOOTSTRAP_PASSWORD: SECRET }

  it('go together: a part of them is refused, naming what is missing', () => {
    expect(refusal({ BOOTSTRAP_TENANT: 'acme', BOOTSTRAP_EMAIL: 'admin@acme.example' }))
      .toBe('invalid configuration: BOOTSTRAP_PASSWORD: missing (BOOTSTRAP_TENANT, BOOTSTRAP_EMAIL, BOOTSTRAP_PASSWORD go together: set all three or none)')
    const onlyPassword = refusal({ BOOTSTRAP_PASSWORD: SECRET })
    expect(onlyPassword).toMatch(/^invalid configuration: BOOTSTRAP_TENANT, BOOTSTRAP_EMAIL: missing/)
    expect(onlyPassword).not.toContain(SECRET)
    expect(refusal({ BOOTSTRAP_EMAIL: 'admin@acme.example', BOOTSTRAP_PASSWORD: '' }))
      .toMatch(/^invalid configuration: BOOTSTRAP_TENANT, BOOTSTRAP_PASSWORD: missing/) // empty is unset
  })

  it('follow the API\'s rules for a tenant and its admin, never quoting the password', () => {
    expect(refusal({ ...all, BOOTSTRAP_TENANT: 'Acme Corp' })).toMatch(/BOOTSTRAP_TENANT: must be 1-48 lowercase letters/)
    expect(refusal({ ...all, BOOTSTRAP_EMAIL: 'not an email' })).toMatch(/BOOTSTRAP_EMAIL: must be an email address/)
    const short = refusal({ ...all, BOOTSTRAP_PASSWORD: 'shrt5' })
    expect(short).toMatch(/BOOTSTRAP_PASSWORD: must NOT have fewer than 8 characters/)
    expect(short).not.toContain('shrt5')
    expect(refusal({ ...all, BOOTSTRAP_PASSWORD: 'x'.repeat(201) })).toMatch(/BOOTSTRAP_PASSWORD: must be at most 200 characters/)
  })

  it('refuse a well-known placeholder password (whatever its case or punctuation), never quoting it', () => {
    for (const password of ['change-me-please', 'CHANGE-ME-PLEASE', 'change_me', 'changeme', 'Change Me!', 'password', 'Password123', 'retrack123', 'admin123']) {
      expect(refusal({ ...all, BOOTSTRAP_PASSWORD: password }))
        .toBe('invalid configuration: BOOTSTRAP_PASSWORD: is a well-known placeholder (change-me, password, admin…): choose a password of your own')
    }
    // a ConfigError: the server and the CLI exit with EX_CONFIG
    expect(() => loadConfig({ ...all, BOOTSTRAP_PASSWORD: 'change-me-please' })).toThrow(ConfigError)
    expect(EX_CONFIG).toBe(78)
    expect(loadConfig({ ...all, BOOTSTRAP_PASSWORD: 'please change me later, thanks' }).BOOTSTRAP_PASSWORD).toBeDefined()
  })

  it('all three, or none, are accepted', () => {
    expect(loadConfig(all).BOOTSTRAP_TENANT).toBe('acme')
    expect(loadConfig({}).BOOTSTRAP_TENANT).toBeUndefined()
  })
})

describe('LOGIN_* (login throttling)', () => {
  it('default to 5 failures per email, 20 per address and a first wait of 60 s; 0 turns a rule off', () => {
    expect(loadConfig({})).toMatchObject({ LOGIN_MAX_FAILURES: 5, LOGIN_IP_MAX_FAILURES: 20, LOGIN_LOCKOUT_S: 60 })
    expect(loadConfig({ LOGIN_MAX_FAILURES: '0', LOGIN_IP_MAX_FAILURES: '0' })).toMatchObject({ LOGIN_MAX_FAILURES: 0, LOGIN_IP_MAX_FAILURES: 0 })
    expect(refusal({ LOGIN_LOCKOUT_S: '0' })).toMatch(/LOGIN_LOCKOUT_S: must be >= 1/)
  })
})

describe('DB_QUERY_TIMEOUT_MS', () => {
  it('defaults to 30 s; 0 (no limit) is allowed, a negative one is not', () => {
    expect(loadConfig({}).DB_QUERY_TIMEOUT_MS).toBe(30_000)
    expect(loadConfig({ DB_QUERY_TIMEOUT_MS: '0' }).DB_QUERY_TIMEOUT_MS).toBe(0)
    expect(refusal({ DB_QUERY_TIMEOUT_MS: '-1' })).toMatch(/DB_QUERY_TIMEOUT_MS: must be >= 0/)
  })
})

describe('RETENTION_*', () => {
  it('default to keeping positions forever, dead letters 30 days, a sweep every hour', () => {
    const config = loadConfig({})
    expect([config.RETENTION_POSITIONS_DAYS, config.RETENTION_DEAD_LETTERS_DAYS, config.RETENTION_SWEEP_INTERVAL_S]).toEqual([0, 30, 3600])
  })

  it('take whole days and an interval of at least a minute', () => {
    expect(loadConfig({ RETENTION_POSITIONS_DAYS: '90', RETENTION_DEAD_LETTERS_DAYS: '0', RETENTION_SWEEP_INTERVAL_S: '60' }))
      .toMatchObject({ RETENTION_POSITIONS_DAYS: 90, RETENTION_DEAD_LETTERS_DAYS: 0, RETENTION_SWEEP_INTERVAL_S: 60 })
    expect(refusal({ RETENTION_DEAD_LETTERS_DAYS: '-1' })).toMatch(/RETENTION_DEAD_LETTERS_DAYS: must be >= 0/)
    expect(refusal({ RETENTION_POSITIONS_DAYS: '7.5' })).toMatch(/RETENTION_POSITIONS_DAYS: must be an integer/)
    expect(refusal({ RETENTION_SWEEP_INTERVAL_S: '10' })).toMatch(/RETENTION_SWEEP_INTERVAL_S: must be >= 60/)
    expect(refusal({ RETENTION_SWEEP_INTERVAL_S: '2147484' })).toMatch(/RETENTION_SWEEP_INTERVAL_S: must be <= 2147483/)
  })

  it('never delete positions the filters still accept (FILTER_MAX_AGE_S)', () => {
    expect(refusal({ RETENTION_POSITIONS_DAYS: '6' })).toBe('invalid configuration: RETENTION_POSITIONS_DAYS: must be 0 (keep forever) or at least FILTER_MAX_AGE_S in days (7)')
    expect(loadConfig({ RETENTION_POSITIONS_DAYS: '7' }).RETENTION_POSITIONS_DAYS).toBe(7)
    expect(loadConfig({ RETENTION_POSITIONS_DAYS: '2', FILTER_MAX_AGE_S: '86400' }).RETENTION_POSITIONS_DAYS).toBe(2)
    expect(refusal({ RETENTION_POSITIONS_DAYS: '1', FILTER_MAX_AGE_S: '86401' })).toMatch(/at least FILTER_MAX_AGE_S in days \(2\)/)
  })
})
