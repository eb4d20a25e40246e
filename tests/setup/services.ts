// Finds the services the integration suites need and tells every suite (through `inject`).
// Without them `npm test` still passes on the embedded defaults and prints which suites it did not
// run; with RETRACK_REQUIRE_SERVICES=1 (set by .ci/run) a missing service fails the whole run.
// Debian's Chromium counts as a service: the console's browser test needs it (.ci/run installs it).
import { execFileSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import net from 'node:net'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { serviceUrls, type Services } from '../helpers/service-urls.js'

/** Where the browser suites find Chromium (Debian's package; playwright-core never downloads one). */
export const CHROMIUM_PATH = '/usr/bin/chromium'

export interface ProvidedServices extends Services {
  /** an executable Chromium at CHROMIUM_PATH */
  chromium: boolean
  /** the redis-server binary, for suites that start a private Redis and stop it under a running node */
  redisServer: boolean
}

declare module 'vitest' {
  export interface ProvidedContext { services: ProvidedServices }
}

async function postgresUp(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try { await client.connect(); await client.query('select 1'); return true } catch { return false } finally { await client.end().catch(() => undefined) }
}

function tcpUp(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port || defaultPort), timeout: 2000 })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => { socket.destroy(); resolve(false) })
  })
}

function executable(file: string): boolean {
  try { accessSync(file, constants.X_OK); return true } catch { return false }
}

function binary(name: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }); return true } catch { return false }
}

export default async function setup(project: TestProject) {
  const urls = serviceUrls()
  const services: ProvidedServices = {
    ...urls,
    postgres: await postgresUp(urls.postgresAdminUrl),
    redis: await tcpUp(urls.redisUrl, 6379),
    mosquitto: await tcpUp(urls.mosquittoUrl, 1883),
    mosquittoClients: binary('mosquitto_pub') && binary('mosquitto_sub'),
    chromium: executable(CHROMIUM_PATH),
    redisServer: binary('redis-server'),
  }
  project.provide('services', services)

  const missing = [
    !services.postgres && `PostgreSQL suites (nothing answers at ${new URL(urls.postgresAdminUrl).host})`,
    !services.redis && `Redis suites (nothing answers at ${new URL(urls.redisUrl).host})`,
    !services.mosquitto && `external-broker suites (no Mosquitto at ${new URL(urls.mosquittoUrl).host})`,
    !services.mosquittoClients && 'mosquitto_pub/mosquitto_sub interop suites (clients not installed)',
    !services.chromium && `browser end-to-end suites (no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium)`,
    !services.redisServer && 'Redis outage suites (no redis-server binary to start a private Redis: apt-get install -y redis-server)',
  ].filter((m): m is string => typeof m === 'string')

  if (missing.length === 0) {
    console.log('[services] PostgreSQL, Redis (and redis-server), Mosquitto, the mosquitto clients and Chromium are available: every suite runs')
    return
  }
  const message = `[services] NOT RUN: ${missing.join('; ')}`
  if (process.env.RETRACK_REQUIRE_SERVICES === '1') {
    throw new Error(`${message}. RETRACK_REQUIRE_SERVICES=1 forbids skipping them (start them with bash .ci/services.sh, or run bash .ci/run).`)
  }
  console.warn(`${message}. The embedded-default suites ran; start the services to run the rest.`)
}
