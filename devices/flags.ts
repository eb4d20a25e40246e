// Every command-line flag, once: parseArgs options, the --help text and the config-file keys are all
// derived from this table, so they cannot drift apart.

export interface FlagSpec {
  name: string
  type: 'string' | 'boolean'
  value?: string
  default?: string
  help: string
}

export interface FlagGroup { title: string, flags: FlagSpec[] }

const f = (name: string, value: string | undefined, def: string | undefined, help: string): FlagSpec =>
  value === undefined ? { name, type: 'boolean', help } : { name, type: 'string', value, ...(def !== undefined ? { default: def } : {}), help }

export const FLAG_GROUPS: FlagGroup[] = [
  {
    title: 'Connection', flags: [
      f('config', 'file.json', undefined, 'read flags from a JSON object with the same keys (command-line flags win)'),
      f('url', 'url', 'mqtt://localhost:1884', 'MQTT broker (ReTrack\'s embedded broker, or any MQTT 3.1.1 broker)'),
      f('api', 'url', 'http://localhost:8080', 'ReTrack REST API, for --provision and shipments'),
      f('tenant', 'slug', undefined, 'tenant slug: the MQTT username and topic prefix (default: the devices file\'s, written by --provision, or the login\'s)'),
      f('qos', '0|1', '1', 'QoS of telemetry and events'),
    ],
  },
  {
    title: 'Credentials', flags: [
      f('devices-file', 'file.json', undefined, 'JSON list of {deviceId, secret[, vehicleId, tenant]}; with --provision, where the new credentials are saved (default sim-devices.json; an existing file is kept as <file>.bak). One simulator per file: a run holds <file>.lock'),
      f('provision', undefined, undefined, 'log in to the API and create vehicles, devices and shipments'),
      f('email', 'address', undefined, 'API login for --provision (or to create shipments for a --devices-file with vehicleIds)'),
      f('password', 'secret', undefined, 'API password (or env RETRACK_SIM_PASSWORD)'),
      f('cancel-open', undefined, undefined, 'with a login: also cancel open shipments of the devices that the simulator did not create (its own SIM-… ones are always cancelled before a run)'),
      f('devices', 'N', undefined, 'number of devices: with --provision how many to create (default 10), with --devices-file the first N (default all)'),
    ],
  },
  {
    title: 'Time and trips', flags: [
      f('interval', 'seconds', '5', 'simulated seconds between fixes'),
      f('speedup', 'factor', '60', 'time compression: simulated seconds per wall second'),
      f('duration', 'seconds', undefined, 'stop after this many wall seconds'),
      f('trips', 'N', undefined, 'trips per vehicle (odd trips drive the route back); default 1 without --duration'),
      f('stagger', 'seconds', '900', 'vehicles leave at random within this many simulated seconds'),
      f('window-min', 'minutes', '60', 'appointment window: planned arrival ± this (shipments created by the simulator)'),
    ],
  },
  {
    title: 'Routes and driving', flags: [
      f('routes', 'all|random|name[,name]', 'all', 'shipped routes round-robin, random routes in --bbox, or the named routes'),
      f('bbox', 'minLon,minLat,maxLon,maxLat', '13.0,52.3,13.8,52.7', 'area of random routes'),
      f('speed-kmh', 'km/h', '80', 'cruise speed (a route\'s own limit caps it)'),
      f('speed-var', 'fraction', '0.2', 'cruise varies by ± this fraction'),
      f('traffic', 'per hour', '1', 'random traffic slowdowns per driving hour'),
      f('dwell-jitter', 'fraction', '0.2', 'actual dwell = planned × (1 ± this)'),
      f('seed', 'int', undefined, 'random seed (printed; repeat it to repeat a run)'),
    ],
  },
  {
    title: 'Load', flags: [
      f('rate', 'msg/s', '2000', 'most publishes per second over all devices (token bucket; 0 = unlimited)'),
      f('connect-rate', 'per s', '200', 'most new connections per second'),
      f('connect-concurrency', 'N', '200', 'most connections waiting for their CONNACK'),
    ],
  },
  {
    title: 'Faults', flags: [
      f('noise-m', 'metres', '4', 'GPS noise, standard deviation'),
      f('jump-prob', 'p', '0', 'chance per fix of a GPS jump (2–50 km off)'),
      f('gap-prob', 'p', '0', 'chance per fix of a coverage gap: offline, fixes buffered, sent as array batches (--max-batch) on reconnect'),
      f('gap-s', 'seconds', '300', 'simulated length of a coverage gap'),
      f('max-batch', 'N', '500', 'most readings (or events) in one backlog batch, 1–1000; a bigger backlog goes out as several batches (ReTrack refuses batches over its MQTT_MAX_BATCH, default 1000)'),
      f('reconnect-prob', 'p', '0', 'chance per fix of a clean disconnect and reconnect'),
      f('drop-prob', 'p', '0', 'chance per fix of an abrupt socket close (the broker publishes the Last Will)'),
      f('dup-prob', 'p', '0', 'chance per fix of sending the same reading twice (same seq and ts)'),
      f('malformed-pct', 'percent', '0', 'share of telemetry messages replaced by bad payloads (non-JSON, wrong types, out of range…)'),
    ],
  },
  {
    title: 'Sensors', flags: [
      f('temp', '°C', undefined, 'reefer: send attrs.temp around this set point (provisioned shipments allow ±3 °C)'),
      f('temp-excursion-prob', 'p', '0', 'chance per trip of a temperature excursion (+6 to +12 °C for 20–60 min)'),
      f('battery-drain', '%/h', '1.5', 'battery drain per simulated hour'),
    ],
  },
  {
    title: 'Output', flags: [
      f('truth-out', 'file.json', undefined, 'write true stop arrival/departure times and a fix summary per device'),
      f('progress', 'seconds', '5', 'progress line on stderr every this many seconds (0 = off)'),
      f('json', undefined, undefined, 'print the final summary as JSON on stdout'),
      f('help', undefined, undefined, 'show this help'),
    ],
  },
]

export const FLAGS: FlagSpec[] = FLAG_GROUPS.flatMap((g) => g.flags)

export function helpText(): string {
  const lines = ['Usage: npm run simulate -- [flags]', '', 'Runs fleets of virtual trackers over MQTT against ReTrack. See docs/simulator.md.', '']
  for (const group of FLAG_GROUPS) {
    lines.push(`${group.title}:`)
    for (const flag of group.flags) {
      const left = `  --${flag.name}${flag.value ? ` <${flag.value}>` : ''}`
      const def = flag.default !== undefined ? ` (default ${flag.default})` : ''
      lines.push(`${left.padEnd(44)}${flag.help}${def}`)
    }
    lines.push('')
  }
  return lines.join('\n')
}
