// `npm run retrack -- …`: bad arguments print the usage (exit 64), a bad setting exits 78, and the
// commands the README documents work against an embedded database.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { run } from './run.js'

const cli = (args: string[], env: Record<string, string | undefined> = {}) => run('src/cli/retrack.ts', env, args, 60_000)

describe('retrack CLI arguments', () => {
  it.each([
    [['bogus']], [['migrate', '--frob']], [['create-tenant', '--tenant']], [['bootstrap', '--tenant', 'acme']], [['config', 'extra']],
    [['bootstrap', '--tenant', 'acme', '--email', 'a@acme.example', '--password', 'change-me-please']],
  ])('%j: the usage and exit 64, no stack trace', async (args) => {
    const ended = await cli(args)
    expect(ended.code, ended.out).toBe(64)
    expect(ended.out).toMatch(/^retrack: .+\nusage: retrack <command>/)
    expect(ended.out).not.toMatch(/\n\s+at /)
  })

  it('refuses a well-known placeholder password for the first admin (exit 64), as BOOTSTRAP_PASSWORD does', async () => {
    const ended = await cli(['bootstrap', '--tenant', 'acme', '--email', 'a@acme.example', '--password', 'Change-Me-Please'])
    expect(ended.code).toBe(64)
    expect(ended.out).toMatch(/^retrack: --password is a well-known placeholder/)
  })

  it('--help prints the usage, exit 0', async () => {
    const ended = await cli(['--help'])
    expect(ended.code).toBe(0)
    expect(ended.out).toMatch(/^usage: retrack <command>/)
  })

  it('an invalid setting exits 78 and names it', async () => {
    const ended = await cli(['migrate'], { DB_POOL_MAX: '-1' })
    expect(ended.code).toBe(78)
    expect(ended.out).toBe('retrack: invalid configuration: DB_POOL_MAX: must be >= 1\n')
  })
})

describe('retrack commands on an embedded database', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'retrack-ops-cli-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const password = 'a-long-enough-password'

  it('config, migrate, bootstrap, create-tenant, and bootstrap again refused', async () => {
    const config = await cli(['config'])
    expect(config.code).toBe(0)
    expect(config.out).toMatch(/^WORKERS\s+1\s+processes of this node/m)

    const migrate = await cli(['migrate'], { DATA_DIR: dir })
    expect(migrate.code, migrate.out).toBe(0)
    expect(migrate.out).toContain('database is up to date')

    const boot = await cli(['bootstrap', '--tenant', 'acme', '--email', 'admin@acme.example', '--password', password], { DATA_DIR: dir })
    expect(boot.code, boot.out).toBe(0)
    expect(boot.out).toMatch(/created tenant acme \(\S+\) with admin admin@acme.example/)
    expect(boot.out).not.toContain(password)

    const tenant = await cli(['create-tenant', '--tenant', 'beta', '--email', 'admin@beta.example', '--password', password], { DATA_DIR: dir })
    expect(tenant.code, tenant.out).toBe(0)
    expect(tenant.out).toMatch(/created tenant beta/)

    const again = await cli(['bootstrap', '--tenant', 'gamma', '--email', 'admin@gamma.example', '--password', password], { DATA_DIR: dir })
    expect(again.code).toBe(1)
    expect(again.out).toBe('retrack: bootstrap is for an empty database; use create-tenant (or POST /api/v1/tenants as a platform administrator)\n')
  }, 120_000)
})
