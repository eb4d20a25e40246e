// Builds the reading a tracker would report from the vehicle's true state: GPS noise, an occasional
// jump, a plausible accuracy, battery and (for reefers) temperature. Rounded like real devices do.
import type { Reading } from '../src/contracts/payloads.js'
import { withJump, withNoise, type FaultParams } from './faults/faults.js'
import { round7 } from './geo.js'
import type { VehicleState } from './motion/vehicle.js'
import { chance, uniform, type Rng } from './random.js'
import type { Battery, ReeferTemperature } from './sensors.js'

export interface ReadingSensors { battery: Battery, temperature?: ReeferTemperature | undefined }

const r1 = (x: number) => Math.round(x * 10) / 10
const r2 = (x: number) => Math.round(x * 100) / 100

export function buildReading(state: VehicleState, ts: number, seq: number, sensors: ReadingSensors, faults: FaultParams, rng: Rng): { reading: Reading, jumped: boolean } {
  let pos = withNoise(rng, state.lat, state.lon, faults.noiseM)
  const jumped = chance(rng, faults.jumpProb)
  if (jumped) pos = withJump(rng, pos.lat, pos.lon)
  const reading: Reading = {
    ts,
    lat: round7(pos.lat),
    lon: round7(pos.lon),
    speed: r2(state.speed),
    heading: r1(state.heading) % 360,
    accuracy: r1(uniform(rng, 3, 15)),
    battery: sensors.battery.at(ts),
    seq,
  }
  if (sensors.temperature) reading.attrs = { temp: sensors.temperature.at(ts) }
  return { reading, jumped }
}
