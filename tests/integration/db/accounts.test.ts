// createTenantWithAdmin is the one place every way of creating a tenant goes through (API, CLI,
// BOOTSTRAP_*): it holds them all to the API's rules, and refuses before writing anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { createTenantWithAdmin } from '../../../src/db/accounts.js'
import { AppError } from '../../../src/errors.js'
import type { Database } from '../../../src/db/database.js'

const pglite = databaseBackends().find((b) => b.name === 'pglite')!

describe('createTenantWithAdmin', () => {
  let db: Database
  beforeAll(async () => { db = await pglite.open() })
  afterAll(async () => { await db.close() })

  it.each([
    ['a 5-character password', { slug: 'acme', admin: { email: 'admin@acme.example', password: 'short' } }, 'admin password must be at least 8 characters'],
    ['an email that is none', { slug: 'acme', admin: { email: 'not an email', password: 'long enough' } }, 'admin email must be an email address'],
    ['a bad slug', { slug: 'Acme', admin: { email: 'admin@acme.example', password: 'long enough' } }, 'tenant slug must be 1-48 lowercase letters, digits or dashes (no leading or trailing dash)'],
  ])('refuses %s (400, naming the field), creating nothing', async (_name, input, message) => {
    const err = await createTenantWithAdmin(db.prisma, input).then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(AppError)
    expect(err).toMatchObject({ statusCode: 400, code: 'BAD_REQUEST', message })
    expect(await db.prisma.tenant.count()).toBe(0)
  })

  it('creates a valid one', async () => {
    const { tenant, admin } = await createTenantWithAdmin(db.prisma, { slug: 'acme', admin: { email: 'Admin@Acme.example', password: 'long enough' } })
    expect(tenant.slug).toBe('acme')
    expect(admin.email).toBe('admin@acme.example')
  })
})
