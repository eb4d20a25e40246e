// Command line and config file → one validated SimConfig. The config file is a JSON object with the
// flag names as keys (kebab-case or camelCase); flags given on the command line win.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { FLAGS } from './flags.js'
import { shippedRouteNames } from './routes.js'
import { urlProblem } from './url-check.js'

/** ReTrack's default MQTT_MAX_BATCH: a backlog batch over it is dead-lettered whole. */
const MAX_BATCH_LIMIT = 1000

export interface SimConfig {
  url: string
  api: string
  tenant: string | undefined
  qos: 0 | 1
  devicesFile: string | undefined
  provision: boolean
  /** also cancel open shipments of the devices that the simulator did not create */
  cancelOpen: boolean
  /** set when no credentials were given and the local embedded ReTrack's demo admin was used */
  localDemo?: { email: string, passwordFile: string }
  email: string | undefined
  password: string | undefined
  devices: number | undefined
  interval: number
  speedup: number
  duration: number | undefined
  trips: number | undefined
  stagger: number
  windowMin: number
  routes: string
  bbox: [number, number, number, number]
  speedKmh: number
  speedVar: number
  traffic: number
  dwellJitter: number
  seed: number
  rate: number
  connectRate: number
  connectConcurrency: number
  noiseM: number
  jumpProb: number
  gapProb: number
  gapS: number
  /** most entries in one backlog batch (ReTrack dead-letters batches over its MQTT_MAX_BATCH) */
  maxBatch: number
  reconnectProb: number
  dropProb: number
  dupProb: number
  malformedPct: number
  temp: number | undefined
  tempExcursionProb: number
  batteryDrain: number
  truthOut: string | undefined
  progress: number
  json: boolean
  help: boolean
}

export class ConfigError extends Error {}

type Raw = Record<string, string | boolean | undefined>

const camel = (kebab: string) => kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())

function readConfigFile(file: string): Raw {
  let json: unknown
  try { json = JSON.parse(readFileSync(file, 'utf8')) } catch (err) { throw new ConfigError(`--config ${file}: ${(err as Error).message}`) }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`--config ${file}: expected a JSON object`)
  const raw: Raw = {}
  for (const [key, value] of Object.entries(json)) {
    const flag = FLAGS.find((fl) => fl.name === key || camel(fl.name) === key)
    if (!flag || flag.name === 'config') throw new ConfigError(`--config ${file}: unknown key "${key}"`)
    if (flag.type === 'boolean' ? typeof value !== 'boolean' : !['string', 'number'].includes(typeof value)) {
      throw new ConfigError(`--config ${file}: "${key}" must be a ${flag.type === 'boolean' ? 'boolean' : 'string or number'}`)
    }
    raw[flag.name] = typeof value === 'number' ? String(value) : value as string | boolean
  }
  return raw
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): SimConfig {
  let parsed: Raw
  try {
    const options = Object.fromEntries(FLAGS.map((fl) => [fl.name, { type: fl.type }]))
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  const fromFile = typeof parsed['config'] === 'string' ? readConfigFile(parsed['config']) : {}
  const raw: Raw = { ...fromFile, ...Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined)) }
  return buildConfig(raw, env)
}

