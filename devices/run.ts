// One simulation run, start to finish: credentials (file or provisioning), plans, shipments, the
// fleet, then the summary and the truth file. main.ts wraps this for the command line; the
// integration test calls it directly.
import type { SimConfig } from './config.js'
import { readDevicesFile, writeDevicesFile, type DeviceCredential } from './credentials.js'
import { DeviceSim } from './device-sim.js'
import { Fleet, type FleetMember } from './fleet.js'
import { TripRunner } from './motion/trips.js'
import { ConnectGate } from './net/connect-gate.js'
import { DeviceLink } from './net/link.js'
import { ApiClient, mapLimited, provisionDevices, shipmentStops } from './provision.js'
import { deriveSeed, mulberry32, uniform } from './random.js'
import { loadShippedRoutes } from './routes.js'
import { Battery, ReeferTemperature } from './sensors.js'
import { chooseRoutes, faultParams, motionParams, planFleet, STREAM, type VehiclePlan } from './setup.js'
import { FleetCounters, summarize, type Summary } from './stats.js'
import { TokenBucket } from './token-bucket.js'
import { truthDocument, writeTruth } from './truth.js'

const TICK_MS = 100

export interface RunIo { log: (line: string) => void }

async function credentialsFor(c: SimConfig, io: RunIo): Promise<{ credentials: DeviceCredential[], tenant: string, api: ApiClient | undefined }> {
  let api: ApiClient | undefined
  if (c.email && c.password) {
    api = new ApiClient(c.api)
    await api.login(c.email, c.password, c.tenant)
  }
  const tenant = c.tenant ?? api?.tenantSlug
  if (!tenant) throw new Error('no tenant: give --tenant (the login did not say which tenant the user belongs to)')
  if (!c.provision) {
    const all = readDevicesFile(c.devicesFile!)
    return { credentials: c.devices !== undefined ? all.slice(0, c.devices) : all, tenant, api }
  }
  const count = c.devices ?? 10
  io.log(`provisioning ${count} vehicles and devices at ${c.api}`)
  const credentials = await provisionDevices(api!, count, Date.now().toString(36), io.log)
  const file = c.devicesFile ?? 'sim-devices.json'
  writeDevicesFile(file, credentials)
  io.log(`saved ${credentials.length} device credentials to ${file} (repeat the run with --devices-file ${file} --tenant ${tenant})`)
  return { credentials, tenant, api }
}

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
  const { credentials, tenant, api } = await credentialsFor(c, io)
  if (credentials.length === 0) throw new Error('no devices to simulate')
  const routes = chooseRoutes(c, credentials.length, loadShippedRoutes())
  const wallStart = Date.now()
  const { clock, plans } = planFleet(c, credentials, routes, wallStart)
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
      rng: mulberry32(deriveSeed(c.seed, plan.index, STREAM.faults)), maxFixesPerTick,
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

  const summary = summarize({
    counters, devices: devices.length, everConnected: fleet.everConnected, connectedAtEnd: fleet.connectedAtEnd, wallMs: Date.now() - wallStart,
    allConnectedAfterMs: fleet.allConnectedAt === null ? null : fleet.allConnectedAt - wallStart,
    cpu: process.cpuUsage(cpuStart), peakRss: fleet.progress.peakRss, simStart: clock.simStart, simEnd: clock.now(), clamped: clock.clamped(), seed: c.seed,
  })
  const truth = truthDocument({ tenant, seed: c.seed, speedup: c.speedup, intervalS: c.interval, clock, devices })
  if (c.truthOut) writeTruth(c.truthOut, truth)
  return { summary, truth }
}
