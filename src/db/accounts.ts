// Tenants and their users: the operations the CLI, first-run bootstrap and platform API share.
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Prisma } from './database.js'
import { hashPassword } from '../security/passwords.js'
import { AppError, badRequest } from '../errors.js'
import { accountProblems, type AccountField } from '../security/account-rules.js'

export { TENANT_SLUG_PATTERN } from '../security/account-rules.js'

/** How each field of a new tenant is named in a message (the CLI names its options instead). */
const fieldNames: Record<AccountField, string> = { slug: 'tenant slug', name: 'tenant name', email: 'admin email', password: 'admin password', adminName: 'admin name' }

export interface NewTenant {
  slug: string
  name?: string
  admin: { email: string, password: string, name?: string, platformAdmin?: boolean }
}

/**
 * Creates a tenant and its first admin in one transaction. Checks the input with the API's rules
 * (src/security/account-rules.ts) whoever calls it: the API, the CLI and the BOOTSTRAP_* settings.
 */
export async function createTenantWithAdmin(prisma: Prisma, input: NewTenant) {
  const problems = accountProblems({ slug: input.slug, name: input.name, email: input.admin.email, password: input.admin.password, adminName: input.admin.name })
  if (problems.length > 0) {
    throw badRequest(problems.map((p) => `${fieldNames[p.field]} ${p.problem}`).join('; '), problems)
  }
  const passwordHash = await hashPassword(input.admin.password)
  return prisma.$transaction(async (tx) => {
    const existing = await tx.tenant.findUnique({ where: { slug: input.slug } })
    if (existing) throw new AppError(409, 'ALREADY_EXISTS', `tenant ${input.slug} already exists`)
    const tenant = await tx.tenant.create({ data: { slug: input.slug, name: input.name ?? input.slug } })
    const admin = await tx.user.create({
      data: {
        tenantId: tenant.id, email: input.admin.email.toLowerCase(), name: input.admin.name ?? '', passwordHash,
        role: 'admin', platformAdmin: input.admin.platformAdmin ?? false,
      },
    })
    return { tenant, admin }
  })
}

/** First run: create the configured tenant and platform admin when the database has no tenant yet. */
export async function bootstrapIfEmpty(prisma: Prisma, seed: { tenant?: string | undefined, email?: string | undefined, password?: string | undefined }) {
  if (!seed.tenant || !seed.email || !seed.password) return null
  if (await prisma.tenant.count() > 0) return null
  return createTenantWithAdmin(prisma, { slug: seed.tenant, admin: { email: seed.email, password: seed.password, platformAdmin: true } })
}

export const DEMO_TENANT = 'demo'
export const DEMO_ADMIN = 'admin@demo.local'

/**
 * Embedded first run without BOOTSTRAP_*: a `demo` tenant whose admin's random password is written
 * to a file (0600) beside the data, never to the log, so `npm start` alone leads somewhere.
 */
export async function bootstrapDemo(prisma: Prisma, passwordFile: string) {
  if (await prisma.tenant.count() > 0) return null
  const password = randomBytes(12).toString('base64url')
  const created = await createTenantWithAdmin(prisma, { slug: DEMO_TENANT, name: 'Demo', admin: { email: DEMO_ADMIN, password, platformAdmin: true } })
  mkdirSync(path.dirname(passwordFile), { recursive: true })
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 })
  return created
}
