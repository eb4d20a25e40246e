// The migrations in prisma/migrations must build exactly the database prisma/schema.prisma
// describes: a model change without its migration fails here. The second run proves the check can
// fail at all, on a copy of the schema with one more column.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fromRoot } from '../../../src/paths.js'

interface Result { code: number | null, output: string }

function check(env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fromRoot('tools/prisma6/migration.mjs'), 'check'], { cwd: fromRoot(), env: { ...process.env, ...env } })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, output }))
  })
}

describe('schema drift check', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'retrack-drift-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('passes on the repository and fails (exit 2) on a schema with a field no migration adds', async () => {
    const schema = readFileSync(fromRoot('prisma/schema.prisma'), 'utf8')
    const drifted = schema.replace(/^model Shipment \{\n/m, '$&  driftProbe String? @map("drift_probe")\n')
    expect(drifted).not.toBe(schema)
    const file = path.join(dir, 'schema.prisma')
    writeFileSync(file, drifted)

    // each run takes ~25 s (the Prisma 6 CLI over in-memory PGlite): run them side by side
    const [clean, changed] = await Promise.all([check(), check({ RETRACK_SCHEMA: file })])
    expect(clean.code, clean.output).toBe(0)
    expect(changed.code, changed.output).toBe(2)
    expect(changed.output).toContain('drift_probe')
  }, 120_000)
})
