// The external broker keeps a session, and the node's share of the group's messages, per client id:
// the default must be the same after a restart (no pid in it), and differ between a node's workers.
import os from 'node:os'
import { afterEach, describe, expect, it } from 'vitest'
import { defaultExternalClientId } from '../../../src/ingest/external.js'

describe('the default client id on an external broker', () => {
  const saved = process.env['RETRACK_WORKER_SLOT']
  afterEach(() => {
    if (saved === undefined) delete process.env['RETRACK_WORKER_SLOT']
    else process.env['RETRACK_WORKER_SLOT'] = saved
  })

  it('names the host, not the process, and each worker slot apart', () => {
    delete process.env['RETRACK_WORKER_SLOT']
    expect(defaultExternalClientId()).toBe(`retrack-${os.hostname()}`)
    expect(defaultExternalClientId()).not.toContain(String(process.pid))
    process.env['RETRACK_WORKER_SLOT'] = '1'
    expect(defaultExternalClientId()).toBe(`retrack-${os.hostname()}-w1`)
  })
})
