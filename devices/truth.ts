// The truth file (--truth-out): what really happened in the simulation, to score ReTrack's arrival
// detection and ETAs against. Times are epoch milliseconds of SIMULATED time.
import { writeFileSync } from 'node:fs'
import type { SimClock } from './clock.js'
import type { DeviceSim } from './device-sim.js'
import type { Excursion } from './sensors.js'
import type { VehiclePlan } from './setup.js'

export function truthDocument(input: {
  tenant: string, seed: number, speedup: number, intervalS: number, clock: SimClock,
  devices: { plan: VehiclePlan, sim: DeviceSim, excursions: Excursion[] }[],
}) {
  return {
    generatedAt: new Date().toISOString(),
    tenant: input.tenant,
    seed: input.seed,
    speedup: input.speedup,
    intervalS: input.intervalS,
    timeUnit: 'epoch ms, simulated time',
    simStart: input.clock.simStart,
    wallStart: input.clock.wallStart,
    devices: input.devices.map(({ plan, sim, excursions }) => ({
      deviceId: plan.credential.deviceId,
      ...(plan.credential.vehicleId ? { vehicleId: plan.credential.vehicleId } : {}),
      route: plan.route.name,
      ...(plan.positioning ? { startedFrom: { ...plan.positioning.from, plannedStart: plan.positioning.plannedStart } } : {}),
      trips: sim.trips.truth(),
      fixes: { ...sim.summary, bufferOverflow: sim.bufferOverflow, unsent: sim.unsent.readings },
      ...(excursions.length > 0 ? { temperatureExcursions: excursions.map((e) => ({ start: Math.round(e.start), end: Math.round(e.end), peakC: Math.round(e.peakC * 10) / 10 })) } : {}),
    })),
  }
}

export function writeTruth(file: string, doc: ReturnType<typeof truthDocument>) {
  writeFileSync(file, JSON.stringify(doc, null, 1) + '\n')
}
