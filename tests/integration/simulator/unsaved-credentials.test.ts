// --provision against a real ReTrack node when the devices file cannot be written after all (the
// folder vanished after the preflight; a full disk or a read-only mount fail the same way): the
// simulator stops creating devices whose secrets it cannot keep, and never claims they were saved.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acquireCredentials } from '../../../devices/acquire-credentials.js'
import { parseConfig } from '../../../devices/config.js'
import { preflight } from '../../../devices/preflight.js'
import { createTenantWithAdmin } from '../../../src/db/accounts.js'
import { PASSWORD } from '../../helpers/app.js'
import { startNode, type TestNode } from '../../helpers/server.js'

describe('simulator --provision whose devices file cannot be written', () => {
  let node: TestNode

  beforeAll(async () => {
    node = await startNode()
    await createTenantWithAdmin(node.server.db.prisma, { slug: 'unsaved', admin: { email: 'admin@unsaved.test', password: PASSWORD } })
  })
  afterAll(async () => { await node?.close() })

  it('stops provisioning and says the credentials could NOT be saved', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'retrack-sim-unsaved-')), 'gone')
    mkdirSync(dir)
    const config = parseConfig(['--provision', '--api', node.http, '--email', 'admin@unsaved.test', '--password', PASSWORD,
      '--devices', '20', '--devices-file', join(dir, 'devices.json')], {})
    expect(preflight(config)).toBeUndefined()
    rmSync(dir, { recursive: true })
    const lines: string[] = []
    await expect(acquireCredentials(config, undefined, { log: (line) => lines.push(line) })).rejects.toThrow(/ENOENT/)
    const log = lines.join('\n')
    expect(log).toMatch(/could not save the device credentials to .*devices\.json: ENOENT/)
    const created = /created (\d+) of 20 devices before the error; their credentials could NOT be saved in .*devices\.json/.exec(log)
    expect(created, log).not.toBeNull()
    // the first failed save stops the run: only the devices already being created are finished
    expect(Number(created![1])).toBeLessThan(20)
    expect(log).not.toMatch(/are saved in|saved \d+ device credentials/)
  })
})
