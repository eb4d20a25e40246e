// Runs ReTrack as a real child process (for kill -9 tests) and reads its ports from its JSON log.
import { spawn, type ChildProcess } from 'node:child_process'
import { fromRoot } from '../../src/paths.js'

export interface ChildNode {
  process: ChildProcess
  httpPort: number
  mqttPort: number
  output: string[]
  kill(signal?: NodeJS.Signals): Promise<number | null>
}

export function spawnNode(env: Record<string, string>, timeoutMs = 60_000): Promise<ChildNode> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fromRoot('src/main.ts')], {
      cwd: fromRoot(), env: { ...process.env, LOG_LEVEL: 'info', LOG_PRETTY: 'false', HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_PORT: '0', DATA_DIR: 'memory://', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const output: string[] = []
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`node did not start:\n${output.join('')}`)) }, timeoutMs)
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    const onData = (chunk: Buffer) => {
      const text = chunk.toString()
      output.push(text)
      const match = /"http":(\d+),"mqtt":(\d+)/.exec(text)
      if (match) {
        clearTimeout(timer)
        resolve({
          process: child, httpPort: Number(match[1]), mqttPort: Number(match[2]), output,
          kill: async (signal = 'SIGKILL') => { child.kill(signal); return exited },
        })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (c: Buffer) => output.push(c.toString()))
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`node exited with ${code}:\n${output.join('')}`)) })
  })
}
