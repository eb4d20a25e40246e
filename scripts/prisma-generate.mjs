// Runs `prisma generate` offline: Prisma's CLI asks its native schema engine for a version before
// anything else, and that engine cannot be downloaded here, so a stub answers instead (PRISMA.md).
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? path.join(root, 'scripts/schema-engine-stub'),
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
}
const prisma = path.join(root, 'node_modules/prisma/build/index.js')
const result = spawnSync(process.execPath, [prisma, 'generate'], { cwd: root, env, stdio: 'inherit' })
process.exit(result.status ?? 1)
