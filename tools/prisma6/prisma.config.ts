// Prisma 6's CLI with its wasm ("js") schema engine over in-memory PGlite, for both the main and
// the shadow database: `migrate diff` then needs no server and no native engine (PRISMA.md).
import { defineConfig } from 'prisma/config'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPGlite } from 'pglite-prisma-adapter'

type Adapter = {
  executeScript(script: string): Promise<void>
  executeRaw(query: { sql: string, args: unknown[] }): Promise<number>
}

// Two fixes to the published adapter: it fires exec() without awaiting it, so a script could still
// be running (or failing) when Prisma moves on; and the schema engine applies each migration file
// to the shadow database through executeRaw, which PGlite runs as one prepared statement and so
// refuses multi-statement SQL. Parameterless statements go through exec(), which takes many.
function awaitedScripts<T extends Adapter>(adapter: T, db: PGlite): T {
  const executeRaw = adapter.executeRaw.bind(adapter)
  adapter.executeScript = async (script) => { await db.exec(script) }
  adapter.executeRaw = async (query) => {
    if (query.args.length > 0) return executeRaw(query)
    const results = await db.exec(query.sql)
    return results.reduce((sum, r) => sum + (r.affectedRows ?? 0), 0)
  }
  return adapter
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  // the derived schema of this run (migration.mjs); the CLI reads its generator's engineType =
  // "client" from it, and without it would try to download a native query engine
  schema: process.env.RETRACK_PRISMA6_SCHEMA ?? 'schema.generated.prisma',
  migrations: { path: '../../prisma/migrations' },
  async adapter() {
    // only its provider and adapter name are read; it never opens a database
    const factory = new PrismaPGlite(undefined as unknown as PGlite)
    return {
      provider: factory.provider,
      adapterName: factory.adapterName,
      async connect() {
        const db = new PGlite('memory://main2')
        return awaitedScripts(await new PrismaPGlite(db).connect(), db)
      },
      async connectToShadowDb() {
        const db = new PGlite('memory://shadow')
        return awaitedScripts(await new PrismaPGlite(db).connect(), db)
      },
    }
  },
})
