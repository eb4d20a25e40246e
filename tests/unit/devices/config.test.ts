import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../../devices/config.js'
import { parseDevicesFile } from '../../../devices/credentials.js'
import { FLAGS, helpText } from '../../../devices/flags.js'

const base = ['--tenant', 'acme', '--devices-file', 'devices.json']

describe('simulator configuration', () => {
  it('has the documented defaults', () => {
    expect(parseConfig(base, {})).toMatchObject({
      url: 'mqtt://localhost:1884', api: 'http://localhost:8080', qos: 1, interval: 5, speedup: 60, routes: 'all',
      rate: 2000, connectRate: 200, noiseM: 4, gapS: 300, dropProb: 0, provision: false, json: false, devices: undefined, maxBatch: 500,
    })
  })

  it('reads a config file with kebab- or camelCase keys; the command line wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-config-'))
    const file = join(dir, 'sim.json')
    writeFileSync(file, JSON.stringify({ tenant: 'acme', 'devices-file': 'd.json', speedup: 600, dropProb: 0.01, json: true, routes: 'random' }))
    const c = parseConfig(['--config', file, '--speedup', '120'], {})
    expect(c).toMatchObject({ tenant: 'acme', devicesFile: 'd.json', speedup: 120, dropProb: 0.01, json: true, routes: 'random' })
    writeFileSync(file, JSON.stringify({ tenant: 'acme', nonsense: 1 }))
    expect(() => parseConfig(['--config', file], {})).toThrow(/unknown key "nonsense"/)
  })

  it.each([
    { args: ['--drop-prob', '1.5'], error: /--drop-prob/ },
    { args: ['--qos', '2'], error: /--qos/ },
    { args: ['--devices', '0'], error: /--devices/ },
    { args: ['--speedup', 'fast'], error: /--speedup/ },
    { args: ['--bbox', '1,2,3'], error: /--bbox/ },
    { args: ['--url', 'http://x'], error: /--url/ },
    { args: ['--no-such-flag'], error: /no-such-flag/ },
    // longitudes outside ±180 would make random routes (and the shipments sent to the API) invalid
    { args: ['--bbox', '170,10,190,20'], error: /--bbox/ },
    { args: ['--bbox=-200,10,-170,20'], error: /--bbox must/ },
    // the tenant is a topic level and the MQTT username: a / + or # makes every topic invalid
    { args: ['--tenant', 'acme/#'], error: /--tenant/ },
    { args: ['--tenant', 'a+b'], error: /--tenant/ },
    // found at parse time (exit 2), not as an exception from the first connection attempt
    { args: ['--url', 'mqtt://127.0.0.1:99999'], error: /--url/ },
    { args: ['--url', 'mqtt://'], error: /--url/ },
    { args: ['--api', 'localhost:8080'], error: /--api/ },
    // new URL() takes port 0 and an empty port; mqtt.js then quietly connects to 1883 instead
    { args: ['--url', 'mqtt://localhost:0'], error: /--url "mqtt:\/\/localhost:0": port 0 is outside 1–65535/ },
    { args: ['--url', 'ws://localhost:0/mqtt'], error: /--url .*port 0 is outside/ },
    { args: ['--url', 'mqtt://user:pw@localhost:0'], error: /--url .*port 0 is outside/ },
    { args: ['--url', 'mqtt://localhost:'], error: /--url .*port after ":" is missing/ },
    { args: ['--url', 'mqtt://[::1]:0'], error: /--url .*port 0 is outside/ },
    { args: ['--url', 'mqtt://localhost:18x3'], error: /--url .*port "18x3" is not a number/ },
    { args: ['--url', 'mqtt://localhost:65536'], error: /--url .*port 65536 is outside/ },
    { args: ['--api', 'http://localhost:0'], error: /--api "http:\/\/localhost:0": port 0 is outside 1–65535/ },
    { args: ['--api', 'http://localhost:'], error: /--api .*port after ":" is missing/ },
    // ReTrack dead-letters a batch over its MQTT_MAX_BATCH (default 1000) whole
    { args: ['--max-batch', '0'], error: /--max-batch must be an integer in \[1, 1000\]/ },
    { args: ['--max-batch', '1001'], error: /--max-batch/ },
    { args: ['--max-batch', '2.5'], error: /--max-batch/ },
    // a typo found before --provision creates anything
    { args: ['--routes', 'uk-m1-london-leed'], error: /--routes: unknown route uk-m1-london-leed; shipped routes: de-a1-hamburg-cologne, / },
    { args: ['--routes', 'uk-m1-london-leeds,nope'], error: /--routes: unknown route nope;/ },
    { args: ['--routes', ','], error: /--routes must be/ },
  ])('refuses $args', ({ args, error }) => {
    expect(() => parseConfig([...base, ...args], {})).toThrow(error)
    expect(() => parseConfig([...base, ...args], {})).toThrow(ConfigError)
  })

  it.each([
    ['--url', 'mqtt://localhost:1'], ['--url', 'mqtt://localhost:65535'], ['--url', 'mqtts://user@broker.example:8883'],
    ['--url', 'ws://localhost:8080/mqtt'], ['--url', 'wss://[::1]:443/mqtt'], ['--url', 'mqtt://[::1]'], ['--api', 'http://localhost'],
    ['--routes', 'uk-m1-london-leeds, de-berlin-city-deliveries'], ['--routes', 'random'], ['--max-batch', '1000'], ['--max-batch', '1'],
  ])('accepts %s %s', (flag, value) => {
    expect(() => parseConfig([...base, flag, value], {})).not.toThrow()
  })

  it('needs credentials: a devices file, or --provision with a login (the tenant is checked with the file: preflight)', () => {
    // no local embedded ReTrack to fall back on (a checkout that ran `npm start` has data/initial-admin-password)
    const noDemo = { DATA_DIR: mkdtempSync(join(tmpdir(), 'sim-empty-')) }
    expect(() => parseConfig([], noDemo)).toThrow(/--devices-file/)
    expect(parseConfig(['--devices-file', 'd.json'], {})).toMatchObject({ devicesFile: 'd.json', tenant: undefined })
    expect(() => parseConfig(['--provision', '--email', 'a@b.c'], {})).toThrow(/--password/)
    expect(parseConfig(['--provision', '--email', 'a@b.c'], { RETRACK_SIM_PASSWORD: 'pw' })).toMatchObject({ provision: true, password: 'pw', devices: 10 })
  })

  it('documents every flag in --help and in docs/simulator.md', () => {
    const help = helpText()
    const docs = readFileSync(new URL('../../../docs/simulator.md', import.meta.url), 'utf8')
    for (const flag of FLAGS) {
      expect(help).toContain(`--${flag.name}`)
      expect(docs).toContain(`--${flag.name}`)
    }
    expect(FLAGS.length).toBeGreaterThanOrEqual(35)
  })

  it('reads a devices file and refuses ids that are not valid MQTT client ids', () => {
    expect(parseDevicesFile('[{"deviceId":"d-1","secret":"s","vehicleId":"v"}]')).toEqual([{ deviceId: 'd-1', secret: 's', vehicleId: 'v' }])
    expect(() => parseDevicesFile('[{"deviceId":"a/b","secret":"s"}]')).toThrow(/client id/)
    expect(() => parseDevicesFile('[{"deviceId":"a"}]')).toThrow(/secret/)
  })

  it('with no credentials provisions as the demo admin of a local embedded ReTrack, and only then', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sim-data-'))
    expect(() => parseConfig(['--devices', '50'], { DATA_DIR: dataDir })).toThrow(/give credentials/)
    writeFileSync(join(dataDir, 'initial-admin-password'), 's3cret-from-first-run\n')
    expect(parseConfig(['--devices', '50'], { DATA_DIR: dataDir })).toMatchObject({
      provision: true, email: 'admin@demo.local', password: 's3cret-from-first-run', devices: 50,
      localDemo: { email: 'admin@demo.local', passwordFile: join(dataDir, 'initial-admin-password') },
    })
    expect(parseConfig([], { DATA_DIR: dataDir }).devices).toBe(10)
    // anything the user gave wins: a devices file, or a login of their own
    const given = parseConfig(base, { DATA_DIR: dataDir })
    expect(given.provision).toBe(false)
    expect(given.localDemo).toBeUndefined()
    expect(() => parseConfig(['--email', 'ops@acme.test'], { DATA_DIR: dataDir })).toThrow(/give credentials/)
  })
})
