#!/usr/bin/env node
// Offline migration authoring for ReTrack (see docs/database.md).
//   node tools/prisma6/migration.mjs create <name>   write prisma/migrations/<timestamp>_<name>/migration.sql
//   node tools/prisma6/migration.mjs check           exit 2 when prisma/schema.prisma and the migrations disagree
import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { deriveSchema } from './derive-schema.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const migrations = path.join(here, '../../prisma/migrations')

function diff(extra) {
  // A derived schema per run: two runs at once (the drift test runs two; several people share a
  // checkout) would otherwise overwrite one shared file and each compare against the other's schema.
  const schema = deriveSchema(process.env.RETRACK_SCHEMA ?? undefined, path.join(tmpdir(), `retrack-prisma6-${process.pid}.prisma`))
  try {
    return runPrisma(schema, extra)
  } finally {
    rmSync(schema, { force: true })
  }
}

function runPrisma(schema, extra) {
  const args = [path.join(here, 'node_modules/prisma/build/index.js'), 'migrate', 'diff',
    '--from-migrations', migrations, '--to-schema-datamodel', schema, ...extra]
  return spawnSync(process.execPath, args, {
    cwd: here,
    encoding: 'utf8',
    // Prisma 6 insists on a datasource url; the adapter in prisma.config.ts is what is really used.
    env: { ...process.env, RETRACK_PRISMA6_SCHEMA: schema, DATABASE_URL: 'postgresql://unused@localhost/unused', PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
    maxBuffer: 64 * 1024 * 1024,
  })
}

const [command, name] = process.argv.slice(2)
if (command === 'create') {
  if (!name || !/^[a-z0-9_]+$/.test(name)) { console.error('usage: migration.mjs create <snake_case_name>'); process.exit(1) }
  const result = diff(['--script'])
  if (result.status !== 0) { process.stderr.write(result.stderr); process.exit(result.status ?? 1) }
  if (/^-- This is an empty migration\.\s*$/m.test(result.stdout) || result.stdout.trim() === '') {
    console.log('schema and migrations already agree: nothing to write'); process.exit(0)
  }
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
  const dir = path.join(migrations, `${stamp}_${name}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'migration.sql'), result.stdout)
  console.log(`wrote ${path.relative(process.cwd(), dir)}/migration.sql`)
} else if (command === 'check') {
  const result = diff(['--exit-code'])
  // --exit-code: 0 = no difference, 2 = difference, 1 = error
  if (result.status === 0) { console.log('migrations match prisma/schema.prisma'); process.exit(0) }
  process.stdout.write(result.stdout)
  process.stderr.write(result.stderr)
  if (result.status === 2) console.error('drift: prisma/schema.prisma has changes without a migration (node tools/prisma6/migration.mjs create <name>)')
  process.exit(result.status ?? 1)
} else {
  console.error('usage: migration.mjs create <name> | check'); process.exit(1)
}
