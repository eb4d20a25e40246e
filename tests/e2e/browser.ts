// Debian's Chromium driven by playwright-core (which never downloads a browser), and the console
// built from its sources when the build is missing or older than them.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type Browser, type BrowserContext } from 'playwright-core'
import { fromRoot } from '../../src/paths.js'
import { CHROMIUM_PATH } from '../setup/services.js'

/**
 * Exactly these switches (node-svc.md): without the background-networking ones Chromium dials
 * Google's hosts at start, and this machine's closed network refuses them.
 */
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
] as const

export interface Chromium { browser: Browser, close(): Promise<void> }

export async function launchChromium(): Promise<Chromium> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'retrack-chromium-'))
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Playwright's own defaults would add dozens of switches: pass ours, plus the pipe it talks over
    ignoreDefaultArgs: true,
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-pipe'],
  })
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined)
      rmSync(userDataDir, { recursive: true, force: true })
    },
  }
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])
const isLocal = (url: string) => {
  const u = new URL(url)
  return u.protocol === 'data:' || u.protocol === 'blob:' || LOCAL_HOSTS.has(u.hostname)
}

/**
 * Watches every request of the context (pages, workers, EventSource) and refuses any to another
 * host. Returns the list of offenders, which the test expects empty.
 */
export async function localOnly(context: BrowserContext): Promise<{ offenders: string[], seen: () => number }> {
  const offenders: string[] = []
  let seen = 0
  context.on('request', (request) => {
    seen++
    if (!isLocal(request.url())) offenders.push(request.url())
  })
  await context.route('**/*', (route) => (isLocal(route.request().url()) ? route.continue() : route.abort('blockedbyclient')))
  return { offenders, seen: () => seen }
}

function newestMtime(target: string): number {
  const s = statSync(target, { throwIfNoEntry: false })
  if (!s) return 0
  if (!s.isDirectory()) return s.mtimeMs
  return Math.max(s.mtimeMs, ...readdirSync(target).map((name) => newestMtime(path.join(target, name))))
}

/** Builds the console when console/dist is missing or older than any of its sources. */
export function ensureConsoleBuilt(): void {
  const built = statSync(fromRoot('console', 'dist', 'index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0
  const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'tsconfig.json'].map((p) => newestMtime(fromRoot('console', p)))
  if (built > Math.max(...sources)) return
  try {
    execFileSync('npm', ['run', 'build:console'], { cwd: fromRoot(), stdio: 'pipe', timeout: 120_000 })
  } catch (err) {
    const out = err as { stdout?: Buffer, stderr?: Buffer }
    throw new Error(`npm run build:console failed:\n${out.stdout?.toString() ?? ''}${out.stderr?.toString() ?? ''}`)
  }
}
