// `retrack` command line: database migrations, first-run bootstrap, tenants, configuration.
//   retrack migrate
//   retrack bootstrap --tenant acme --email admin@acme.example --password '…' [--name "Acme"]
//   retrack create-tenant --tenant beta --email admin@beta.example --password '…' [--name "Beta"]
//   retrack config            (every setting, its default and its description)
// Exit codes: 0 done, 64 bad arguments (with the usage), 78 invalid configuration, 1 anything else.
import { parseArgs } from 'node:util'
import { ConfigError, EX_CONFIG, describeConfig, loadConfig, loadDotEnv } from '../config.js'
import { createLogger } from '../logger.js'
import { openDatabase } from '../db/database.js'
import { migrate } from '../db/migrate.js'
import { createTenantWithAdmin } from '../db/accounts.js'
import { lockDataDir, secureDataDir } from '../db/embedded-lock.js'
import { accountProblems, isPlaceholderPassword, type AccountField } from '../security/account-rules.js'

const usage = `usage: retrack <command> [options]
  migrate                                   apply pending database migrations
  bootstrap --tenant S --email E --password P [--name N]
                                            create the first tenant and its admin (a platform administrator)
  create-tenant --tenant S --email E --password P [--name N]
                                            create another tenant with its admin
      S: 1-48 lowercase letters, digits or dashes; E: an email address; P: 8-200 characters
  config                                    list every setting with its default`

async function withDatabase<T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const config = loadConfig()
  const log = createLogger({ ...config, LOG_LEVEL: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL })
  const embedded = !config.DATABASE_URL && !config.DATA_DIR.startsWith('memory://')
  if (embedded) secureDataDir(config.DATA_DIR, log)
  const unlock = embedded ? lockDataDir(config.DATA_DIR) : () => undefined
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolMax: 2, queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS, log })
  try {
    await db.withoutQueryTimeout((pool) => migrate(pool, log))
    return await fn(db)
  } finally {
    await db.close()
    unlock()
  }
}

class UsageError extends Error {}

const EX_USAGE = 64

/** The option each field of a new tenant comes from. */
const optionOf: Record<AccountField, string> = { slug: '--tenant', name: '--name', email: '--email', password: '--password', adminName: '--name' }

async function main(argv: string[]): Promise<number> {
  loadDotEnv()
  const [command, ...rest] = argv
  if (!command || ['help', '--help', '-h'].includes(command)) { console.log(usage); return 0 }
  let values: { tenant?: string | undefined, email?: string | undefined, password?: string | undefined, name?: string | undefined }
  try {
    ({ values } = parseArgs({
      args: rest, allowPositionals: false,
      options: { tenant: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } },
    }))
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
  switch (command) {
    case 'migrate':
      await withDatabase(async () => undefined)
      console.log('database is up to date')
      return 0
    case 'bootstrap':
    case 'create-tenant': {
      const { tenant, email, password, name } = values
      if (!tenant || !email || !password) throw new UsageError(`${command} needs --tenant, --email and --password`)
      // the API's rules (createTenantWithAdmin checks them again), checked before the database opens
      const problems = accountProblems({ slug: tenant, name, email, password }).map((p) => `${optionOf[p.field]} ${p.problem}`)
      // an admin (bootstrap: a platform administrator) with a password everyone has read somewhere
      if (isPlaceholderPassword(password)) problems.push('--password is a well-known placeholder (change-me, password, admin…): choose one of your own')
      if (problems.length > 0) throw new UsageError(problems.join('; '))
      const created = await withDatabase(async (db) => {
        if (command === 'bootstrap' && await db.prisma.tenant.count() > 0) {
          throw new Error('bootstrap is for an empty database; use create-tenant (or POST /api/v1/tenants as a platform administrator)')
        }
        return createTenantWithAdmin(db.prisma, { slug: tenant, name, admin: { email, password, platformAdmin: command === 'bootstrap' } })
      })
      console.log(`created tenant ${created.tenant.slug} (${created.tenant.id}) with admin ${created.admin.email}`)
      return 0
    }
    case 'config':
      for (const row of describeConfig()) console.log(`${row.key.padEnd(28)} ${JSON.stringify(row.default ?? '').padEnd(22)} ${row.description}`)
      return 0
    default:
      throw new UsageError(`unknown command '${command}'`)
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  console.error(`retrack: ${err instanceof Error ? err.message : String(err)}`)
  if (err instanceof UsageError) console.error(usage)
  process.exit(err instanceof UsageError ? EX_USAGE : err instanceof ConfigError ? EX_CONFIG : 1)
})