function buildConfig(raw: Raw, env: NodeJS.ProcessEnv): SimConfig {
  const defaults = Object.fromEntries(FLAGS.flatMap((fl) => fl.default !== undefined ? [[fl.name, fl.default]] : []))
  const str = (name: string): string | undefined => {
    const v = raw[name] ?? defaults[name]
    return typeof v === 'string' ? v : undefined
  }
  const num = (name: string, min: number, max = Number.POSITIVE_INFINITY, integer = false): number | undefined => {
    const text = str(name)
    if (text === undefined) return undefined
    const n = Number(text)
    if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new ConfigError(`--${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], not "${text}"`)
    }
    return n
  }
  const need = (name: string, min: number, max?: number, integer?: boolean) => num(name, min, max, integer)!
  const bool = (name: string) => raw[name] === true
  const prob = (name: string) => need(name, 0, 1)

  const qos = need('qos', 0, 1, true) as 0 | 1
  const bbox = (str('bbox') ?? '').split(',').map(Number)
  const [minLon, minLat, maxLon, maxLat] = bbox
  if (bbox.length !== 4 || bbox.some((x) => !Number.isFinite(x)) || minLon! >= maxLon! || minLat! >= maxLat! || minLat! < -85 || maxLat! > 85 ||
    minLon! < -180 || maxLon! > 180) {
    throw new ConfigError('--bbox must be minLon,minLat,maxLon,maxLat with min < max, longitudes in [-180, 180] and latitudes in [-85, 85]')
  }
  const config: SimConfig = {
    url: str('url')!, api: str('api')!.replace(/\/+$/, ''), tenant: str('tenant'), qos,
    devicesFile: str('devices-file'), provision: bool('provision'), cancelOpen: bool('cancel-open'), email: str('email'),
    password: str('password') ?? env['RETRACK_SIM_PASSWORD'],
    devices: num('devices', 1, 100_000, true),
    interval: need('interval', 0.1, 86_400), speedup: need('speedup', 1, 100_000),
    duration: num('duration', 0.1), trips: num('trips', 1, 10_000, true), stagger: need('stagger', 0), windowMin: need('window-min', 0),
    routes: str('routes')!, bbox: [minLon!, minLat!, maxLon!, maxLat!],
    speedKmh: need('speed-kmh', 1, 300), speedVar: need('speed-var', 0, 0.9), traffic: need('traffic', 0), dwellJitter: need('dwell-jitter', 0, 0.9),
    seed: num('seed', 0, 2 ** 32 - 1, true) ?? Math.floor(Math.random() * 2 ** 32),
    rate: need('rate', 0), connectRate: need('connect-rate', 0.1), connectConcurrency: need('connect-concurrency', 1, 100_000, true),
    noiseM: need('noise-m', 0, 10_000), jumpProb: prob('jump-prob'), gapProb: prob('gap-prob'), gapS: need('gap-s', 0), maxBatch: need('max-batch', 1, MAX_BATCH_LIMIT, true),
    reconnectProb: prob('reconnect-prob'), dropProb: prob('drop-prob'), dupProb: prob('dup-prob'), malformedPct: need('malformed-pct', 0, 100),
    temp: num('temp', -60, 60), tempExcursionProb: prob('temp-excursion-prob'), batteryDrain: need('battery-drain', 0, 100),
    truthOut: str('truth-out'), progress: need('progress', 0), json: bool('json'), help: bool('help'),
  }
  if (config.help) return config
  useLocalDemo(config, env)
  config.devices ??= config.provision ? 10 : undefined
  if (config.provision && (!config.email || !config.password)) throw new ConfigError('--provision needs --email and --password (or RETRACK_SIM_PASSWORD)')
  if (!config.provision && !config.devicesFile) throw new ConfigError('give credentials: --devices-file devices.json, or --provision --email … --password … (with no credentials the simulator uses the demo admin of a local embedded ReTrack, found in data/initial-admin-password)')
  // --tenant may also come from the devices file or the login: preflight checks that once the file is read
  if (!/^(mqtts?|wss?):\/\//.test(config.url)) throw new ConfigError(`--url must be a mqtt://, mqtts://, ws:// or wss:// URL, not "${config.url}"`)
  const urlBad = urlProblem(config.url)
  if (urlBad) throw new ConfigError(`--url "${config.url}": ${urlBad}`)
  if (!/^https?:\/\//.test(config.api)) throw new ConfigError(`--api must be an http:// or https:// URL, not "${config.api}"`)
  const apiBad = urlProblem(config.api)
  if (apiBad) throw new ConfigError(`--api "${config.api}": ${apiBad}`)
  checkRouteNames(config.routes)
  // the tenant is the MQTT username and a topic level of every topic the devices use
  if (config.tenant !== undefined && !/^[^/+#\s]+$/.test(config.tenant)) throw new ConfigError(`--tenant must be a tenant slug (no /, +, # or spaces), not "${config.tenant}"`)
  return config
}

/**
 * Named routes must be shipped ones: checked here, before --provision creates anything, since a
 * typo found after provisioning leaves vehicles, devices and a devices file behind for nothing.
 */
function checkRouteNames(routes: string) {
  if (routes === 'all' || routes === 'random') return
  const names = routes.split(',').map((n) => n.trim()).filter(Boolean)
  const shipped = shippedRouteNames()
  if (names.length === 0) throw new ConfigError(`--routes must be all, random or shipped route names separated by commas, not "${routes}"`)
  const unknown = names.filter((n) => !shipped.includes(n))
  if (unknown.length > 0) throw new ConfigError(`--routes: unknown route ${unknown.join(', ')}; shipped routes: ${shipped.join(', ')}`)
}

/** The demo admin an embedded ReTrack creates on its first run (src/db/accounts.ts). */
const DEMO_ADMIN = 'admin@demo.local'

/**
 * With no credentials at all, drive the ReTrack started by `npm start` in this checkout: its first
 * run wrote the demo admin's password to DATA_DIR/initial-admin-password, so provision with that.
 */
function useLocalDemo(config: SimConfig, env: NodeJS.ProcessEnv) {
  if (config.provision || config.devicesFile || config.email) return
  const passwordFile = path.resolve(env['DATA_DIR'] ?? 'data', 'initial-admin-password')
  if (!existsSync(passwordFile)) return
  config.provision = true
  config.email = DEMO_ADMIN
  config.password ??= readFileSync(passwordFile, 'utf8').trim()
  config.localDemo = { email: DEMO_ADMIN, passwordFile }
}
