// Runs the real ReTrack entry point (src/main.ts) or the CLI as a child process and reports how it
// ended; starts a private redis-server that a test may stop (the machine's Redis is shared).
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import { fromRoot } from '../../../src/paths.js'

export interface Ended { code: number | null, signal: NodeJS.Signals | null, out: string, ms: number }

export interface Running {
  child: ChildProcess
  /** stdout and stderr so far */
  out: () => string
  /** resolves with the first JSON log line whose msg matches */
  waitFor: (msg: RegExp, timeoutMs?: number) => Promise<Record<string, unknown>>
  ended: Promise<Ended>
}

const quiet = { LOG_LEVEL: 'info', LOG_PRETTY: 'false', HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_PORT: '0', DATA_DIR: 'memory://' }

export function start(script: 'src/main.ts' | 'src/cli/retrack.ts', env: Record<string, string | undefined>, args: string[] = [], cwd = fromRoot()): Running {
  const started = Date.now()
  const merged: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', ...quiet, ...env }
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k]
  const child = spawn(process.execPath, ['--import', 'tsx', fromRoot(script), ...args], { cwd, env: merged, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const waiters: Array<{ msg: RegExp, resolve: (l: Record<string, unknown>) => void }> = []
  const check = () => {
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue
      let parsed: Record<string, unknown>
      try { parsed = JSON.parse(line) as Record<string, unknown> } catch { continue }
      for (const w of [...waiters]) if (w.msg.test(String(parsed['msg']))) { waiters.splice(waiters.indexOf(w), 1); w.resolve(parsed) }
    }
  }
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); check() })
  child.stderr.on('data', (c: Buffer) => { out += c.toString() })
  const ended = new Promise<Ended>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, out, ms: Date.now() - started })))
  return {
    child, out: () => out, ended,
    waitFor: (msg, timeoutMs = 60_000) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line ${msg} within ${timeoutMs} ms:\n${out}`)), timeoutMs)
      void ended.then((e) => { clearTimeout(timer); reject(new Error(`exited (${e.code ?? e.signal}) before ${msg}:\n${out}`)) })
      waiters.push({ msg, resolve: (l) => { clearTimeout(timer); resolve(l) } })
      check()
    }),
  }
}

/** Runs to the end (killed after timeoutMs). */
export async function run(script: 'src/main.ts' | 'src/cli/retrack.ts', env: Record<string, string | undefined>, args: string[] = [], timeoutMs = 60_000): Promise<Ended> {
  const r = start(script, env, args)
  const timer = setTimeout(() => r.child.kill('SIGKILL'), timeoutMs)
  try { return await r.ended } finally { clearTimeout(timer) }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)) })
    s.once('error', reject)
  })
}

/** A throwaway redis-server on a free port, without persistence, that a test may stop and start again. */
export async function privateRedis(): Promise<{ url: string, stop: () => Promise<void>, restart: () => Promise<void> }> {
  const port = await freePort()
  let child: ChildProcess
  let exited: Promise<void>
  const launch = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    exited = new Promise<void>((r) => child.once('exit', () => r()))
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((r) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true) }); s.once('error', () => r(false)) })
      if (up) return
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const stop = async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited } }
  await launch()
  return { url: `redis://127.0.0.1:${port}`, stop, restart: async () => { await stop(); await launch() } }
}

/** JSON log lines of an output. */
export const logLines = (out: string) => out.split('\n').flatMap((l) => { try { return [JSON.parse(l) as Record<string, unknown>] } catch { return [] } })
