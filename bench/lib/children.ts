// Child processes for benches that need a system under test or load generators in their own
// process: `node [flags] [--import tsx] <script>` with an IPC channel (TypeScript through tsx,
// compiled JavaScript as is), stdout watched for a ready line (and then drained, so a chatty child
// never blocks on a full pipe). Every child is registered for cleanup the moment it exists.
import { spawn, type ChildProcess } from 'node:child_process'
import { fromRoot } from '../../src/paths.js'
import { onCleanup } from './cleanup.js'

export interface ChildOptions {
  /** node flags before the script, e.g. ['--expose-gc'] (tsx is added for a .ts script) */
  nodeFlags?: string[]
  /** modules preloaded after tsx (`--import`), e.g. a debug hook */
  imports?: string[]
  args?: string[]
  env?: Record<string, string>
  /** resolves once stdout (or stderr) matches this */
  ready: RegExp
  readyTimeoutMs?: number
}

export class Child {
  private tail = ''

  constructor(readonly name: string, readonly proc: ChildProcess) {
    const keep = (chunk: Buffer) => { this.tail = (this.tail + chunk.toString()).slice(-4_000) }
    proc.stdout?.on('data', keep)
    proc.stderr?.on('data', keep)
  }

  get pid(): number { return this.proc.pid ?? -1 }
  get alive(): boolean { return this.proc.exitCode === null && this.proc.signalCode === null }
  /** the last few KB of its output, for error messages */
  get output(): string { return this.tail }

  /** Sends `message` over IPC and resolves with the next message the child sends back. */
  ask<T>(message: unknown, timeoutMs = 120_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { done(); reject(new Error(`${this.name}: no answer within ${timeoutMs} ms\n${this.tail}`)) }, timeoutMs)
      const onMessage = (m: unknown) => { done(); resolve(m as T) }
      const onExit = (code: number | null) => { done(); reject(new Error(`${this.name} exited (${code}) while asked\n${this.tail}`)) }
      const done = () => { clearTimeout(timer); this.proc.off('message', onMessage); this.proc.off('exit', onExit) }
      this.proc.on('message', onMessage)
      this.proc.once('exit', onExit)
      this.proc.send(message as object)
    })
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 3_000): Promise<void> {
    if (!this.alive) return
    const exited = new Promise((resolve) => this.proc.once('exit', resolve))
    this.proc.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL')
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }
}

export function startChild(name: string, script: string, options: ChildOptions): Promise<{ child: Child, match: RegExpExecArray }> {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : []
  const proc = spawn(process.execPath, [...(options.nodeFlags ?? []), ...loader, ...(options.imports ?? []).flatMap((m) => ['--import', fromRoot(m)]), fromRoot(script), ...(options.args ?? [])], {
    cwd: fromRoot(), env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  // both piped by the stdio option above
  const stdout = proc.stdout!, stderr = proc.stderr!
  const child = new Child(name, proc)
  onCleanup(() => child.stop(1_000))
  return new Promise((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(() => fail(new Error(`${name} not ready within ${options.readyTimeoutMs ?? 60_000} ms\n${child.output}`)), options.readyTimeoutMs ?? 60_000)
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-8_000)
      const match = options.ready.exec(seen)
      if (match) { cleanup(); resolve({ child, match }) }
    }
    // 'close', not 'exit': a child that prints its answer and exits must have its output read first
    const onExit = (code: number | null) => fail(new Error(`${name} exited (${code}) before it was ready\n${child.output}`))
    const cleanup = () => {
      clearTimeout(timer)
      stdout.off('data', onData)
      stderr.off('data', onData)
      proc.off('close', onExit)
    }
    const fail = (err: Error) => { cleanup(); void child.stop(0); reject(err) }
    stdout.on('data', onData)
    stderr.on('data', onData)
    proc.once('close', onExit)
  })
}
