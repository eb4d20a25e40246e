// The one place configuration is read. Every setting is declared once below (type, bounds, default,
// description); defaults come from config/defaults.json, then a .env file, then the environment.
// docs/configuration.md and the README table are generated from this declaration (npm run docs:generate).
import { readFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import { Ajv } from 'ajv'
import { Type, type Static } from 'typebox'
import { fromRoot } from './paths.js'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, accountProblems, isPlaceholderPassword, type AccountField } from './security/account-rules.js'

const Str = (description: string, opts: object = {}) => Type.String({ description, ...opts })
const Int = (description: string, minimum = 0, maximum = Number.MAX_SAFE_INTEGER) => Type.Integer({ description, minimum, maximum })
const Num = (description: string, minimum = 0, maximum = Number.MAX_VALUE) => Type.Number({ description, minimum, maximum })
const Bool = (description: string) => Type.Boolean({ description })
const Opt = <T extends ReturnType<typeof Str>>(t: T) => Type.Optional(t)

export const ConfigSchema = Type.Object({
  NODE_ENV: Str('development, production or test', { enum: ['development', 'production', 'test'] }),
  LOG_LEVEL: Str('pino level', { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
  LOG_PRETTY: Str('human-readable logs: auto (when stdout is a terminal outside production), true, false', { enum: ['auto', 'true', 'false'] }),

  HTTP_HOST: Str('address the API (and MQTT over WebSocket at /mqtt) listens on'),
  HTTP_PORT: Int('API port; 0 picks a free one', 0, 65535),
  MQTT_HOST: Str('address the MQTT TCP listener binds to'),
  MQTT_PORT: Int('MQTT TCP port (1884 by default so it can run beside a Mosquitto on 1883); 0 picks a free one', 0, 65535),
  MQTT_TLS_PORT: Int('MQTT over TLS port, used when MQTT_TLS_CERT and MQTT_TLS_KEY are set', 0, 65535),
  MQTT_TLS_CERT: Opt(Str('path to a PEM certificate for MQTT over TLS')),
  MQTT_TLS_KEY: Opt(Str('path to the PEM private key for MQTT over TLS')),
  MQTT_MAX_PAYLOAD_BYTES: Int('largest MQTT packet accepted; bigger ones close the connection. Also the largest body of HTTP ingestion (POST /api/v1/ingest/*; bigger ones are a 413)', 1024, 268435455),
  MQTT_MAX_TOPIC_LEVELS: Int('deepest topic accepted', 1, 100),
  MQTT_CONNECT_TIMEOUT_MS: Int('time a socket has to send CONNECT', 100),
  MQTT_MAX_BATCH: Int('most readings (or events) in one message from a device, over MQTT or HTTP ingestion alike; larger batches are dead-lettered (BATCH_TOO_LARGE). Not INGEST_BATCH_MAX, which is rows per database write', 1, 100000),
  MQTT_SESSION_MAX_QUEUED: Int('most messages kept for one persistent MQTT session (clean=false) while its client is away; newer ones are dropped (retrack_mqtt_queued_dropped_total); 0: no limit', 0, 1000000),
  MQTT_SESSION_EXPIRY_S: Int('a persistent MQTT session whose client has not been connected for this long is removed with its queued messages and subscriptions; 0: never', 0),
  MQTT_SESSIONS_PER_TENANT_MAX: Int('most persistent MQTT sessions (clean=false) of one tenant\'s integrations, across all nodes; a CONNECT that would create one more is refused (return code 5), reconnecting to an existing one is not; 0: no limit', 0),
  MQTT_INTEGRATIONS_PER_TENANT_MAX: Int('most live MQTT integration connections of one tenant on each node; one more is refused (return code 5); 0: no limit', 0),

  DATABASE_URL: Opt(Str('PostgreSQL URL; when unset ReTrack runs an embedded PGlite database in DATA_DIR')),
  DATA_DIR: Str('folder for the embedded database, generated secrets and (without REDIS_URL) the asset state snapshot. memory:// (for tests and experiments) keeps the embedded database in memory and writes nothing: no folder lock, no state snapshot, no demo tenant (set the BOOTSTRAP_* settings to get one), a JWT secret generated anew at each start when JWT_SECRET is unset; everything is gone when the process stops'),
  DB_POOL_MAX: Int('PostgreSQL connections per process', 1, 1000),
  DB_QUERY_TIMEOUT_MS: Int('longest a PostgreSQL query may go unanswered before ReTrack fails it and drops its connection (a hung server, a half-open connection); 0: no limit. Not applied to migrations or the embedded database', 0),
  RETENTION_POSITIONS_DAYS: Int('positions (the GPS history) with an event time more than this many days old are deleted; 0: kept forever (deleting customers\' history must be chosen). When set, at least FILTER_MAX_AGE_S in days. Tracking events are never deleted', 0, 36500),
  RETENTION_DEAD_LETTERS_DAYS: Int('dead letters (refused payloads) received more than this many days ago are deleted; 0: kept forever', 0, 36500),
  RETENTION_WEBHOOK_DELIVERIES_DAYS: Int('webhook deliveries delivered or given up more than this many days ago (written then, with their event) are deleted; pending ones never; 0: kept forever', 0, 36500),
  RETENTION_SWEEP_INTERVAL_S: Int('how often the retention sweep runs (first a minute after start-up; one node of a deployment at a time; not at all when every RETENTION_*_DAYS is 0)', 60, 2147483),
  REDIS_URL: Opt(Str('Redis URL: asset state in Redis and the broker clustered over Redis; unset means in-process state')),
  REDIS_KEY_PREFIX: Str('prefix for every Redis key and pub/sub channel ReTrack uses, the broker\'s included: the nodes of one deployment share it, deployments sharing a Redis need different ones'),
  MQTT_CLUSTER: Str('share broker subscriptions and sessions with other nodes through Redis: auto (when REDIS_URL is set), on, off', { enum: ['auto', 'on', 'off'] }),

  JWT_SECRET: Opt(Str('secret that signs access tokens (32+ characters). Required when NODE_ENV=production (the Docker image sets it; without it the process exits 78), and every node of a deployment must share it. Elsewhere generated into DATA_DIR when unset', { minLength: 32 })),
  ACCESS_TOKEN_TTL_S: Int('lifetime of a user access token', 30),
  REFRESH_TOKEN_TTL_S: Int('lifetime of a refresh token', 60),
  DEVICE_TOKEN_TTL_S: Int('lifetime of a device JWT usable as MQTT password', 30),
  LOGIN_MAX_FAILURES: Int('failed logins for one email (whatever the tenant) before its logins are refused for a while (429 TOO_MANY_ATTEMPTS with Retry-After); a success starts it afresh; counted per process (docs/security.md); 0: no limit', 0, 1000),
  LOGIN_IP_MAX_FAILURES: Int('failed logins from one client address (an IPv6 /64) before its logins are refused for a while; behind a reverse proxy set TRUST_PROXY, or every client has the proxy\'s address (docs/security.md); 0: no limit', 0, 100000),
  TRUST_PROXY: Str('reverse proxies whose X-Forwarded-For (and -Proto, -Host) the API believes, so that logs and login throttling see the client\'s address: empty (none: the default, the peer is the client), a comma-separated list of addresses or CIDR ranges (e.g. 127.0.0.1,10.0.0.0/8), or a number of hops. Set only what can reach the HTTP port: a client that can forward its own header picks its address', { pattern: '^$|^[0-9]{1,2}$|^[0-9A-Fa-f.:/]+(,[0-9A-Fa-f.:/]+)*$' }),
  LOGIN_LOCKOUT_S: Int('first wait imposed by LOGIN_MAX_FAILURES or LOGIN_IP_MAX_FAILURES; a failure after a wait brings the next one, twice as long, up to 16 times this; an email or address is forgotten once that longest wait has passed since its last failure or wait', 1, 86400),

  BOOTSTRAP_TENANT: Opt(Str('first-run: slug of the tenant to create when the database has none (the three BOOTSTRAP_* settings go together: all or none)')),
  BOOTSTRAP_EMAIL: Opt(Str('first-run: email of its admin (a platform administrator)')),
  BOOTSTRAP_PASSWORD: Opt(Str(`first-run: password of that admin (${PASSWORD_MIN_LENGTH}-${PASSWORD_MAX_LENGTH} characters; a well-known placeholder such as change-me-please is refused)`, { minLength: PASSWORD_MIN_LENGTH })),

  INGEST_BATCH_MAX: Int('most rows (readings, events, dead letters) written in one database batch (group commit); not MQTT_MAX_BATCH, which bounds the readings in one device message', 1, 100000),
  PIPELINE_MAX_BACKLOG: Int('fixes stored but not yet processed above which acknowledgements wait (backpressure)', 1),
  INGEST_BATCH_WAIT_MS: Int('longest a reading waits for its batch to fill before it is written', 0, 10000),

  STOP_RADIUS_M: Num('radius of the circular fence every shipment stop gets unless it says otherwise', 10, 100000),
  STOP_DWELL_S: Int('planned dwell at a stop when the shipment does not say: the time the stay is expected to take, which ETAs of later stops add; not GEOFENCE_DWELL_S, the time inside a fence that confirms an arrival', 0),
  STOP_STATIONARY_MPS: Num('a fix slower than this (its reported speed, else its distance from the previous fix over the time between) is stationary: arriving at a stop needs at least one stationary fix inside its fence, besides the dwell', 0, 50),
  STOP_SKIP_STILL_S: Int('seconds stationary inside a stop\'s fence before it counts as reached while earlier stops are still pending (which it then skips)'),

  FILTER_MAX_FUTURE_S: Int('fixes stamped further in the future are dropped'),
  FILTER_MAX_AGE_S: Int('fixes older than this are dropped'),
  FILTER_MAX_ACCURACY_M: Num('fixes with a worse reported accuracy are dropped'),
  FILTER_MAX_SPEED_MPS: Num('implied speed between consecutive fixes above which a fix is an impossible jump'),

  GEOFENCE_DWELL_S: Int('seconds an asset must stay inside a fence (tenant fence or stop) before it counts as entered / arrived (a confirmation time); not STOP_DWELL_S, the planned length of a stay used by ETAs'),
  GEOFENCE_EXIT_MARGIN_M: Num('metres beyond a fence an asset must be before it can count as exited / departed'),
  GEOFENCE_EXIT_S: Int('seconds an asset must stay beyond the exit margin before it counts as exited / departed'),
  GEOFENCE_MAX_ENTRY_ACCURACY_M: Num('fixes less accurate than this enter a fence only when their whole error circle is inside'),
  ETA_CIRCUITY: Num('road distance ÷ great-circle distance, used when a shipment has no planned route', 1, 5),
  ETA_DEFAULT_SPEED_KMH: Num('cruising speed assumed before (and blended with) the measured moving speed, of the asset and of its fleet (docs/processing.md)', 1, 200),
  ETA_SPEED_TAU_S: Int('memory of the typical moving pace, in moving seconds (the speed histogram fades by e over this; long: a trip\'s pace, not the last few minutes)', 1),
  ETA_NEAR_STOP_M: Num('the last and first metres of a leg, around its stops, count as town/yard driving with their own speed'),
  ETA_NEAR_STOP_SPEED_KMH: Num('speed assumed near stops before (and blended with) the measured one, of the asset and of its fleet', 1, 200),
  ETA_THRESHOLD_S: Int('an eta_updated event is stored only when a stop\'s ETA moves by more than this'),
  ETA_AT_RISK_S: Int('an ETA within this of the window end is "at risk"'),
  OFF_ROUTE_M: Num('distance from the planned route beyond which an asset is off route'),
  OFF_ROUTE_S: Int('seconds beyond that distance before off_route fires'),
  UNPLANNED_STOP_S: Int('seconds stationary away from every stop before unplanned_stop fires'),
  STATIONARY_RADIUS_M: Num('an asset within this radius of one spot is stationary'),
  LOW_BATTERY_PCT: Num('battery below this fires low_battery (recovers 10 points above)', 0, 100),
  TEMP_EXCURSION_S: Int('seconds outside the shipment\'s temperature range before temperature_excursion fires'),
  OFFLINE_AFTER_S: Int('seconds without data before device_offline fires', 1),
  OFFLINE_SWEEP_S: Int('how often the offline sweep runs', 1),

  WEBHOOK_POLL_MS: Int('how often each node looks for webhook deliveries that are due (besides at once when it stores events itself)', 50, 3600000),
  WEBHOOK_CONCURRENCY: Int('webhook requests in flight at once on each node (one at a time per webhook in the whole deployment); 0: this node delivers none (another node does)', 0, 1000),
  WEBHOOK_TIMEOUT_MS: Int('longest a webhook request may take (connecting, sending, the response headers) before the attempt counts as failed', 100, 120000),
  WEBHOOK_BACKOFF_MIN_MS: Int('wait before retrying a failed webhook delivery the first time; doubled after every failed attempt up to WEBHOOK_BACKOFF_MAX_MS, less up to a quarter at random', 1, 86400000),
  WEBHOOK_BACKOFF_MAX_MS: Int('longest wait between two attempts of a webhook delivery', 1, 86400000),
  WEBHOOK_MAX_AGE_S: Int('a webhook delivery still failing this long after its event was stored is given up (status failed, retried only by hand); its last attempt happens then', 1, 31536000),
  WEBHOOK_ALLOW_PRIVATE: Bool('let webhooks call loopback, private, link-local, CGNAT, multicast, reserved and cloud metadata addresses (refused by default: a tenant must not reach the network ReTrack runs in); for tests and single-tenant private deployments'),
  WEBHOOK_ALLOW_HTTP: Bool('let webhook URLs use plain http:// (refused by default: https only, the events are customers\' data)'),

  EXTERNAL_BROKER_URL: Opt(Str('consume device topics from this broker (mqtt://…) instead of, or beside, the embedded one')),
  EXTERNAL_BROKER_USERNAME: Opt(Str('username for the external broker')),
  EXTERNAL_BROKER_PASSWORD: Opt(Str('password for the external broker')),
  EXTERNAL_BROKER_SHARE_GROUP: Str('shared-subscription group name used on the external broker (letters, digits, _ . -)', { pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  EXTERNAL_BROKER_CLIENT_ID: Opt(Str('client id on the external broker (default retrack-<hostname>, with the worker slot under WORKERS); must stay the same across restarts: the broker keeps a session per client id', { pattern: '^[A-Za-z0-9_.:-]{1,128}$' })),
  EMBEDDED_BROKER: Bool('run the embedded Aedes broker'),

  SHUTDOWN_TIMEOUT_MS: Int('longest a graceful shutdown may take before the process exits anyway', 100),
  WORKERS: Int('processes of this node sharing its MQTT and HTTP ports (node:cluster), e.g. one per core; more than 1 needs DATABASE_URL, REDIS_URL and MQTT_CLUSTER not off', 1, 64),
})
export type Config = Static<typeof ConfigSchema>
export type ConfigKey = keyof Config

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
}

/** The exit code of a process stopped by a ConfigError (sysexits.h EX_CONFIG), for the server and the CLI alike. */
export const EX_CONFIG = 78

export const defaultsFile = fromRoot('config/defaults.json')

function readDefaults(): Record<string, unknown> {
  return JSON.parse(readFileSync(defaultsFile, 'utf8')) as Record<string, unknown>
}

const ajv = new Ajv({ coerceTypes: true, useDefaults: false, allErrors: true, strict: false })
const validate = ajv.compile<Config>(ConfigSchema)

/**
 * Builds the configuration from defaults, then `env` (process.env by default). Unknown keys are
 * ignored; a bad value throws ConfigError naming every offending key (never its value: it may be a secret).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const keys = Object.keys(ConfigSchema.properties) as ConfigKey[]
  const candidate: Record<string, unknown> = {}
  const defaults = readDefaults()
  for (const key of keys) {
    const fromEnv = env[key]
    const value = key in overrides ? overrides[key] : fromEnv !== undefined && fromEnv !== '' ? fromEnv : defaults[key]
    if (value !== undefined) candidate[key] = value
  }
  const problems: string[] = []
  for (const key of keys) {
    // Ajv's coercion takes "0x50", "1e3" or " 80" for an integer; a port or a size is written in digits
    const s = ConfigSchema.properties[key] as { type?: string }
    const raw = candidate[key]
    if (s.type === 'integer' && typeof raw === 'string' && !/^-?\d+$/.test(raw.trim())) problems.push(`${key}: must be an integer written in digits`)
  }
  if (!validate(candidate)) {
    for (const e of validate.errors ?? []) {
      const key = e.instancePath.replace(/^\//, '') || String(e.params['missingProperty'] ?? '')
      if (problems.some((p) => p.startsWith(`${key}: `))) continue
      // the allowed values of an enum are no secret; the value given may be
      const allowed = e.keyword === 'enum' ? (e.params as { allowedValues?: unknown[] }).allowedValues : undefined
      problems.push(`${key}: ${allowed ? `must be one of ${allowed.join(', ')}` : e.message ?? 'invalid'}`)
    }
  }
  if (problems.length === 0) problems.push(...configProblems(candidate as Config))
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)
  return candidate as Config
}

/** URL settings: the schemes each accepts. A URL may hold a password, so a message never quotes it. */
const urlSchemes: Partial<Record<ConfigKey, string[]>> = {
  DATABASE_URL: ['postgres:', 'postgresql:'],
  REDIS_URL: ['redis:', 'rediss:'],
  EXTERNAL_BROKER_URL: ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:'],
}

/**
 * Problems between settings, or in a URL's shape, that the schema cannot see (each names its
 * settings, never their values).
 */
export function configProblems(config: Config): string[] {
  const problems: string[] = []
  for (const [key, schemes] of Object.entries(urlSchemes) as Array<[ConfigKey, string[]]>) {
    const value = config[key]
    if (typeof value !== 'string') continue
    let url: URL
    try { url = new URL(value) } catch { problems.push(`${key}: is not a valid URL (expected ${schemes.map((s) => `${s}//…`).join(' or ')}; a password with reserved characters must be percent-encoded)`); continue }
    if (!schemes.includes(url.protocol)) { problems.push(`${key}: must start with ${schemes.map((s) => `${s}//`).join(' or ')}`); continue }
    try { decodeURIComponent(url.username); decodeURIComponent(url.password) } catch { problems.push(`${key}: has a malformed percent-encoding in its user or password`) }
    if (key !== 'DATABASE_URL' && !url.hostname) problems.push(`${key}: has no host`)
  }
  problems.push(...bootstrapProblems(config))
  const acceptedDays = Math.ceil(config.FILTER_MAX_AGE_S / 86400)
  if (config.RETENTION_POSITIONS_DAYS > 0 && config.RETENTION_POSITIONS_DAYS < acceptedDays) {
    // fixes that old are still accepted and stored: they would be deleted at the next sweep
    problems.push(`RETENTION_POSITIONS_DAYS: must be 0 (keep forever) or at least FILTER_MAX_AGE_S in days (${acceptedDays})`)
  }
  if (config.MQTT_CLUSTER === 'on' && !config.REDIS_URL) problems.push('MQTT_CLUSTER: on needs REDIS_URL')
  if (config.WEBHOOK_BACKOFF_MIN_MS > config.WEBHOOK_BACKOFF_MAX_MS) problems.push('WEBHOOK_BACKOFF_MIN_MS: must not be more than WEBHOOK_BACKOFF_MAX_MS')
  if (Boolean(config.MQTT_TLS_CERT) !== Boolean(config.MQTT_TLS_KEY)) problems.push('MQTT_TLS_CERT and MQTT_TLS_KEY: set both (MQTT over TLS) or neither')
  for (const key of ['MQTT_TLS_CERT', 'MQTT_TLS_KEY'] as const) {
    const file = config[key]
    if (file && !existsSync(file)) problems.push(`${key}: no such file`)
  }
  return problems
}

const bootstrapKeys = ['BOOTSTRAP_TENANT', 'BOOTSTRAP_EMAIL', 'BOOTSTRAP_PASSWORD'] as const
const bootstrapFields: Partial<Record<AccountField, typeof bootstrapKeys[number]>> = { slug: 'BOOTSTRAP_TENANT', email: 'BOOTSTRAP_EMAIL', password: 'BOOTSTRAP_PASSWORD' }

/**
 * The first-run settings go together (a part of them would otherwise be ignored without a word)
 * and follow the rules of the API's POST /tenants.
 */
function bootstrapProblems(config: Config): string[] {
  const missing = bootstrapKeys.filter((key) => !config[key])
  if (missing.length === bootstrapKeys.length) return []
  if (missing.length > 0) return [`${missing.join(', ')}: missing (${bootstrapKeys.join(', ')} go together: set all three or none)`]
  const problems = accountProblems({ slug: config.BOOTSTRAP_TENANT, email: config.BOOTSTRAP_EMAIL, password: config.BOOTSTRAP_PASSWORD })
    .map((p) => `${bootstrapFields[p.field] ?? p.field}: ${p.problem}`)
  // the first admin is a platform administrator, often on a public port: not with a published password
  if (isPlaceholderPassword(config.BOOTSTRAP_PASSWORD!)) problems.push('BOOTSTRAP_PASSWORD: is a well-known placeholder (change-me, password, admin…): choose a password of your own')
  return problems
}

/** Loads `.env` from the working directory into process.env, if there is one (existing variables win). */
export function loadDotEnv(file = path.resolve('.env')): void {
  if (!existsSync(file)) return
  try {
    process.loadEnvFile(file)
  } catch (err) {
    throw new ConfigError(`invalid configuration: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`)
  }
}

/** One row per setting, for docs and `retrack config`. */
export function describeConfig(): Array<{ key: string, type: string, default: unknown, description: string }> {
  const defaults = readDefaults()
  return Object.entries(ConfigSchema.properties).map(([key, schema]) => {
    const s = schema as { type?: string, enum?: string[], description?: string }
    return { key, type: s.enum ? s.enum.join(' \\| ') : s.type ?? 'string', default: defaults[key], description: s.description ?? '' }
  })
}
