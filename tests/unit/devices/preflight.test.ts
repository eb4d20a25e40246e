import { chmodSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../../devices/config.js'
import { preflight, tenantOfFile } from '../../../devices/preflight.js'

const dir = mkdtempSync(join(tmpdir(), 'sim-preflight-'))
const devicesFile = join(dir, 'devices.json')
writeFileSync(devicesFile, JSON.stringify([{ deviceId: 'd1', secret: 's' }, { deviceId: 'd2', secret: 's' }]))
const login = ['--provision', '--email', 'admin@acme.test', '--password', 'pw']

describe('offline checks before a run touches ReTrack', () => {
  it('reads the devices file (the first --devices of it)', () => {
    expect(preflight(parseConfig(['--tenant', 'acme', '--devices-file', devicesFile, '--devices', '1'], {}))).toEqual([{ deviceId: 'd1', secret: 's' }])
    expect(preflight(parseConfig([...login, '--devices-file', join(dir, 'new.json')], {}))).toBeUndefined()
  })

  it('takes the tenant from --tenant, the devices file (written by --provision) or a login, and refuses a file that disagrees', () => {
    const withTenant = join(dir, 'with-tenant.json')
    writeFileSync(withTenant, JSON.stringify([{ deviceId: 'd1', secret: 's', tenant: 'acme' }, { deviceId: 'd2', secret: 's', tenant: 'acme' }]))
    expect(preflight(parseConfig(['--devices-file', withTenant], {}))).toHaveLength(2)
    expect(tenantOfFile(preflight(parseConfig(['--devices-file', withTenant], {})))).toBe('acme')
    expect(() => preflight(parseConfig(['--devices-file', withTenant, '--tenant', 'other'], {}))).toThrow(/^--tenant other: the devices file .* says its devices belong to tenant acme$/)
    // a hand-written file without one: --tenant, or a login that says which tenant
    expect(() => preflight(parseConfig(['--devices-file', devicesFile], {}))).toThrow(/^--tenant is required with --devices-file .*: the file does not say which tenant/)
    expect(preflight(parseConfig(['--devices-file', devicesFile, '--email', 'a@b.c', '--password', 'pw'], {}))).toHaveLength(2)
    const mixed = join(dir, 'mixed.json')
    writeFileSync(mixed, JSON.stringify([{ deviceId: 'd1', secret: 's', tenant: 'a' }, { deviceId: 'd2', secret: 's', tenant: 'b' }]))
    expect(() => preflight(parseConfig(['--devices-file', mixed], {}))).toThrow(/several tenants \(a, b\)/)
    expect(tenantOfFile(preflight(parseConfig(['--devices-file', mixed, '--devices', '1'], {})))).toBe('a')
  })

  it.each([
    { flags: ['--tenant', 'acme', '--devices-file', join(dir, 'missing.json')], error: /^--devices-file: ENOENT/ },
    { flags: ['--tenant', 'acme', '--devices-file', join(dir, 'empty.json')], error: /^--devices-file .*empty\.json: no devices in it/ },
    { flags: ['--tenant', 'acme', '--devices-file', devicesFile, '--truth-out', join(dir, 'no-such-dir', 'truth.json')], error: /^--truth-out .*: directory .*no-such-dir does not exist/ },
    { flags: [...login, '--devices-file', join(dir, 'no-such-dir', 'devices.json')], error: /^--devices-file .*: directory .*no-such-dir does not exist/ },
    { flags: [...login, '--devices-file', join(dir, 'a-directory')], error: /^--devices-file .*: is a directory/ },
    { flags: [...login, '--devices-file', join(devicesFile, 'new.json')], error: /^--devices-file .*: .*devices\.json is not a directory/ },
  ])('refuses $error, naming the flag (exit 2)', ({ flags, error }) => {
    writeFileSync(join(dir, 'empty.json'), '[]')
    mkdirSync(join(dir, 'a-directory'), { recursive: true })
    const check = () => preflight(parseConfig(flags, {}))
    expect(check).toThrow(ConfigError)
    expect(check).toThrow(error)
  })

  // root writes into a 0500 folder anyway (and so would the run): these two checks mean nothing as root
  const asRoot = process.getuid?.() === 0

  it.skipIf(asRoot)('refuses --provision into a folder it cannot write, before anything is created', () => {
    const readOnly = mkdtempSync(join(tmpdir(), 'sim-preflight-ro-'))
    chmodSync(readOnly, 0o500)
    try {
      const check = () => preflight(parseConfig([...login, '--devices-file', join(readOnly, 'devices.json')], {}))
      expect(check).toThrow(ConfigError)
      expect(check).toThrow(/^--devices-file .*devices\.json: cannot create files in .*sim-preflight-ro-\w+ \(EACCES\); give a --devices-file in a writable folder/)
    } finally {
      chmodSync(readOnly, 0o700)
    }
  })

  it.skipIf(asRoot)('refuses a --truth-out it cannot overwrite', () => {
    const file = join(dir, 'read-only-truth.json')
    writeFileSync(file, '{}')
    chmodSync(file, 0o400)
    const check = () => preflight(parseConfig(['--tenant', 'acme', '--devices-file', devicesFile, '--truth-out', file], {}))
    expect(check).toThrow(/^--truth-out .*read-only-truth\.json: cannot be written \(EACCES\)/)
  })

  it('leaves nothing behind in a folder it checked', () => {
    const clean = mkdtempSync(join(tmpdir(), 'sim-preflight-clean-'))
    expect(preflight(parseConfig([...login, '--devices-file', join(clean, 'devices.json'), '--truth-out', join(clean, 'truth.json')], {}))).toBeUndefined()
    expect(readdirSync(clean)).toEqual([])
  })
})
