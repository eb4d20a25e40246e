// The CLI holds a new tenant and its admin to the API's rules (slug, email, password of 8-200
// characters): a bad value is a bad argument (exit 64, the option named, the usage), refused
// before any database is opened; an unreachable PostgreSQL is named by its setting.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { run } from './run.js'

const cli = (args: string[], env: Record<string, string | undefined> = {}) => run('src/cli/retrack.ts', env, args, 60_000)
const SECRET = 'hunter2-s3cret'

describe('retrack bootstrap / create-tenant refuse what the API refuses', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'retrack-ops-cli-input-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))
  const dataDir = path.join(root, 'data') // never created: nothing reaches the database

  it.each([
    ['a 5-character password', ['bootstrap', '--tenant', 'acme', '--email', 'admin@acme.example', '--password', 'short'], '--password must be at least 8 characters'],
    ['an email that is none', ['create-tenant', '--tenant', 'beta', '--email', 'not an email', '--password', SECRET], '--email must be an email address'],
    ['a slug with capitals and spaces', ['create-tenant', '--tenant', 'Beta Corp', '--email', 'admin@beta.example', '--password', SECRET], '--tenant must be 1-48 lowercase letters'],
    ['an empty name', ['create-tenant', '--tenant', 'beta', '--email', 'admin@beta.example', '--password', SECRET, '--name', ''], '--name must be 1-200 characters'],
  ])('%s: exit 64 naming the option, nothing created', async (_name, args, message) => {
    const ended = await cli(args, { DATA_DIR: dataDir })
    expect(ended.code, ended.out).toBe(64)
    expect(ended.out).toMatch(new RegExp(`^retrack: ${message.replace(/[-[\]()]/g, '\\$&')}.*\\nusage: retrack <command>`))
    expect(ended.out).not.toContain(SECRET)
    expect(ended.out).not.toMatch(/\n\s+at /)
    expect(existsSync(dataDir), 'a database was opened').toBe(false)
  })

  it('every problem at once', async () => {
    const ended = await cli(['bootstrap', '--tenant=-acme', '--email', 'admin@', '--password', 'short'], { DATA_DIR: dataDir })
    expect(ended.code).toBe(64)
    expect(ended.out.split('\n')[0]).toBe('retrack: --tenant must be 1-48 lowercase letters, digits or dashes (no leading or trailing dash); --email must be an email address; --password must be at least 8 characters')
  })

  it('valid input still creates the tenant, in a data folder created 0700', async () => {
    const ended = await cli(['bootstrap', '--tenant', 'acme', '--email', 'admin@acme.example', '--password', SECRET], { DATA_DIR: dataDir })
    expect(ended.code, ended.out).toBe(0)
    expect(ended.out).toMatch(/created tenant acme \(\S+\) with admin admin@acme.example/)
    expect(statSync(dataDir).mode & 0o777).toBe(0o700)
  }, 90_000)
})

describe('retrack against an unreachable PostgreSQL', () => {
  it('exit 1, naming DATABASE_URL and where it points, not its password', async () => {
    const ended = await cli(['migrate'], { DATABASE_URL: `postgres://retrack:${SECRET}@127.0.0.1:1/retrack` })
    expect(ended.code, ended.out).toBe(1)
    expect(ended.out).toBe('retrack: DATABASE_URL: PostgreSQL at 127.0.0.1:1 is not reachable (connect ECONNREFUSED 127.0.0.1:1)\n')
  })
})
