// One simulation run, start to finish: the offline checks and the devices file's lock, credentials
// (file or provisioning), what ReTrack knows of the devices already, plans, shipments (the devices'
// open ones closed first), the fleet, then the run's end in the devices file, the check that
// ReTrack took the readings, the summary and the truth file. main.ts wraps this for the command
// line; the integration tests call it directly.
import { acquireCredentials, type RunIo } from './acquire-credentials.js'
import type { SimClock } from './clock.js'
import type { SimConfig } from './config.js'
import { recordRunEnd, type RunEnd } from './devices-file.js'
import { lockDevicesFile } from './devices-lock.js'
import { DeviceSim } from './device-sim.js'
import { Fleet, type FleetMember } from './fleet.js'
import { TripRunner } from './motion/trips.js'
import { ConnectGate } from './net/connect-gate.js'
import { DeviceLink } from './net/link.js'
import { devicesFileOf, preflight } from './preflight.js'
import type { ApiClient, DeviceServerState } from './provision.js'
import { deriveSeed, mulberry32, uniform } from './random.js'
import { loadShippedRoutes } from './routes.js'
import { Battery, ReeferTemperature } from './sensors.js'
import { devicesNotAdvanced, readServerStates } from './server-state.js'
import { chooseRoutes, faultParams, motionParams, planFleet, resumePoints, STREAM, type ResumePoint, type VehiclePlan } from './setup.js'
import { closeOpenShipments, createShipments } from './shipments.js'
import { FleetCounters, summarize, type Summary } from './stats.js'
import { TokenBucket } from './token-bucket.js'
import { truthDocument, writeTruth } from './truth.js'

const TICK_MS = 100

export { RunInterrupted, type RunIo } from './acquire-credentials.js'
export { TEMP_BAND_C } from './shipments.js'

type RunResult = { summary: Summary, truth: ReturnType<typeof truthDocument> }

export async function runSimulation(c: SimConfig, io: RunIo): Promise<RunResult> {
  // offline checks first: nothing is created in ReTrack for a run that cannot start
  const fromFile = preflight(c)
  // one simulator per devices file, from before it is read or written until the run's end is recorded
  const lock = lockDevicesFile(devicesFileOf(c))
  try {
    return await simulate(c, fromFile, io)
  } finally {
    lock.release()
  }
}

async function simulate(c: SimConfig, fromFile: ReturnType<typeof preflight>, io: RunIo): Promise<RunResult> {
  const { credentials, tenant, api } = await acquireCredentials(c, fromFile, io)
  if (credentials.length === 0) throw new Error('no devices to simulate')
  // devices that existed before this run: where ReTrack's last fix of each is
  const before = api && !c.provision ? await readServerStates(api, credentials.map((d) => d.deviceId)) : new Map<string, DeviceServerState>()
  const routes = chooseRoutes(c, credentials.length, loadShippedRoutes())
  const planWall = Date.now()
  const resume = resumePoints(credentials, before)
  const planned = planFleet(c, credentials, routes, planWall, resume)
  const { plans } = planned
  // simulated time stands still until the fleet has connected: creating shipments and the
  // connection ramp use none of it
  const clock = planned.clock.held()
  logResume(c, clock, planWall, resume, before, plans, io)
  const runTag = planWall.toString(36)
  if (api && !c.provision) await closeOpenShipments(api, credentials, c.cancelOpen, runTag, io.log)
  if (api) await createShipments(api, plans, c, runTag, io.log)

  const counters = new FleetCounters()
  const limiter = new TokenBucket(c.rate)
  const gate = new ConnectGate<FleetMember>(new TokenBucket(c.connectRate, Math.max(1, c.connectRate / 10)), c.connectConcurrency)
  const settings = { url: c.url, tenant, qos: c.qos, keepaliveS: 60, connectTimeoutMs: 30_000 }
  const motion = motionParams(c)
  const faults = faultParams(c)
  // room for twice the fixes one tick normally brings, so a device that fell behind catches up
  const maxFixesPerTick = Math.ceil((TICK_MS * c.speedup) / (c.interval * 1000)) * 2 + 4
  const devices = plans.map((plan) => {
    const sensorRng = mulberry32(deriveSeed(c.seed, plan.index, STREAM.sensors))
    const temperature = c.temp !== undefined ? new ReeferTemperature(c.temp) : undefined
    for (const trip of plan.trips) if (temperature && sensorRng() < c.tempExcursionProb) temperature.planExcursion(sensorRng, trip.plannedStart, trip.plannedEnd)
    const trips = new TripRunner(plan.trips, motion, mulberry32(deriveSeed(c.seed, plan.index, STREAM.motion)), plan.positioning)
    const sim = new DeviceSim({
      deviceId: plan.credential.deviceId, intervalMs: c.interval * 1000, seqBase: planWall, faults,
      sensors: { battery: new Battery(uniform(sensorRng, 70, 100), c.batteryDrain, clock.simStart), temperature },
      rng: mulberry32(deriveSeed(c.seed, plan.index, STREAM.faults)), maxFixesPerTick, maxBatch: c.maxBatch,
    }, trips)
    const link = new DeviceLink(plan.credential.deviceId, plan.credential.secret, settings, limiter, counters)
    return { plan, sim, link, excursions: temperature?.excursions ?? [] }
  })

  io.log(`simulating ${devices.length} devices of tenant ${tenant} against ${c.url}: speedup ${c.speedup}, fix every ${c.interval} s simulated, seed ${c.seed}; simulated time starts ${new Date(clock.simStart).toISOString()} once the fleet has connected`)
  const cpuStart = process.cpuUsage()
  const fleet = new Fleet(devices.map((d): FleetMember => ({ sim: d.sim, link: d.link, seen: false })), {
    clock, counters, gate, tickMs: TICK_MS, rng: mulberry32(deriveSeed(c.seed, 0, 99)), progressS: c.progress, log: io.log,
    durationMs: c.duration !== undefined ? c.duration * 1000 : undefined,
  })
  const stop = () => fleet.stop()
  process.once('SIGINT', stop).once('SIGTERM', stop)
  try { await fleet.run() } finally { process.off('SIGINT', stop).off('SIGTERM', stop) }
  const simEnd = clock.now()
  const wallMs = Date.now() - fleet.startedAt
  const seen = devices.filter((d) => fleet.members[d.plan.index]!.seen)
  recordEnd(devicesFileOf(c), new Map(seen.map(({ sim }): [string, RunEnd] => {
    const at = sim.trips.state()
    return [sim.deviceId, { until: simEnd, position: { lat: at.lat, lon: at.lon } }]
  })), tenant, io)
  const notAdvanced = api ? await checkServerAdvanced(api, seen.map((d) => d.sim), before, io) : null

  const unsent = { readings: 0, events: 0 }
  for (const { sim } of devices) { unsent.readings += sim.unsent.readings; unsent.events += sim.unsent.events }
  const summary = summarize({
    counters, devices: devices.length, everConnected: fleet.everConnected, connectedAtEnd: fleet.connectedAtEnd, wallMs,
    unsent, connectionProblems: fleet.problems,
    allConnectedAfterMs: fleet.allConnectedAt === null ? null : fleet.allConnectedAt - fleet.startedAt,
    cpu: process.cpuUsage(cpuStart), peakRss: fleet.progress.peakRss, simStart: clock.simStart, simEnd, clamped: clock.clamped(), seed: c.seed,
    notAdvancedOnServer: notAdvanced,
  })
  const truth = truthDocument({ tenant, seed: c.seed, speedup: c.speedup, intervalS: c.interval, clock, devices })
  if (c.truthOut) writeTruth(c.truthOut, truth)
  return { summary, truth }
}

