// One simulation run, start to finish: the offline checks, credentials (file or provisioning),
// plans, shipments, the fleet, then the run's simulated end in the devices file, the summary and the
// truth file. main.ts wraps this for the command line; the integration tests call it directly.
import { acquireCredentials, type RunIo } from './acquire-credentials.js'
import type { SimConfig } from './config.js'
import { recordSimulatedUntil } from './devices-file.js'
import { DeviceSim } from './device-sim.js'
import { Fleet, type FleetMember } from './fleet.js'
import { TripRunner } from './motion/trips.js'
import { ConnectGate } from './net/connect-gate.js'
import { DeviceLink } from './net/link.js'
import { devicesFileOf, preflight } from './preflight.js'
import { mapLimited, shipmentStops, type ApiClient } from './provision.js'
import { deriveSeed, mulberry32, uniform } from './random.js'
import { loadShippedRoutes } from './routes.js'
import { Battery, ReeferTemperature } from './sensors.js'
import { chooseRoutes, faultParams, motionParams, planFleet, previousRunEnd, STREAM, type VehiclePlan } from './setup.js'
import { FleetCounters, summarize, type Summary } from './stats.js'
import { TokenBucket } from './token-bucket.js'
import { truthDocument, writeTruth } from './truth.js'

const TICK_MS = 100

export { RunInterrupted, type RunIo } from './acquire-credentials.js'

/** A reefer load's allowed range around the set point (`--temp`): excursions (+6…12 °C) leave it. */
export const TEMP_BAND_C = 3

/** One shipment per vehicle trip, with appointment windows in simulated time. */
async function createShipments(api: ApiClient, plans: VehiclePlan[], c: SimConfig, runTag: string, io: RunIo) {
  const work = plans.flatMap((p) => p.credential.vehicleId ? p.trips.map((trip) => ({ p, trip })) : [])
  if (work.length === 0) return
  io.log(`creating ${work.length} shipments`)
  await mapLimited(work, 8, async ({ p, trip }) => {
    const reference = `SIM-${runTag}-${p.index + 1}-${trip.index + 1}`
    trip.reference = reference
    trip.shipmentId = await api.createShipment({
      reference, vehicleId: p.credential.vehicleId!, deviceId: p.credential.deviceId,
      route: { type: 'LineString', coordinates: trip.route.path.coordinates() }, stops: shipmentStops(trip.stops, c.windowMin),
      ...(c.temp !== undefined ? { tempMinC: c.temp - TEMP_BAND_C, tempMaxC: c.temp + TEMP_BAND_C } : {}),
    })
  })
}

export async function runSimulation(c: SimConfig, io: RunIo): Promise<{ summary: Summary, truth: ReturnType<typeof truthDocument> }> {
  // offline checks first: nothing is created in ReTrack for a run that cannot start
  const fromFile = preflight(c)
  const { credentials, tenant, api } = await acquireCredentials(c, fromFile, io)
  if (credentials.length === 0) throw new Error('no devices to simulate')
  const routes = chooseRoutes(c, credentials.length, loadShippedRoutes())
  const wallStart = Date.now()
  const { clock, plans } = planFleet(c, credentials, routes, wallStart)
  const previousEnd = previousRunEnd(credentials)
  if (previousEnd !== undefined) {
    const catchUpS = c.speedup > 1 ? Math.round((wallStart - clock.simStart) / (c.speedup - 1) / 1000) : undefined
    io.log(`these devices ran before, up to ${new Date(previousEnd).toISOString()} simulated (simulatedUntil in ${devicesFileOf(c)}): ` +
      'this run starts after that (ReTrack drops readings at or before a device\'s last fix as late)' +
      (catchUpS !== undefined ? `; simulated time reaches the wall clock after ~${catchUpS} s and runs in real time from then on` : ''))
  }
  const runTag = wallStart.toString(36)
  if (api) await createShipments(api, plans, c, runTag, io)

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
    const trips = new TripRunner(plan.trips, motion, mulberry32(deriveSeed(c.seed, plan.index, STREAM.motion)))
    const sim = new DeviceSim({
      deviceId: plan.credential.deviceId, intervalMs: c.interval * 1000, seqBase: wallStart, faults,
      sensors: { battery: new Battery(uniform(sensorRng, 70, 100), c.batteryDrain, clock.simStart), temperature },
      rng: mulberry32(deriveSeed(c.seed, plan.index, STREAM.faults)), maxFixesPerTick, maxBatch: c.maxBatch,
    }, trips)
    const link = new DeviceLink(plan.credential.deviceId, plan.credential.secret, settings, limiter, counters)
    return { plan, sim, link, excursions: temperature?.excursions ?? [] }
  })

  io.log(`simulating ${devices.length} devices of tenant ${tenant} against ${c.url}: speedup ${c.speedup}, fix every ${c.interval} s simulated, seed ${c.seed}; simulated time starts ${new Date(clock.simStart).toISOString()}`)
  const cpuStart = process.cpuUsage()
  const fleet = new Fleet(devices.map((d): FleetMember => ({ sim: d.sim, link: d.link, seen: false })), {
    clock, counters, gate, tickMs: TICK_MS, rng: mulberry32(deriveSeed(c.seed, 0, 99)), progressS: c.progress, log: io.log,
    deadline: c.duration !== undefined ? wallStart + c.duration * 1000 : undefined,
  })
  const stop = () => fleet.stop()
  process.once('SIGINT', stop).once('SIGTERM', stop)
  try { await fleet.run() } finally { process.off('SIGINT', stop).off('SIGTERM', stop) }
  const simEnd = clock.now()
  recordRunEnd(devicesFileOf(c), fleet.members.filter((m) => m.seen).map((m) => m.sim.deviceId), simEnd, io)

  const unsent = { readings: 0, events: 0 }
  for (const { sim } of devices) { unsent.readings += sim.unsent.readings; unsent.events += sim.unsent.events }
  const summary = summarize({
    counters, devices: devices.length, everConnected: fleet.everConnected, connectedAtEnd: fleet.connectedAtEnd, wallMs: Date.now() - wallStart,
    unsent, connectionProblems: fleet.problems,
    allConnectedAfterMs: fleet.allConnectedAt === null ? null : fleet.allConnectedAt - wallStart,
    cpu: process.cpuUsage(cpuStart), peakRss: fleet.progress.peakRss, simStart: clock.simStart, simEnd, clamped: clock.clamped(), seed: c.seed,
  })
  const truth = truthDocument({ tenant, seed: c.seed, speedup: c.speedup, intervalS: c.interval, clock, devices })
  if (c.truthOut) writeTruth(c.truthOut, truth)
  return { summary, truth }
}

/**
 * Records in the devices file where this run's simulated time ended, for the devices that sent
 * anything: the next run with the file starts after it (see setup.ts). A file that cannot be
 * written costs only that, so it is a warning.
 */
function recordRunEnd(file: string, deviceIds: string[], simEnd: number, io: RunIo) {
  if (deviceIds.length === 0) return
  try {
    recordSimulatedUntil(file, new Map(deviceIds.map((id) => [id, simEnd])))
  } catch (err) {
    io.log(`could not record the run's simulated end in ${file} (${(err as Error).message}): a repeat run with it starts before this run's readings, and ReTrack drops them as late`)
  }
}
