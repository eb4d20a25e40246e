import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../../devices/config.js'
import { preflight } from '../../../devices/preflight.js'

const dir = mkdtempSync(join(tmpdir(), 'sim-preflight-'))
const devicesFile = join(dir, 'devices.json')
writeFileSync(devicesFile, JSON.stringify([{ deviceId: 'd1', secret: 's' }, { deviceId: 'd2', secret: 's' }]))
const login = ['--provision', '--email', 'admin@acme.test', '--password', 'pw']

describe('offline checks before a run touches ReTrack', () => {
  it('reads the devices file (the first --devices of it)', () => {
    expect(preflight(parseConfig(['--tenant', 'acme', '--devices-file', devicesFile, '--devices', '1'], {}))).toEqual([{ deviceId: 'd1', secret: 's' }])
    expect(preflight(parseConfig([...login, '--devices-file', join(dir, 'new.json')], {}))).toBeUndefined()
  })

  it.each([
    { flags: ['--tenant', 'acme', '--devices-file', join(dir, 'missing.json')], error: /^--devices-file: ENOENT/ },
    { flags: ['--tenant', 'acme', '--devices-file', join(dir, 'empty.json')], error: /^--devices-file .*empty\.json: no devices in it/ },
    { flags: ['--tenant', 'acme', '--devices-file', devicesFile, '--truth-out', join(dir, 'no-such-dir', 'truth.json')], error: /^--truth-out .*: directory .*no-such-dir does not exist/ },
    { flags: [...login, '--devices-file', join(dir, 'no-such-dir', 'devices.json')], error: /^--devices-file .*: directory .*no-such-dir does not exist/ },
    { flags: [...login, '--devices-file', join(dir, 'a-directory')], error: /^--devices-file .*: is a directory/ },
  ])('refuses $error, naming the flag (exit 2)', ({ flags, error }) => {
    writeFileSync(join(dir, 'empty.json'), '[]')
    mkdirSync(join(dir, 'a-directory'), { recursive: true })
    const check = () => preflight(parseConfig(flags, {}))
    expect(check).toThrow(ConfigError)
    expect(check).toThrow(error)
  })
})
