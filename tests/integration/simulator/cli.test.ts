// `npm run simulate` as a child process, for what only the command line shows: exit codes and what
// it says on stderr when flags are wrong or nothing can be reached.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromRoot } from '../../../src/paths.js'

interface Exit { code: number | null, stdout: string, stderr: string }

function simulate(args: string[]): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'devices/main.ts', ...args], { cwd: fromRoot(), timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr })
    })
  })
}

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as AddressInfo).port
  await new Promise((resolve) => probe.close(resolve))
  return port
}

describe('simulate on the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retrack-sim-cli-'))
  const devicesFile = join(dir, 'devices.json')
  writeFileSync(devicesFile, JSON.stringify([1, 2, 3].map((n) => ({ deviceId: `cli-dev-${n}`, secret: 's' }))))
  // an API that counts what it is asked
  const requests: string[] = []
  const api = createHttpServer((req, res) => { requests.push(`${req.method} ${req.url}`); res.statusCode = 500; res.end('{}') })
  let apiUrl = ''

  beforeAll(async () => {
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
  })
  afterAll(async () => { await new Promise((resolve) => api.close(resolve)) })

  it('refuses port 0 with exit 2, naming the flag (mqtt.js would quietly use 1883)', async () => {
    const { code, stderr } = await simulate(['--url', 'mqtt://localhost:0', '--tenant', 'acme', '--devices-file', devicesFile])
    expect(code).toBe(2)
    expect(stderr).toContain('simulate: --url "mqtt://localhost:0": port 0 is outside 1–65535')
  })

  it('refuses an unknown route with exit 2 before --provision creates anything', async () => {
    const file = join(dir, 'provisioned.json')
    const { code, stderr } = await simulate(['--provision', '--api', apiUrl, '--email', 'admin@acme.test', '--password', 'pw',
      '--routes', 'uk-m1-london-leed', '--devices-file', file])
    expect(code).toBe(2)
    expect(stderr).toContain('simulate: --routes: unknown route uk-m1-london-leed; shipped routes: ')
    expect(requests).toEqual([])
    expect(existsSync(file)).toBe(false)
  })

  it('says why nothing connects, once per kind, and exits 1 when no device ever connected', async () => {
    const port = await closedPort()
    const { code, stdout, stderr } = await simulate(['--url', `mqtt://127.0.0.1:${port}`, '--tenant', 'acme', '--devices-file', devicesFile,
      '--duration', '3', '--progress', '0', '--json'])
    expect(code).toBe(1)
    // three devices, several attempts each: the reason is printed once
    const reports = stderr.split('\n').filter((l) => l.includes(`connect ECONNREFUSED 127.0.0.1:${port}`))
    expect(reports[0]).toMatch(new RegExp(`^device cli-dev-\\d: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}; retrying with backoff$`))
    expect(reports).toHaveLength(2) // the report, and the final word below
    expect(stderr).toContain(`simulate: no device ever connected to mqtt://127.0.0.1:${port} during the run (first problem: device cli-dev-`)
    const summary = JSON.parse(stdout.trim()) as { everConnected: number, errors: number, connectionProblems: string[] }
    expect(summary.everConnected).toBe(0)
    expect(summary.errors).toBeGreaterThan(3)
    expect(summary.connectionProblems).toEqual([reports[0]!.replace('; retrying with backoff', '')])
  }, 40_000)

  it('names the API URL and the reason when the API cannot be reached', async () => {
    const port = await closedPort()
    const file = join(dir, 'never.json')
    const { code, stderr } = await simulate(['--provision', '--api', `http://127.0.0.1:${port}`, '--email', 'admin@acme.test', '--password', 'pw', '--devices-file', file])
    expect(code).toBe(1)
    expect(stderr).toContain(`simulate: POST http://127.0.0.1:${port}/api/v1/auth/login failed: connect ECONNREFUSED 127.0.0.1:${port} (is ReTrack running there? see --api)`)
    expect(existsSync(file)).toBe(false)
  })
})
