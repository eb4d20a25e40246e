// What ReTrack's processing core knows about the run's devices (GET /devices/{id}/state), when the
// simulator is logged in: before the run, where each device's last accepted fix is (the run must
// start after it, or ReTrack drops every reading as late; the truck starts where it was); after the
// run, whether that last fix moved, so a run whose readings were all dropped does not pass for a
// success in silence.
import { ApiError, mapLimited, type ApiClient, type DeviceServerState } from './provision.js'

const IN_FLIGHT = 8

/** Each device's state; a device ReTrack does not know (404) is left out (it cannot connect either). */
export async function readServerStates(api: ApiClient, deviceIds: readonly string[]): Promise<Map<string, DeviceServerState>> {
  const states = await mapLimited(deviceIds, IN_FLIGHT, async (id) => {
    try { return await api.deviceState(id) } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined
      throw err
    }
  })
  return new Map(deviceIds.flatMap((id, i) => states[i] ? [[id, states[i]] as const] : []))
}

/** The latest last fix among the devices (epoch ms), if ReTrack has any. */
export function latestServerFix(states: ReadonlyMap<string, DeviceServerState>): number | undefined {
  let latest: number | undefined
  for (const s of states.values()) if (s.lastFix && (latest === undefined || s.lastFix.ts > latest)) latest = s.lastFix.ts
  return latest
}

export interface SentReadings { deviceId: string, firstTs: number, lastTs: number }

const iso = (ms: number | undefined) => ms === undefined ? 'none' : new Date(ms).toISOString()

/**
 * The devices that sent readings but whose last fix in ReTrack did not move past where it was before
 * the run. Processing runs just behind the PUBACKs, so devices not there yet are read again for up
 * to `settleMs`. Returns one line per such device (empty: all advanced).
 */
export async function devicesNotAdvanced(api: ApiClient, sent: readonly SentReadings[], before: ReadonlyMap<string, DeviceServerState>,
  settleMs = 5000): Promise<string[]> {
  const beforeTs = (id: string) => before.get(id)?.lastFix?.ts ?? Number.NEGATIVE_INFINITY
  let pending = [...sent]
  let after = new Map<string, DeviceServerState>()
  const deadline = Date.now() + settleMs
  for (;;) {
    after = new Map([...after, ...await readServerStates(api, pending.map((s) => s.deviceId))])
    pending = pending.filter((s) => (after.get(s.deviceId)?.lastFix?.ts ?? Number.NEGATIVE_INFINITY) <= beforeTs(s.deviceId))
    if (pending.length === 0 || Date.now() >= deadline) break
    await new Promise((r) => setTimeout(r, 500))
  }
  return pending.map((s) => {
    const state = after.get(s.deviceId)
    const drop = state?.lastDrop ? `; its last dropped fix: ${state.lastDrop.reason} at ${state.lastDrop.ts}` : ''
    return `${s.deviceId}: last fix ${iso(state?.lastFix?.ts)} (before the run: ${iso(before.get(s.deviceId)?.lastFix?.ts)}), ` +
      `this run sent ${iso(s.firstTs)} … ${iso(s.lastTs)}${drop}`
  })
}
