import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseDevicesFile, readDevicesFile } from '../../../devices/credentials.js'
import { keepExisting, ProvisionedDevicesFile, recordRunEnd, writeSecretJson } from '../../../devices/devices-file.js'
import { manualClock } from './helpers.js'

const dir = () => mkdtempSync(join(tmpdir(), 'sim-devices-file-'))
const mode = (file: string) => statSync(file).mode & 0o777
const device = (n: number) => ({ deviceId: `dev-${n}`, secret: `secret-${n}`, vehicleId: `veh-${n}`, name: `sim-${n}` })

describe('devices file', () => {
  it('is written owner-only (0600), also over a file that was 0644', () => {
    const file = join(dir(), 'devices.json')
    writeFileSync(file, '[]', { mode: 0o644 })
    chmodSync(file, 0o644)
    writeSecretJson(file, [device(1)])
    expect(mode(file)).toBe(0o600)
    expect(readDevicesFile(file)).toEqual([device(1)])
    // no temporary file left behind
    expect(readdirSync(join(file, '..'))).toEqual(['devices.json'])
  })

  it('keeps an existing file as .bak, then .bak.2, .bak.3 …, never overwriting one', () => {
    const d = dir()
    const file = join(d, 'sim-devices.json')
    expect(keepExisting(file)).toBeUndefined()
    for (const n of [1, 2, 3]) {
      writeFileSync(file, `[${n}]`, { mode: 0o644 })
      keepExisting(file)
    }
    expect(readdirSync(d).sort()).toEqual(['sim-devices.json.bak', 'sim-devices.json.bak.2', 'sim-devices.json.bak.3'])
    expect(readFileSync(join(d, 'sim-devices.json.bak'), 'utf8')).toBe('[1]')
    expect(readFileSync(join(d, 'sim-devices.json.bak.3'), 'utf8')).toBe('[3]')
    expect(mode(join(d, 'sim-devices.json.bak.2'))).toBe(0o600)
  })

  it('--provision saves devices while they are created, in provisioning order, and keeps the old file', () => {
    const d = dir()
    const file = join(d, 'sim-devices.json')
    writeFileSync(file, JSON.stringify([device(99)]), { mode: 0o644 })
    chmodSync(file, 0o644)
    const clock = manualClock(1000)
    const saved = new ProvisionedDevicesFile(file, 250, clock.now)
    // nothing created yet (e.g. the login was refused): the old file is untouched
    saved.save()
    expect(readDevicesFile(file)).toEqual([device(99)])
    expect(existsSync(`${file}.bak`)).toBe(false)

    saved.add(1, device(1)) // finished before device 0: saved at once (first save)
    expect(readDevicesFile(`${file}.bak`)).toEqual([device(99)])
    expect(readDevicesFile(file)).toEqual([device(1)])
    expect(mode(file)).toBe(0o600)
    saved.add(0, device(0)) // within 250 ms of the last save: kept in memory for now
    expect(readDevicesFile(file)).toHaveLength(1)
    clock.advance(250)
    saved.add(2, device(2))
    expect(readDevicesFile(file)).toEqual([device(0), device(1), device(2)])
    saved.add(3, device(3))
    saved.save() // what the end of provisioning, an API error or Ctrl-C does
    expect(readDevicesFile(file)).toEqual([device(0), device(1), device(2), device(3)])
    expect(saved.size).toBe(4)
    expect(saved.backup).toBe(`${file}.bak`)
    expect(readdirSync(d).sort()).toEqual(['sim-devices.json', 'sim-devices.json.bak'])
  })

  it('records where a run ended per device, keeping the later time and the rest of the file, and the tenant', () => {
    const file = join(dir(), 'devices.json')
    writeFileSync(file, JSON.stringify({ note: 'fleet A', devices: [{ ...device(1), simulatedUntil: 5000 }, device(2), device(3)] }), { mode: 0o644 })
    chmodSync(file, 0o644)
    const found = recordRunEnd(file, new Map([
      ['dev-1', { until: 4000.4, position: { lat: 1, lon: 2 } }], ['dev-2', { until: 7000.6, position: { lat: 52.123456789, lon: 13.5 } }], ['dev-9', { until: 1 }],
    ]), 'acme')
    expect(found).toBe(2)
    const json = JSON.parse(readFileSync(file, 'utf8')) as { note: string }
    expect(json.note).toBe('fleet A')
    expect(readDevicesFile(file)).toEqual([
      // an older end changes neither the time nor the position
      { ...device(1), simulatedUntil: 5000, tenant: 'acme' },
      { ...device(2), simulatedUntil: 7001, tenant: 'acme', lastPosition: { lat: 52.1234568, lon: 13.5 } },
      device(3),
    ])
    expect(mode(file)).toBe(0o600)
  })

  it('says when none of the run\'s devices are in the file any more, and leaves it alone', () => {
    const file = join(dir(), 'devices.json')
    writeFileSync(file, JSON.stringify([device(1)]))
    const before = readFileSync(file, 'utf8')
    expect(recordRunEnd(file, new Map([['dev-7', { until: 9000 }]]), 'acme')).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(before)
  })

  it('reads simulatedUntil and refuses one that is not epoch milliseconds', () => {
    expect(parseDevicesFile('[{"deviceId":"d","secret":"s","simulatedUntil":1795850288418}]')).toEqual([{ deviceId: 'd', secret: 's', simulatedUntil: 1795850288418 }])
    expect(() => parseDevicesFile('[{"deviceId":"d","secret":"s","simulatedUntil":"yesterday"}]')).toThrow(/\[0\]: simulatedUntil must be epoch milliseconds/)
  })
})
