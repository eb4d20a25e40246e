// Runs after `npm install` / `npm ci` of the project itself (npm 11 runs no dependency scripts):
// generate the Prisma client offline, and install the Prisma 6 migration tool in its own folder.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args, cwd = root) => {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

run(process.execPath, [path.join(root, 'scripts/prisma-generate.mjs')])
const tool = path.join(root, 'tools/prisma6')
if (process.env.RETRACK_SKIP_TOOLS !== '1' && existsSync(path.join(tool, 'package-lock.json')) && !existsSync(path.join(tool, 'node_modules/prisma'))) {
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], tool)
}