/** Says where the run resumes, for devices that ran before (devices file or ReTrack's last fix). */
function logResume(c: SimConfig, clock: SimClock, planWall: number, resume: ReadonlyMap<string, ResumePoint>,
  server: ReadonlyMap<string, DeviceServerState>, plans: VehiclePlan[], io: RunIo) {
  const ends = [...resume.values()].flatMap((r) => r.until !== undefined ? [r.until] : [])
  if (ends.length > 0) {
    const previousEnd = Math.max(...ends)
    const fromServer = [...server.values()].some((s) => s.lastFix?.ts === previousEnd)
    const catchUpS = c.speedup > 1 ? Math.round((planWall - clock.simStart) / (c.speedup - 1) / 1000) : undefined
    io.log(`these devices ran before, up to ${new Date(previousEnd).toISOString()} simulated ` +
      `(${fromServer ? 'ReTrack\'s last fix' : `simulatedUntil in ${devicesFileOf(c)}`}): ` +
      'this run starts after that (ReTrack drops readings at or before a device\'s last fix as late)' +
      (catchUpS !== undefined ? `; simulated time reaches the wall clock after ~${catchUpS} s and runs in real time from then on` : ''))
  }
  const away = plans.filter((p) => p.positioning)
  if (away.length > 0) io.log(`${away.length} truck(s) ended their previous run away from their first stop: they drive from there to it first (a straight line, no shipment)`)
  const far = plans.filter((p) => p.jumpKm !== undefined)
  if (far.length > 0) {
    io.log(`${far.length} truck(s) ended their previous run too far from their route to drive there (e.g. ${far[0]!.jumpKm} km, --routes changed?): ` +
      'they start at its first stop, and ReTrack sees a GPS jump (it takes the new position after about a minute)')
  }
}

/**
 * Records in the devices file where this run ended, for the devices that connected: the next run
 * with the file starts after it, its trucks where these are now (see setup.ts). A file that cannot
 * be written costs only that, so it is a warning; so is a file that no longer holds these devices.
 */
function recordEnd(file: string, ends: ReadonlyMap<string, RunEnd>, tenant: string, io: RunIo) {
  if (ends.size === 0) return
  try {
    const found = recordRunEnd(file, ends, tenant)
    if (found === 0) {
      io.log(`none of this run's ${ends.size} devices are in ${file} any more (replaced by another run?): this run's end was not recorded, ` +
        'so a repeat run with these devices may start before its readings')
    }
  } catch (err) {
    io.log(`could not record the run's simulated end in ${file} (${(err as Error).message}): a repeat run with it starts before this run's readings, and ReTrack drops them as late`)
  }
}

/** After the run: warns (the exit code stays) about devices whose readings ReTrack did not take. */
async function checkServerAdvanced(api: ApiClient, sims: DeviceSim[], before: ReadonlyMap<string, DeviceServerState>, io: RunIo): Promise<string[] | null> {
  const sent = sims.flatMap((s) => s.summary.firstTs !== null && s.summary.fixes > s.unsent.readings
    ? [{ deviceId: s.deviceId, firstTs: s.summary.firstTs, lastTs: s.summary.lastTs! }] : [])
  try {
    const stuck = await devicesNotAdvanced(api, sent, before)
    if (stuck.length > 0) {
      io.log(`WARNING: ReTrack's last fix did not advance for ${stuck.length} of the ${sent.length} devices that sent readings: ` +
        `it dropped what they sent (see GET /api/v1/devices/{id}/state and retrack_readings_dropped_total):\n  ${stuck.slice(0, 5).join('\n  ')}` +
        (stuck.length > 5 ? `\n  … and ${stuck.length - 5} more` : ''))
    }
    return stuck
  } catch (err) {
    io.log(`could not check ReTrack's state of the devices after the run: ${(err as Error).message}`)
    return null
  }
}
