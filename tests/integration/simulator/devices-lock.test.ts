// Two simulators started from one folder (as the quick start shows) against a real ReTrack node:
// they must not share a devices file, where one would move the other's credentials aside or record
// its end over the other's. A run holds `<file>.lock`; a lock left by a process that is gone is
// taken over; and a run whose devices are no longer in the file by its end says so.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../../devices/config.js'
import { parseDevicesFile } from '../../../devices/credentials.js'
import { runSimulation } from '../../../devices/run.js'
import { postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

describe('one simulator per devices file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retrack-sim-lock-'))
  const file = join(dir, 'sim-devices.json')
  let node: TestNode
  let acme: Provisioned
  const entries = () => acme.devices.map((d) => ({ deviceId: d.id, secret: d.secret }))
  const run = (logs: string[], duration = '2') => runSimulation(parseConfig(['--url', node.mqttUrl, '--tenant', 'acme', '--devices-file', file,
    '--routes', 'de-berlin-city-deliveries', '--speedup', '600', '--duration', duration, '--progress', '0', '--seed', '8'], {}), { log: (l) => logs.push(l) })

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 2)
  })
  afterAll(async () => { await node?.close() })

  it('refuses a second run on a file in use, naming the process that holds it; the first run is unharmed', async () => {
    writeFileSync(file, JSON.stringify(entries()))
    const logs: string[] = []
    const first = run(logs, '3')
    await new Promise((r) => setTimeout(r, 300))
    const lock = JSON.parse(readFileSync(`${file}.lock`, 'utf8')) as { pid: number, host: string }
    expect(lock).toMatchObject({ pid: process.pid, host: hostname() })
    const second = run([])
    await expect(second).rejects.toBeInstanceOf(ConfigError)
    await expect(run([])).rejects.toThrow(new RegExp(`^--devices-file ${file} is in use by another simulator \\(pid ${process.pid}, since \\S+\\): ` +
      'give each simulator its own --devices-file, or wait for that run to end$'))
    const { summary } = await first
    expect(summary.everConnected).toBe(2)
    // the run's end is recorded, and the lock is gone with the run
    expect(parseDevicesFile(readFileSync(file, 'utf8')).every((d) => d.simulatedUntil !== undefined)).toBe(true)
    expect(existsSync(`${file}.lock`)).toBe(false)
    expect(logs.filter((l) => l.includes('none of this run'))).toEqual([])
  }, 30_000)

  it('takes over a lock whose process is gone', async () => {
    writeFileSync(file, JSON.stringify(entries()))
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: Number(gone.stdout), host: hostname(), since: '2026-01-01T00:00:00.000Z' }))
    const { summary } = await run([])
    expect(summary.everConnected).toBe(2)
    expect(existsSync(`${file}.lock`)).toBe(false)
  }, 30_000)

  it('says so when none of the run\'s devices are in the file any more when it ends (another run replaced it)', async () => {
    writeFileSync(file, JSON.stringify(entries()))
    const logs: string[] = []
    const running = run(logs)
    await new Promise((r) => setTimeout(r, 500))
    const replaced = JSON.stringify([{ deviceId: 'dev_other', secret: 'x' }])
    writeFileSync(file, replaced)
    await running
    expect(logs).toContain(`none of this run's 2 devices are in ${file} any more (replaced by another run?): this run's end was not recorded, ` +
      'so a repeat run with these devices may start before its readings')
    expect(readFileSync(file, 'utf8')).toBe(replaced)
  }, 30_000)
})
