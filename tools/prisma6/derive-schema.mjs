// Derives Prisma 6's copy of prisma/schema.prisma (never hand-edited): Prisma 6 wants a datasource
// url and a client engine type, Prisma 7 rejects the url. Everything else is the same schema.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))
export function deriveSchema(source = path.join(here, '../../prisma/schema.prisma'), target = path.join(here, 'schema.generated.prisma')) {
  const schema = readFileSync(source, 'utf8')
    .replace(/generator client \{[^}]*\}/, 'generator client {\n  provider   = "prisma-client-js"\n  engineType = "client"\n}')
    .replace(/datasource db \{[^}]*\}/, 'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}')
  writeFileSync(target, `// GENERATED from prisma/schema.prisma by derive-schema.mjs; do not edit.\n${schema}`)
  return target
}

if (process.argv[1] === fileURLToPath(import.meta.url)) deriveSchema(process.argv[2], process.argv[3])
