import { defineConfig } from 'prisma/config'

// Prisma 7 CLI configuration. The datasource URL is only needed by commands that talk to a
// database (`prisma migrate deploy` on a machine with Prisma's engines); ReTrack applies the
// migrations itself with src/db/migrate.ts.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  ...(process.env.DATABASE_URL ? { datasource: { url: process.env.DATABASE_URL } } : {}),
})
